"""Validated records: a route, and a PIN grant with its PIN (generated from ``secrets`` or
given), hashed with the pepper. The runtime's own reader reads back what is built here."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from ..dial_request import IDENTITY_PREFIX
from ..errors import Invalid
from ..pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, generate_pin, hash_pin
from ..records import (
    CALLER_IDENTITY_POLICIES,
    DIRECT,
    DUPLICATE_POLICIES,
    LAST_DIGITS,
    ROUTE_MODES,
    UNIQUE,
    MalformedRecord,
    PinGrant,
    Route,
)
from .checks import (
    MAX_GREETING,
    MAX_LABEL,
    MAX_LANGUAGE,
    MAX_VOICE,
    check_choice,
    check_name,
    check_number,
    check_pin,
    check_text,
    parse_attempts,
    parse_phone_limit,
    parse_time,
)

# DynamoDB's TTL deletes a PIN this long after its validity window ends; until then
# `pin list` still shows it as expired.
EXPIRY_GRACE_SECONDS = 86_400


def make_route(
    number: str,
    *,
    mode: str = DIRECT,
    room: str = "",
    identity_policy: str = LAST_DIGITS,
    greeting: str = "",
    voice: str = "",
    language: str = "",
    attempts: str | int | None = None,
    phone_limit: str | int | None = None,
) -> Route:
    """A validated route. A PIN number's room is optional: each PIN names its own."""
    check_number(number)
    check_choice(mode, "mode", ROUTE_MODES)
    if mode == DIRECT and not room:
        raise Invalid("a direct number needs a room (--room ROOM)")
    if room:
        check_name(room, "room")
    route = Route(
        number=number,
        mode=mode,
        room=room,
        identity_policy=check_choice(identity_policy, "identity policy", CALLER_IDENTITY_POLICIES),
        greeting=check_text(greeting, "greeting", MAX_GREETING),
        voice=check_text(voice, "voice", MAX_VOICE),
        language=check_text(language, "language", MAX_LANGUAGE),
        attempts=parse_attempts(attempts),
        phone_limit=parse_phone_limit(phone_limit),
    )
    try:  # the runtime's own reader must accept what we write
        return Route.from_item(route.to_item())
    except MalformedRecord as exc:
        raise Invalid(str(exc)) from None


def make_pin_spec(
    room: str,
    *,
    identity: str = "",
    number: str = "",
    valid_from: str | int | None = None,
    valid_until: str | int | None = None,
    label: str = "",
    on_duplicate: str = UNIQUE,
    now: float | None = None,
) -> PinGrant:
    """A validated grant without its PIN yet (``pin_hash`` is set by ``issue_pin``)."""
    check_name(room, "room")
    if identity:
        check_name(identity, "identity")
        if identity.startswith(IDENTITY_PREFIX):
            raise Invalid(f"identity may not start with {IDENTITY_PREFIX} (kept for dial-out's calls)")
    if number:
        check_number(number, "the PIN's number")
    start = parse_time(valid_from, "valid-from")
    end = parse_time(valid_until, "valid-until")
    if start is not None and end is not None and end <= start:
        raise Invalid("valid-until must be later than valid-from")
    if end is not None and end <= (time.time() if now is None else now):
        raise Invalid("valid-until is already past")
    return PinGrant(
        pin_hash="",
        room=room,
        identity=identity,
        number=number,
        valid_from=start,
        valid_until=end,
        label=check_text(label, "label", MAX_LABEL),
        on_duplicate=check_choice(on_duplicate, "on-duplicate", DUPLICATE_POLICIES),
    )


@dataclass(frozen=True)
class NewPin:
    pin: str  # shown once to the admin, never stored
    grant: PinGrant
    generated: bool

    @property
    def expires_at(self) -> int | None:
        until = self.grant.valid_until
        return None if until is None else until + EXPIRY_GRACE_SECONDS

    def item(self) -> dict[str, Any]:
        return self.grant.to_item(self.expires_at)


def issue_pin(
    spec: PinGrant,
    pepper: str,
    pin: str | None = None,
    *,
    min_length: int = MIN_PIN_LENGTH,
    length: int | None = None,
) -> NewPin:
    """The grant for ``pin``, or for a fresh PIN from ``secrets`` when none is given."""
    generated = pin is None
    if pin is None:
        size = length or min_length
        if not min_length <= size <= MAX_PIN_LENGTH:
            raise Invalid(f"PIN length must be {min_length} to {MAX_PIN_LENGTH} digits")
        pin = generate_pin(size)
    else:
        check_pin(pin, min_length)
    grant = replace(spec, pin_hash=hash_pin(pepper, pin))
    return NewPin(pin=pin, grant=PinGrant.from_item(grant.to_item()), generated=generated)
