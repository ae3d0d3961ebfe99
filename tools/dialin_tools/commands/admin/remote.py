"""`--url`: the admin commands through a deployed stack's admin API (SigV4, with your AWS
credentials; no table access or PIN pepper needed), or through `dialin serve` (unsigned).

``RemoteAdmin`` answers the calls the admin commands make on ``dialin.admin.table.Admin``
(and on ``dialin.admin.lockouts``, for `dialin lockout`); the API runs the same admin core,
so checks and answers are the same.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from dialin.admin.checks import parse_time
from dialin.admin.lockouts import ATTESTED, LockoutState, check_caller
from dialin.admin.specs import NewPin
from dialin.core.errors import Conflict, DialinError, Invalid, NotFound
from dialin.core.records import DTMF, PinGrant, Route
from dialin_tools.lib.sigv4 import HttpResult, Signer, region_from_url, request_json

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ERRORS: dict[int, type[DialinError]] = {400: Invalid, 404: NotFound, 409: Conflict}


class RemoteAdmin:
    """The admin API at ``base`` (the stack's ApiBaseUrl, or `dialin serve`'s URL)."""

    def __init__(self, base: str, signer: Signer | None) -> None:
        self.base = base.rstrip("/").removesuffix("/admin")
        self.signer = signer
        self.clock = time.time

    def _call(self, method: str, path: str, payload: Any = None, query: dict[str, str] | None = None) -> Any:
        url = f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")
        result = request_json(method, url, payload, self.signer)
        body = result.json()
        if 200 <= result.status < 300 and isinstance(body, dict):
            return body
        raise _error(result, body)

    # Routes

    def add_route(self, route: Route, replace: bool = False) -> Route:
        body = {k: v for k, v in _route_body(route).items() if v not in ("", None)}
        if replace:
            return _route(self._call("PUT", f"/admin/routes/{quote(route.number)}", body))
        return _route(self._call("POST", "/admin/routes", body))

    def list_routes(self) -> tuple[list[Route], int]:
        body = self._call("GET", "/admin/routes")
        return [_route(r) for r in body["routes"]], int(body.get("unreadable", 0))

    def remove_route(self, number: str) -> Route:
        return _route(self._call("DELETE", f"/admin/routes/{quote(number)}"))

    # PINs

    def add_pin(self, spec: PinGrant, pin: str | None = None, length: int | None = None) -> NewPin:
        if pin is not None:
            raise Invalid("through the API PINs are always generated: leave out --pin")
        body: dict[str, Any] = {
            "room": spec.room,
            "identity": spec.identity or None,
            "number": spec.number or None,
            "valid_from": spec.valid_from,
            "valid_until": spec.valid_until,
            "label": spec.label or None,
            "on_duplicate": spec.on_duplicate,
            "length": length,
        }
        created = self._call("POST", "/admin/pins", {k: v for k, v in body.items() if v is not None})
        return NewPin(created["pin"], _grant(created), generated=True)

    def list_pins(self, room: str = "") -> tuple[list[tuple[PinGrant, int | None]], int]:
        if not room:
            raise Invalid("through the API, PINs are listed by room: give --room ROOM")
        body = self._call("GET", "/admin/pins", query={"room": room})
        return [(_grant(p), parse_time(p.get("expires_at"), "expires_at")) for p in body["pins"]], int(
            body.get("unreadable", 0)
        )

    def revoke_pin(self, value: str, *, hash_prefix: bool = False) -> PinGrant:
        """By its full id only (``--hash-prefix ID``): the API never sees a PIN to revoke by."""
        pin_id = value.strip().lower()
        if not hash_prefix or len(pin_id) != 64:
            raise Invalid(
                "through the API, revoke a PIN by its full id: --hash-prefix ID (`pin list --room`)"
            )
        self._call("DELETE", f"/admin/pins/{pin_id}")
        return PinGrant(pin_hash=pin_id, room="?")

    def import_rows(self, *args: Any, **kwargs: Any) -> Any:
        raise Invalid("import writes to a table (--stack or --local); through the API, add PINs one by one")

    # A caller's lockouts (checked here first: a bad number is refused before any request)

    def lockout_states(self, caller: str, number: str = "") -> list[LockoutState]:
        body = self._call("GET", "/admin/lockouts", query=_caller_query(caller, number))
        return [_lockout_state(counter) for counter in body["counters"]]

    def clear_lockouts(self, caller: str, number: str = "") -> int:
        return int(self._call("DELETE", "/admin/lockouts", query=_caller_query(caller, number))["cleared"])

    # A room's phone callers (`dialin callers`): the API alone holds the Twilio credentials.

    def call(self, method: str, path: str, payload: Any = None, query: dict[str, str] | None = None) -> Any:
        return self._call(method, path, payload, query)

    @staticmethod
    def caller_path(room: str, identity: str = "") -> str:
        """``/admin/rooms/{room}/callers[/{identity}]``, each name percent-encoded."""
        path = f"/admin/rooms/{quote(room, safe='')}/callers"
        return f"{path}/{quote(identity, safe='')}" if identity else path


def _caller_query(caller: str, number: str) -> dict[str, str]:
    check_caller(caller, number)
    return {"caller": caller, "number": number} if number else {"caller": caller}


def _lockout_state(body: dict[str, Any]) -> LockoutState:
    return LockoutState(
        scope=ATTESTED if body["scope"] == "attested" else str(body["number"]),
        failures=int(body["failures"]),
        locked_until=parse_time(body.get("locked_until"), "locked_until"),
    )


def _error(result: HttpResult, body: Any) -> DialinError:
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or result.body[:300] or "no answer")
    if result.status == 403:
        return DialinError(f"HTTP 403: {text}. Your AWS identity needs the stack's AdminPolicyArn policy.")
    kind = ERRORS.get(result.status, DialinError)
    return kind(
        f"HTTP {result.status}: {text}", (body or {}).get("field", "") if isinstance(body, dict) else ""
    )


def _route_body(route: Route) -> dict[str, Any]:
    return {
        "number": route.number,
        "mode": route.mode,
        "room": route.room,
        "identity_policy": route.identity_policy,
        "greeting": route.greeting,
        "voice": route.voice,
        "language": route.language,
        "attempts": route.attempts,
        "account": route.account,
        "pin_input": "" if route.pin_input == DTMF else route.pin_input,
        "prompts": dict(route.prompts) or None,
    }


def _route(body: dict[str, Any]) -> Route:
    fields = {k: v for k, v in body.items() if k in Route.__dataclass_fields__ and v is not None}
    return Route(**fields)


def _grant(body: dict[str, Any]) -> PinGrant:
    return PinGrant(
        pin_hash=body["id"],
        room=body["room"],
        identity=body.get("identity") or "",
        on_duplicate=body.get("on_duplicate") or "unique",
        number=body.get("number") or "",
        valid_from=parse_time(body.get("valid_from"), "valid_from"),
        valid_until=parse_time(body.get("valid_until"), "valid_until"),
        label=body.get("label") or "",
    )


def signer_for(url: str, session: Any, region: str = "") -> Signer | None:
    """No signature for `dialin serve` on this machine; SigV4 for anything else."""
    if (urlsplit(url).hostname or "") in LOOPBACK:
        return None
    credentials = session.get_credentials()
    if credentials is None:
        raise DialinError("no AWS credentials found to sign the request (aws configure, AWS_PROFILE)")
    region = region or region_from_url(url) or session.region_name or ""
    if not region:
        raise Invalid("cannot tell the API's region: give --region")
    return Signer(credentials, region)
