"""The admin API's JSON: request bodies read field by field (a wrong type is a 400 naming
the field), query strings read the same way, and the answers for PINs, routes and a
caller's lockouts (never a stored PIN: there is none)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core.errors import BadRequest, Invalid
from ..core.records import Route
from ..core.validation import MAX_JSON_DEPTH, json_too_deep
from ..edge.apigateway import decoded_body
from ..rooms.pins import RoomPin
from .checks import format_time
from .lockouts import ATTESTED, LockoutState
from .specs import NewPin

PIN_FIELDS = frozenset(
    {
        "room",
        "identity",
        "number",
        "valid_from",
        "valid_until",
        "label",
        "on_duplicate",
        "length",
        "ends_with_room",
        "account",
    }
)
ROUTE_FIELDS = frozenset(
    {"number", "mode", "room", "identity_policy", "greeting", "voice", "language", "attempts", "account"}
    | {"pin_input", "prompts"}
)


class Body:
    """A JSON object body; each accessor checks one field's type."""

    def __init__(self, event: Mapping[str, Any], allowed: frozenset[str]) -> None:
        try:
            text = decoded_body(event) or "null"
        except BadRequest:
            raise Invalid("the body must be a JSON object", "body") from None
        if json_too_deep(text):
            raise Invalid(f"the body nests deeper than {MAX_JSON_DEPTH} levels", "body")
        try:
            data = json.loads(text)
        except ValueError:
            raise Invalid("the body must be a JSON object", "body") from None
        if not isinstance(data, dict):
            raise Invalid("the body must be a JSON object", "body")
        unknown = sorted(set(data) - allowed)
        if unknown:
            fields = ", ".join(sorted(allowed))
            raise Invalid(f"unknown field {unknown[0]!r}; fields are: {fields}", unknown[0])
        self.data = {name: value for name, value in data.items() if value is not None}

    def text(self, name: str, default: str = "") -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str):
            raise Invalid(f"{name} must be a string", name)
        return value

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise Invalid(f"{name} must be a whole number", name)
        return value

    def flag(self, name: str) -> bool:
        value = self.data.get(name, False)
        if not isinstance(value, bool):
            raise Invalid(f"{name} must be true or false", name)
        return value

    def texts(self, name: str) -> dict[str, str]:
        value = self.data.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise Invalid(f'{name} must be an object of texts, e.g. {{"PIN_PROMPT": "..."}}', name)
        return value

    def time(self, name: str) -> str | int | None:
        value = self.data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise Invalid(f"{name} must be an ISO-8601 time such as 2030-01-31T17:00:00Z", name)
        return value


def query(event: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters ``allowed`` ("" when absent): an unknown or repeated one is a 400.
    A ``+`` left unencoded arrives as a space (form encoding): the message says so."""
    single = event.get("queryStringParameters") or {}
    multi = event.get("multiValueQueryStringParameters") or {}
    for name in sorted({*single, *multi}):
        if name not in allowed:
            raise Invalid(f"unknown query parameter {name!r}; parameters are: {', '.join(allowed)}", name)
        if len(multi.get(name) or ()) > 1:
            raise Invalid(f"give {name} once", name)
    values = {name: str(single.get(name) or "") for name in allowed}
    for name, value in values.items():
        if value.startswith(" ") and value.strip().isdigit():
            raise Invalid(f"{name} starts with a space: write the + of an E.164 number as %2B", name)
    return values


def one_tap(number: str, pin: str) -> str:
    """What a phone dials in one tap: the number, a pause, the PIN and # (RFC 3966 style)."""
    return f"tel:{number},,{pin}#"


def _times(grant: Any, expires_at: int | None) -> dict[str, str | None]:
    return {
        "valid_from": format_time(grant.valid_from) or None,
        "valid_until": format_time(grant.valid_until) or None,
        "expires_at": format_time(expires_at) or None,
    }


def pin_listed(entry: RoomPin) -> dict[str, Any]:
    grant = entry.grant
    return {
        "id": entry.pin_id,
        "room": grant.room,
        "identity": grant.identity or None,
        "number": grant.number or None,
        "label": grant.label,
        "on_duplicate": grant.on_duplicate,
        "ends_with_room": entry.ends_with_room,
        "account": entry.account or None,
        "created_at": format_time(entry.created_at),
        **_times(grant, entry.expires_at),
    }


def pin_created(new: NewPin, entry: RoomPin, numbers: list[str]) -> dict[str, Any]:
    """The create answer: the PIN, once, with the numbers it works on and one-tap strings."""
    return {
        **pin_listed(entry),
        "pin": new.pin,
        "numbers": numbers,
        "dial": [one_tap(number, new.pin) for number in numbers],
    }


def route_answer(route: Route) -> dict[str, Any]:
    return {
        "number": route.number,
        "mode": route.mode,
        "room": route.room or None,
        "identity_policy": route.identity_policy,
        "greeting": route.greeting,
        "voice": route.voice,
        "language": route.language,
        "attempts": route.attempts,
        "account": route.account or None,
        "pin_input": route.pin_input,
        "prompts": dict(route.prompts),
    }


def lockout_answer(state: LockoutState) -> dict[str, Any]:
    """One counter of a caller: its scope (attested calls anywhere, or one PIN number)."""
    attested = state.scope == ATTESTED
    return {
        "scope": "attested" if attested else "number",
        "number": None if attested else state.scope,
        "failures": state.failures,
        "locked": state.locked_until is not None,
        "locked_until": format_time(state.locked_until) or None,
    }
