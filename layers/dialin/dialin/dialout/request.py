"""A dial-out request (POST /calls): its settings and its JSON body, checked before anything
reaches Twilio: the JSON shape, E.164 numbers, the destination allow-list and Video's name
limits. Pure: no Twilio client here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.config import api_base_url_setting, public_base_url_setting
from ..core.errors import BadRequest
from ..core.identity import DIALOUT_PREFIX, caller_identity
from ..core.records import LAST_DIGITS
from ..core.validation import (
    MAX_JSON_DEPTH,
    MAX_NAME_LENGTH,
    is_e164,
    json_too_deep,
    name_problem,
    new_name_problem,
)
from ..edge.apigateway import decoded_body

FIELDS = ("to", "room", "identity", "from", "caller", "language", "confirm", "announceRoom")
# Fields that take true or false; every other field is a string.
FLAGS = ("confirm", "announceRoom")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")
# How long the callee's phone rings before Twilio gives up (status no-answer).
RING_SECONDS = 30
EXAMPLE_NUMBER = "+14155550123"
PREFIX = re.compile(r"\+[0-9]{1,15}")
# Premium-rate and revenue-share ranges refused whatever the allow-list says (sources in
# docs/dial-out.md): NANP 900 and the 976 exchange of every area code (pattern below); UK
# 070 (personal numbering), 076 (pagers; not 07624, Isle of Man mobiles), 084 and 087
# (service charges), 09 (premium rate); France 089/081/082, Germany 0900/0137, Italy
# 899/892, Spain 80x/90[57], Australia 190; the satellite and international networks (+870,
# +881, +882, +883) and the international premium rate service (+979).
# fmt: off
PREMIUM_PREFIXES = (
    "+1900", "+449", "+4484", "+4487", "+4470", "+4476", "+3389", "+3381", "+3382", "+49900",
    "+49137", "+39899", "+39892", "+34803", "+34806", "+34807", "+34905", "+34907", "+61190",
    "+870", "+881", "+882", "+883", "+979",
)
# fmt: on
# NANP: exchange (NXX) 976 in any area code, the old local pay-per-call exchange.
PREMIUM_PATTERN = re.compile(r"^\+1[2-9][0-9]{2}976")
# Inside a premium prefix, ordinary numbers: Isle of Man mobiles (+44 7624).
NOT_PREMIUM_PREFIXES = ("+447624",)
# ITU-T E.164 country calling codes: 1 (NANP) and 7 have one digit, these have two, and
# every other code has three.
# fmt: off
TWO_DIGIT_CODES = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
})
# fmt: on


def country_code(number: str) -> str:
    """``+1`` for +14155550123, ``+44`` for +442071234567, ``+353`` for +35312345678."""
    if not is_e164(number):
        return ""
    digits = number[1:]
    if digits[0] in "17":
        return f"+{digits[0]}"
    if digits[:2] in TWO_DIGIT_CODES:
        return f"+{digits[:2]}"
    return f"+{digits[:3]}"


def area_prefix(number: str) -> str:
    """The default allow-list: the number's area, ``+1415`` for +14155550123 (NANP area
    code), else the country code and the first two national digits (``+4420``)."""
    code = country_code(number)
    if not code:
        return ""
    return number[: len(code) + (3 if code == "+1" else 2)]


def is_premium(number: str) -> bool:
    if number.startswith(NOT_PREMIUM_PREFIXES):
        return False
    return number.startswith(PREMIUM_PREFIXES) or PREMIUM_PATTERN.match(number) is not None


def parse_prefixes(raw: str) -> tuple[str, ...]:
    """``"+1, +4420"`` -> ``("+1", "+4420")``; malformed entries are dropped (fail closed)."""
    prefixes = (item.strip() for item in raw.split(","))
    return tuple(dict.fromkeys(p for p in prefixes if PREFIX.fullmatch(p)))


def parse_numbers(raw: str) -> tuple[str, ...]:
    numbers = (item.strip() for item in raw.split(","))
    return tuple(dict.fromkeys(n for n in numbers if is_e164(n)))


def _clamped(raw: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw), low), high) if raw.strip() else default
    except ValueError:
        return default


def _flag(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DialOutSettings:
    caller_number: str = ""  # the default `from`
    allowed_prefixes: tuple[str, ...] = ()  # `to` must start with one of these
    from_numbers: tuple[str, ...] = ()  # `from` must be one of these (the stack's numbers)
    room_pattern: str = ""  # a room must match it in full; empty: any room
    calls_per_hour: int = 60  # calls the stack places in any hour (a sliding one), at most
    public_base_url: str = ""  # base of our routes as Twilio requests them; empty: from the event
    dry_run: bool = False  # `dialin serve`: answer with the request instead of calling Twilio
    ring_seconds: int = RING_SECONDS
    # Replaces the base of every Twilio REST domain (a local stand-in); empty: Twilio.
    api_base_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DialOutSettings:
        env = os.environ if env is None else env
        caller = env.get("DIALOUT_CALLER_NUMBER", "").strip()
        caller = caller if is_e164(caller) else ""
        raw_prefixes = env.get("DIALOUT_ALLOWED_PREFIXES", "")
        if raw_prefixes.strip():
            prefixes = parse_prefixes(raw_prefixes)
        else:
            # Default: the caller number's own area.
            prefixes = (area_prefix(caller),) if caller else ()
        extra = parse_numbers(env.get("DIALOUT_FROM_NUMBERS", ""))
        return cls(
            caller_number=caller,
            allowed_prefixes=prefixes,
            from_numbers=tuple(dict.fromkeys((caller, *extra) if caller else extra)),
            room_pattern=env.get("DIALOUT_ROOM_PATTERN", "").strip(),
            calls_per_hour=_clamped(env.get("DIALOUT_CALLS_PER_HOUR", ""), 60, 0, 100_000),
            public_base_url=public_base_url_setting(env),
            dry_run=_flag(env.get("DIALOUT_DRY_RUN", "")),
            api_base_url=api_base_url_setting(env),
        )


class BadDialRequest(ValueError):
    """The request cannot be placed as a call; the message says why (no phone numbers in it)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DialRequest:
    to: str
    from_number: str
    room: str
    identity: str
    # The callee hears an invitation and presses 1 to join; False for trusted destinations.
    confirm: bool = True
    caller: str = ""  # who invites, said by name in the invitation
    announce_room: bool = False  # the invitation says the room's name
    language: str = ""  # the prompts' language (and default voice), e.g. de-DE


def _body_text(event: Mapping[str, Any]) -> str:
    try:
        return decoded_body(event)
    except BadRequest as exc:
        raise BadDialRequest(str(exc)) from None


def _phone_number(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = data.get(name) or default
    if not value:
        raise BadDialRequest(f"{name} is required (an E.164 number such as {EXAMPLE_NUMBER})", name)
    if not is_e164(value):
        raise BadDialRequest(f"{name} must be an E.164 number such as {EXAMPLE_NUMBER}", name)
    return value


def parse_request(event: Mapping[str, Any], settings: DialOutSettings, request_id: str) -> DialRequest:
    """The JSON body ``{"to", "room", "identity", "from"}``, checked; raises BadDialRequest."""
    text = _body_text(event)
    if json_too_deep(text):
        raise BadDialRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text)
    except ValueError:
        raise BadDialRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadDialRequest('the body must be a JSON object such as {"to": "+1...", "room": "..."}')
    unknown = sorted(str(name)[:40] for name in data if name not in FIELDS)
    if unknown:
        raise BadDialRequest(f"unknown field(s): {', '.join(unknown)}; expected {', '.join(FIELDS)}")
    for name in FIELDS:
        kind = bool if name in FLAGS else str
        if name in data and not isinstance(data[name], kind):
            raise BadDialRequest(f"{name} must be {'true or false' if kind is bool else 'a string'}", name)

    to = _phone_number(data, "to")
    if not settings.caller_number and not data.get("from"):
        raise BadDialRequest("from is required: the stack has no DialOutCallerNumber", "from")
    from_number = _phone_number(data, "from", settings.caller_number)
    if not settings.allowed_prefixes:
        raise BadDialRequest(
            "no destination is allowed: set the stack's DialOutAllowedPrefixes or DialOutCallerNumber", "to"
        )
    if not to.startswith(settings.allowed_prefixes):
        allowed = ", ".join(settings.allowed_prefixes)
        raise BadDialRequest(f"to is not an allowed destination (allowed prefixes: {allowed})", "to")
    if is_premium(to):
        raise BadDialRequest("to is a premium-rate number, which dial-out never calls", "to")
    if from_number not in settings.from_numbers:
        raise BadDialRequest(
            "from is not one of the stack's numbers (DialOutCallerNumber, DialOutFromNumbers)", "from"
        )

    if "room" not in data:
        raise BadDialRequest("room is required (the Video room's unique name)", "room")
    room = data["room"]
    problem = new_name_problem(room, "room")
    if problem:
        raise BadDialRequest(problem, "room")
    if not _room_allowed(room, settings.room_pattern):
        raise BadDialRequest("room is not one dial-out may join (DialOutRoomPattern)", "room")
    return DialRequest(
        to=to,
        from_number=from_number,
        room=room,
        identity=_identity(data, to, request_id),
        confirm=data.get("confirm", True),
        announce_room=data.get("announceRoom", False),
        **_invitation_fields(data),
    )


def _invitation_fields(data: Mapping[str, Any]) -> dict[str, str]:
    caller, language = data.get("caller", ""), data.get("language", "")
    if caller:
        problem = name_problem(caller, "caller")
        if problem:
            raise BadDialRequest(problem, "caller")
    if language and not LANGUAGE.match(language):
        raise BadDialRequest("language must be a language tag such as en-US or de-DE", "language")
    return {"caller": caller, "language": language}


def _room_allowed(room: str, pattern: str) -> bool:
    if not pattern:
        return True
    try:
        return re.fullmatch(pattern, room) is not None
    except re.error:
        return False  # a pattern that does not compile admits nothing


def _identity(data: Mapping[str, Any], to: str, request_id: str) -> str:
    """Always under DIALOUT_PREFIX, so no request can take a personal identity's place."""
    if "identity" not in data:
        return caller_identity(LAST_DIGITS, to, request_id, prefix=DIALOUT_PREFIX.rstrip("-"))
    identity = data["identity"]
    problem = new_name_problem(identity, "identity")
    if problem:
        raise BadDialRequest(problem, "identity")
    if not identity.startswith(DIALOUT_PREFIX):
        identity = DIALOUT_PREFIX + identity
    if len(identity) > MAX_NAME_LENGTH:
        longest = MAX_NAME_LENGTH - len(DIALOUT_PREFIX)
        reason = f"identity is longer than {longest} characters (dial-out identities start with"
        raise BadDialRequest(f"{reason} {DIALOUT_PREFIX})", "identity")
    return identity
