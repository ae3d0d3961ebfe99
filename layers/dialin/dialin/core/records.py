"""Directory records (routes and PIN grants) and their DynamoDB item format.

Keys: ``pk`` and ``sk``, both strings, as declared once in template.yaml (built by ``keys``).
  route: pk = ROUTE#<dialed number, E.164>, sk = ROUTE
  PIN:   pk = PIN#<hex HMAC-SHA256(pepper, PIN)>, sk = PIN
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .keys import PIN
from .keys import pin_key as pin_key  # re-exported, as is route_key
from .keys import route_key as route_key
from .validation import is_account_sid, is_e164, is_xml_text, name_problem

DIRECT = "direct"
PIN_MODE = "pin"
ROUTE_MODES = (DIRECT, PIN_MODE)
# Identity for callers without a personal identity (direct numbers, guest PINs).
LAST_DIGITS = "last-digits"
ANONYMOUS = "anonymous"
CALLER_IDENTITY_POLICIES = (LAST_DIGITS, ANONYMOUS)
# A personal identity used by two live calls: Twilio drops the older participant.
UNIQUE = "unique"  # each call gets the identity plus a short per-call suffix
REPLACE = "replace"  # the newer call takes over the identity (and drops a stale leg)
DUPLICATE_POLICIES = (UNIQUE, REPLACE)
MAX_ATTEMPTS = 10
# How a PIN number takes the PIN: the keypad, or the keypad and speech (Twilio's <Gather input>).
DTMF = "dtmf"
DTMF_SPEECH = "dtmf speech"
PIN_INPUTS = (DTMF, DTMF_SPEECH)
# Twilio's cap on phone participants in one room; a route may set a lower one.
MAX_PHONE_LIMIT = 35


class MalformedRecord(ValueError):
    """An item in the table that does not have the documented shape."""


def _text(item: Mapping[str, Any], name: str, default: str = "") -> str:
    if name not in item:
        return default
    value = item[name]
    if not isinstance(value, dict) or not isinstance(value.get("S"), str):
        raise MalformedRecord(f"attribute {name} is not a string")
    return value["S"]


def number_attribute(item: Mapping[str, Any], name: str) -> int | None:
    if name not in item:
        return None
    value = item[name]
    if not isinstance(value, dict) or "N" not in value:
        raise MalformedRecord(f"attribute {name} is not a number")
    try:
        return int(float(value["N"]))
    except (TypeError, ValueError) as exc:
        raise MalformedRecord(f"attribute {name} is not a number") from exc


def _choice(item: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(item, name, default) or default
    if value not in choices:
        raise MalformedRecord(f"attribute {name} must be one of {', '.join(choices)}")
    return value


def _room(item: Mapping[str, Any], required: bool) -> str:
    room = _text(item, "room")
    if room or required:
        problem = name_problem(room, "room")
        if problem:
            raise MalformedRecord(problem)
    return room


def _prompts(item: Mapping[str, Any]) -> dict[str, str]:
    """A route's own prompt texts, by prompt name (``PIN_PROMPT``): a map of strings."""
    if "prompts" not in item:
        return {}
    value = item["prompts"]
    if not isinstance(value, dict) or not isinstance(value.get("M"), dict):
        raise MalformedRecord("attribute prompts is not a map")
    texts = {name: _text(value["M"], name) for name in value["M"]}
    if not all(name.isascii() and name.isidentifier() and is_xml_text(text) for name, text in texts.items()):
        raise MalformedRecord("prompts contains a name or text TwiML cannot carry")
    return texts


@dataclass(frozen=True)
class Route:
    number: str
    mode: str = DIRECT
    room: str = ""
    identity_policy: str = LAST_DIGITS
    greeting: str = ""
    voice: str = ""
    language: str = ""
    attempts: int | None = None
    pin_input: str = DTMF
    prompts: Mapping[str, str] = field(default_factory=dict)  # prompt name -> the route's own text
    account: str = ""  # the Twilio account (AccountSid) whose calls it answers; empty: any
    phone_limit: int | None = None  # phone callers the room takes (room-aware joining)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Route:
        number = _text(item, "number")
        if not is_e164(number):
            raise MalformedRecord("route number is not E.164")
        mode = _choice(item, "mode", ROUTE_MODES, DIRECT)
        attempts = number_attribute(item, "attempts")
        if attempts is not None and not 1 <= attempts <= MAX_ATTEMPTS:
            raise MalformedRecord(f"attempts must be 1 to {MAX_ATTEMPTS}")
        phone_limit = number_attribute(item, "phone_limit")
        if phone_limit is not None and not 1 <= phone_limit <= MAX_PHONE_LIMIT:
            raise MalformedRecord(f"phone_limit must be 1 to {MAX_PHONE_LIMIT}")
        spoken = {name: _text(item, name) for name in ("greeting", "voice", "language")}
        for name, value in spoken.items():
            if not is_xml_text(value):
                raise MalformedRecord(f"{name} contains characters TwiML cannot carry")
        account = _text(item, "account")
        if account and not is_account_sid(account):
            raise MalformedRecord("route account is not an AccountSid")
        return cls(
            number=number,
            mode=mode,
            room=_room(item, required=mode == DIRECT),
            identity_policy=_choice(item, "identity_policy", CALLER_IDENTITY_POLICIES, LAST_DIGITS),
            attempts=attempts,
            pin_input=_choice(item, "pin_input", PIN_INPUTS, DTMF),
            prompts=_prompts(item),
            account=account,
            phone_limit=phone_limit,
            **spoken,
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            **route_key(self.number),
            "type": {"S": "route"},
            "number": {"S": self.number},
            "mode": {"S": self.mode},
            "identity_policy": {"S": self.identity_policy},
        }
        for name in ("room", "greeting", "voice", "language", "account"):
            if getattr(self, name):
                item[name] = {"S": getattr(self, name)}
        if self.attempts is not None:
            item["attempts"] = {"N": str(self.attempts)}
        if self.pin_input != DTMF:
            item["pin_input"] = {"S": self.pin_input}
        if self.prompts:
            item["prompts"] = {"M": {name: {"S": text} for name, text in sorted(self.prompts.items())}}
        if self.phone_limit is not None:
            item["phone_limit"] = {"N": str(self.phone_limit)}
        return item


@dataclass(frozen=True)
class PinGrant:
    pin_hash: str
    room: str
    identity: str = ""  # empty: a guest PIN, the caller gets a generated identity
    on_duplicate: str = UNIQUE
    number: str = ""  # empty: valid on every PIN number
    valid_from: int | None = None
    valid_until: int | None = None
    label: str = ""
    account: str = ""  # the Twilio account whose calls it admits; empty: the stack's main account

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> PinGrant:
        pk = _text(item, "pk")
        if not pk.startswith(PIN):
            raise MalformedRecord("PIN key has the wrong prefix")
        identity = _text(item, "identity")
        if identity:
            problem = name_problem(identity, "identity")
            if problem:
                raise MalformedRecord(problem)
        number = _text(item, "number")
        if number and not is_e164(number):
            raise MalformedRecord("PIN number scope is not E.164")
        account = _text(item, "account")
        if account and not is_account_sid(account):
            raise MalformedRecord("PIN account is not an AccountSid")
        return cls(
            pin_hash=pk[len(PIN) :],
            room=_room(item, required=True),
            identity=identity,
            on_duplicate=_choice(item, "on_duplicate", DUPLICATE_POLICIES, UNIQUE),
            number=number,
            valid_from=number_attribute(item, "valid_from"),
            valid_until=number_attribute(item, "valid_until"),
            label=_text(item, "label"),
            account=account,
        )

    def to_item(self, expires_at: int | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            **pin_key(self.pin_hash),
            "type": {"S": "pin"},
            "room": {"S": self.room},
            "on_duplicate": {"S": self.on_duplicate},
        }
        for name in ("identity", "number", "label", "account"):
            if getattr(self, name):
                item[name] = {"S": getattr(self, name)}
        for name in ("valid_from", "valid_until"):
            if getattr(self, name) is not None:
                item[name] = {"N": str(getattr(self, name))}
        if expires_at is not None:
            item["expires_at"] = {"N": str(expires_at)}
        return item

    def of_account(self, account: str, further: tuple[str, ...]) -> bool:
        """The PIN is one of ``account``'s: named so, or named by none and ``account`` is not
        one of the stack's further accounts (TwilioAccounts): a PIN without an account is the
        main account's. Another tenant's PIN is unknown on this tenant's calls."""
        return self.account == account or (not self.account and account not in further)

    def usable(self, dialed: str, now: float) -> bool:
        """The grant admits a caller on ``dialed`` at ``now``."""
        if self.number and self.number != dialed:
            return False
        if self.valid_from is not None and now < self.valid_from:
            return False
        return self.valid_until is None or now < self.valid_until
