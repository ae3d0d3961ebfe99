"""Validated records: a route, and a PIN grant with its PIN (generated from ``secrets`` or
given), hashed with the pepper. The runtime's own reader reads back what is built here."""

from __future__ import annotations

import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ..core.errors import Invalid
from ..core.identity import DIALOUT_PREFIX
from ..core.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, generate_pin, hash_pin
from ..core.records import (
    CALLER_IDENTITY_POLICIES,
    DIRECT,
    DTMF,
    DUPLICATE_POLICIES,
    LAST_DIGITS,
    PIN_INPUTS,
    ROUTE_MODES,
    UNIQUE,
    MalformedRecord,
    PinGrant,
    Route,
)
from ..speech.prompts import CATALOGUES, ENGLISH, PROMPT_NAMES, is_supported
from .checks import (
    MAX_GREETING,
    MAX_LABEL,
    MAX_LANGUAGE,
    MAX_VOICE,
    check_account,
    check_choice,
    check_name,
    check_number,
    check_pin,
    check_text,
    parse_attempts,
    parse_phone_limit,
    parse_time,
)

FIELD_NUMBER = "number"
T = TypeVar("T")


def on(field: str, check: Callable[..., T], *args: Any) -> T:
    """``check(*args)``, its ``Invalid`` naming ``field`` (the API answers it as a 400)."""
    try:
        return check(*args)
    except Invalid as exc:
        if exc.field:
            raise
        raise Invalid(str(exc), field) from None


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
    pin_input: str = DTMF,
    prompts: Mapping[str, str] | None = None,
    account: str = "",
    phone_limit: str | int | None = None,
) -> Route:
    """A validated route. A PIN number's room is optional: each PIN names its own."""
    on(FIELD_NUMBER, check_number, number)
    on("mode", check_choice, mode, "mode", ROUTE_MODES)
    if mode == DIRECT and not room:
        raise Invalid("a direct number needs a room", "room", cli_hint="--room ROOM")
    if room:
        on("room", check_name, room, "room")
    if mode == DIRECT and pin_input != DTMF:
        raise Invalid(
            "a spoken PIN applies to PIN numbers", "pin_input", cli_hint="--pin", api_hint='mode "pin"'
        )
    route = Route(
        number=number,
        mode=mode,
        room=room,
        identity_policy=on(
            "identity_policy", check_choice, identity_policy, "identity policy", CALLER_IDENTITY_POLICIES
        ),
        greeting=on("greeting", check_text, greeting, "greeting", MAX_GREETING),
        voice=on("voice", check_text, voice, "voice", MAX_VOICE),
        language=on("language", check_text, language, "language", MAX_LANGUAGE),
        attempts=on("attempts", parse_attempts, attempts),
        account=on("account", check_account, account) if account else "",
        phone_limit=on("phone_limit", parse_phone_limit, phone_limit),
        pin_input=on("pin_input", check_choice, pin_input, "PIN input", PIN_INPUTS),
        prompts=on("prompts", check_prompts, prompts or {}),
    )
    try:  # the runtime's own reader must accept what we write
        return Route.from_item(route.to_item())
    except MalformedRecord as exc:
        raise Invalid(str(exc)) from None


def _placeholders(text: str, name: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        raise Invalid(f"prompt {name} has a stray {{ or }}") from None


def check_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    """A route's own prompt texts, by name (``PIN_PROMPT``), checked like the greeting."""
    checked = {}
    for name, text in prompts.items():
        if name not in PROMPT_NAMES:
            raise Invalid(f"unknown prompt {name[:40]!r}; prompts are: {', '.join(PROMPT_NAMES)}")
        if not isinstance(text, str) or not text.strip():
            raise Invalid(f"prompt {name} needs a text")
        check_text(text, f"prompt {name}", MAX_GREETING)
        expected = _placeholders(CATALOGUES[ENGLISH][name], name)
        if not expected and ("{" in text or "}" in text):
            raise Invalid(f"prompt {name} cannot contain {{ or }}")
        if _placeholders(text, name) != expected:
            wanted = ", ".join(f"{{{p}}}" for p in sorted(expected)) or "no placeholders"
            raise Invalid(f"prompt {name} must have {wanted}")
        checked[name] = text
    return checked


def language_note(language: str) -> str:
    """What an admin should know about a route's language: empty when prompts speak it."""
    if is_supported(language):
        return ""
    spoken = ", ".join(sorted(CATALOGUES))
    return f"no prompts in {language}: callers hear English prompts (catalogues: {spoken})"


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
    on("room", check_name, room, "room")
    if identity:
        on("identity", check_name, identity, "identity")
        if identity.startswith(DIALOUT_PREFIX):
            raise Invalid(
                f"identity may not start with {DIALOUT_PREFIX} (kept for dial-out's calls)", "identity"
            )
    if number:
        on(FIELD_NUMBER, check_number, number, "the PIN's number")
    start = on("valid_from", parse_time, valid_from, "valid-from")
    end = on("valid_until", parse_time, valid_until, "valid-until")
    if start is not None and end is not None and end <= start:
        raise Invalid("valid-until must be later than valid-from", "valid_until")
    if end is not None and end <= (time.time() if now is None else now):
        raise Invalid("valid-until is already past", "valid_until")
    return PinGrant(
        pin_hash="",
        room=room,
        identity=identity,
        number=number,
        valid_from=start,
        valid_until=end,
        label=on("label", check_text, label, "label", MAX_LABEL),
        on_duplicate=on("on_duplicate", check_choice, on_duplicate, "on-duplicate", DUPLICATE_POLICIES),
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
            raise Invalid(f"PIN length must be {min_length} to {MAX_PIN_LENGTH} digits", "length")
        pin = generate_pin(size)
    else:
        on("pin", check_pin, pin, min_length)
    grant = replace(spec, pin_hash=hash_pin(pepper, pin))
    return NewPin(pin=pin, grant=PinGrant.from_item(grant.to_item()), generated=generated)
