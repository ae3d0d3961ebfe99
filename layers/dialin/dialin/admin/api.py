"""The admin API (``/admin/...``, IAM-authorized): routes, PINs and a caller's lockouts through
the admin core, the same checks and write path as the CLI and bulk import. See docs/admin-api.md.

A router of our own (a dict of method and declared path) instead of
Powertools' APIGatewayRestResolver, whose import costs about 140 ms of cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..calls.steps import Urls
from ..core.errors import DialinError, Invalid
from ..core.records import PIN_MODE, Route
from ..edge import faults
from ..edge.apigateway import context_base_url, lower_headers, route_path
from ..edge.http import json_response
from ..edge.observability import count, logger
from ..guard.lockout import LockoutPolicy
from . import idempotency
from .callers import Callers, checked
from .checks import check_account
from .lockouts import clear_lockouts, lockout_states
from .payload import (
    PIN_FIELDS,
    ROUTE_FIELDS,
    Body,
    lockout_answer,
    pin_created,
    pin_listed,
    query,
    route_answer,
)
from .specs import language_note, make_pin_spec, make_route, on
from .table import Admin

ERROR_KINDS = {
    400: "invalid_request",
    404: "not_found",
    409: "conflict",
    422: "unprocessable",
    503: "unavailable",
}
MOVE_FIELDS = frozenset({"to"})
Answer = tuple[int, dict[str, Any]]


@dataclass
class AdminApp:
    admin: Admin
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)  # the stack's Lockout* parameters
    # The stack's further Twilio accounts (TwilioAccounts): with any, PINs and room operations
    # name their account, so tenants never meet.
    accounts: tuple[str, ...] = ()
    # A room's phone callers, through Twilio's Calls API (None: the routes answer 503).
    callers: Callers | None = None
    # The voice webhooks' public base URL (PublicBaseUrl): a moved call's wait step is under it.
    public_base_url: str = ""

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        method = str(event.get("httpMethod") or "")
        path = route_path(event)
        operation = ROUTES.get((method, path))
        if operation is None:
            return json_response(404, {"error": "not_found", "message": f"no route {method} {path}"})
        log = {"route": f"{method} {path}", "caller": _principal(event)}
        try:
            status, body = operation(self, event)
        except idempotency.AlreadyCreated as exc:
            logger.info("admin retry answered", extra={**log, "pin": exc.pin_id[:12]})
            return json_response(409, {**_error(exc), "pin_id": exc.pin_id})
        except DialinError as exc:
            logger.info("admin request refused", extra={**log, "status": exc.status, "field": exc.field})
            count("AdminRejected")
            return json_response(exc.status, _error(exc))
        except faults.SERVICE_FAULTS as exc:
            faults.report("admin", exc, **log)
            unavailable = {"error": "unavailable", "message": "the directory is unavailable; retry"}
            return json_response(503, unavailable)
        except Exception:
            logger.exception("admin request failed", extra=log)
            count("Errors")
            return json_response(500, {"error": "internal_error", "message": "the request failed"})
        logger.info("admin request", extra={**log, "status": status})
        return json_response(status, body)

    # PINs

    def create_pin(self, event: Mapping[str, Any]) -> Answer:
        body = Body(event, PIN_FIELDS)
        key = lower_headers(event).get("idempotency-key")
        spec = make_pin_spec(
            body.text("room"),
            identity=body.text("identity"),
            number=body.text("number"),
            valid_from=body.time("valid_from"),
            valid_until=body.time("valid_until"),
            label=body.text("label"),
            on_duplicate=body.text("on_duplicate", "unique"),
            now=self.admin.clock(),
        )
        account = self._account(body.text("account"))
        # Read before the write: a failed read answers 503 with nothing written, never after
        # a PIN that is live and was never shown.
        numbers = self._numbers(spec.number, account)
        new, entry = self.admin.create_pin(
            spec,
            length=body.integer("length"),
            ends_with_room=body.flag("ends_with_room"),
            account=account,
            idempotency_key=idempotency.scoped(_principal(event), idempotency.check_key(key))
            if key is not None
            else "",
            body_digest=idempotency.body_digest(body.data),
        )
        count("AdminPinsCreated")
        answer = pin_created(new, entry, numbers)
        if spec.number and not numbers:
            answer["warnings"] = [f"number {spec.number} has no PIN route: the PIN works once it has one"]
        return 201, answer

    def list_pins(self, event: Mapping[str, Any]) -> Answer:
        entries, unreadable = self.admin.room_pins(*self._room_query(event), self.accounts)
        return 200, {"pins": [pin_listed(e) for e in entries], "unreadable": unreadable}

    def revoke_room(self, event: Mapping[str, Any]) -> Answer:
        revoked = self.admin.revoke_room(*self._room_query(event), self.accounts)
        count("AdminPinsRevoked", len(revoked))
        return 200, {"revoked": [e.pin_id for e in revoked]}

    def revoke_pin(self, event: Mapping[str, Any]) -> Answer:
        grant = self.admin.revoke_pin_id(_path_parameter(event, "pin_id"))
        count("AdminPinsRevoked")
        return 200, {"revoked": [grant.pin_hash]}

    def _account(self, account: str) -> str:
        """The account a PIN or room operation names: checked; required on a stack of several."""
        if account:
            return on("account", check_account, account)
        if self.accounts:
            raise Invalid(
                "give the account (AccountSid): this stack serves several Twilio accounts", "account"
            )
        return ""

    def _room_query(self, event: Mapping[str, Any]) -> tuple[str, str]:
        """``?room=NAME`` and, on a stack of several accounts, ``&account=AC...``."""
        values = query(event, ("room", "account"))
        if not values["room"]:
            raise Invalid("give the room: ?room=NAME", "room")
        return values["room"], self._account(values["account"])

    def _numbers(self, scope: str, account: str) -> list[str]:
        """The PIN numbers a new PIN works on: its scope, or every PIN number (of its account)."""
        routes, _ = self.admin.list_routes()
        return [
            r.number
            for r in routes
            if r.mode == PIN_MODE
            and (not scope or r.number == scope)
            and (not account or not r.account or r.account == account)
        ]

    # Routes

    def list_routes(self, event: Mapping[str, Any]) -> Answer:
        routes, unreadable = self.admin.list_routes()
        return 200, {"routes": [route_answer(r) for r in routes], "unreadable": unreadable}

    def create_route(self, event: Mapping[str, Any]) -> Answer:
        return 201, _with_warnings(self.admin.add_route(_route(Body(event, ROUTE_FIELDS))))

    def replace_route(self, event: Mapping[str, Any]) -> Answer:
        body = Body(event, ROUTE_FIELDS)
        number = _path_parameter(event, "number")
        if body.data.get("number", number) != number:
            raise Invalid("number in the body differs from the number in the path", "number")
        body.data["number"] = number
        return 200, _with_warnings(self.admin.add_route(_route(body), replace=True))

    def remove_route(self, event: Mapping[str, Any]) -> Answer:
        return 200, route_answer(self.admin.remove_route(_path_parameter(event, "number")))

    # A caller's lockouts (the caller's number is never logged: ``handle`` logs no query)

    def list_lockouts(self, event: Mapping[str, Any]) -> Answer:
        states = lockout_states(self.admin, self.lockout, *_caller_query(event))
        locked = sum(state.locked_until is not None for state in states)
        return 200, {"counters": [lockout_answer(state) for state in states], "locked": locked}

    def clear_lockouts(self, event: Mapping[str, Any]) -> Answer:
        return 200, {"cleared": clear_lockouts(self.admin, *_caller_query(event))}

    # A room's phone callers (their numbers are never logged: only rooms and identities)

    def remove_caller(self, event: Mapping[str, Any]) -> Answer:
        account, room, identity = self._caller_path(event, with_identity=True)
        return 200, self._callers().remove(account, room, identity)

    def move_caller(self, event: Mapping[str, Any]) -> Answer:
        account, room, identity = self._caller_path(event, with_identity=True)
        to = checked(Body(event, MOVE_FIELDS).text("to"), "room", "to")
        return 200, self._callers().move(account, room, identity, to, self._urls(event))

    def move_callers(self, event: Mapping[str, Any]) -> Answer:
        account, room, _ = self._caller_path(event, with_identity=False)
        to = checked(Body(event, MOVE_FIELDS).text("to"), "room", "to")
        return 200, self._callers().move_all(account, room, to, self._urls(event))

    def _caller_path(self, event: Mapping[str, Any], with_identity: bool) -> tuple[str, str, str]:
        """The room (and identity) in the path, and ``?account=`` on a stack of several."""
        account = self._account(query(event, ("account",))["account"])
        room = checked(_path_parameter(event, "room"), "room", "room")
        identity = (
            checked(_path_parameter(event, "identity"), "identity", "identity") if with_identity else ""
        )
        return account, room, identity

    def _callers(self) -> Callers:
        if self.callers is None:
            raise _NoTwilio("the admin function has no Twilio credentials; retry later")
        return self.callers

    def _urls(self, event: Mapping[str, Any]) -> Urls:
        return Urls(context_base_url(event, self.public_base_url))


class _NoTwilio(DialinError):
    status = 503


def _with_warnings(route: Route) -> dict[str, Any]:
    """The saved route, with what it accepted but will not do as asked (an unknown language)."""
    answer = route_answer(route)
    note = language_note(route.language)
    if note:
        answer["warnings"] = [f"{note}; give the route its own texts in prompts"]
    return answer


def _error(exc: DialinError) -> dict[str, Any]:
    answer = {"error": ERROR_KINDS.get(exc.status, "invalid_request"), "message": exc.for_api()}
    if exc.field:
        answer["field"] = exc.field
    return answer


def _route(body: Body) -> Route:
    return make_route(
        body.text("number"),
        mode=body.text("mode", "direct"),
        room=body.text("room"),
        identity_policy=body.text("identity_policy", "last-digits"),
        greeting=body.text("greeting"),
        voice=body.text("voice"),
        language=body.text("language"),
        attempts=body.integer("attempts"),
        account=body.text("account"),
        pin_input=body.text("pin_input", "dtmf"),
        prompts=body.texts("prompts"),
    )


def _principal(event: Mapping[str, Any]) -> str:
    """Who signed the request, as IAM authorized it (its role or user ARN)."""
    return str(((event.get("requestContext") or {}).get("identity") or {}).get("userArn") or "")


def _caller_query(event: Mapping[str, Any]) -> tuple[str, str]:
    """``?caller=+1555...`` (or ``withheld``) and an optional ``&number=`` (one PIN number)."""
    values = query(event, ("caller", "number"))
    if not values["caller"]:
        raise Invalid("give the caller: ?caller=NUMBER (E.164, %2B for +), or ?caller=withheld", "caller")
    return values["caller"], values["number"]


def _path_parameter(event: Mapping[str, Any], name: str) -> str:
    """A path parameter; ``%2B15551230000`` and ``+15551230000`` both name the same number."""
    return unquote(str((event.get("pathParameters") or {}).get(name) or ""))


ROUTES: dict[tuple[str, str], Callable[[AdminApp, Mapping[str, Any]], Answer]] = {
    ("POST", "/admin/pins"): AdminApp.create_pin,
    ("GET", "/admin/pins"): AdminApp.list_pins,
    ("DELETE", "/admin/pins"): AdminApp.revoke_room,
    ("DELETE", "/admin/pins/{pin_id}"): AdminApp.revoke_pin,
    ("GET", "/admin/routes"): AdminApp.list_routes,
    ("POST", "/admin/routes"): AdminApp.create_route,
    ("PUT", "/admin/routes/{number}"): AdminApp.replace_route,
    ("DELETE", "/admin/routes/{number}"): AdminApp.remove_route,
    ("GET", "/admin/lockouts"): AdminApp.list_lockouts,
    ("DELETE", "/admin/lockouts"): AdminApp.clear_lockouts,
    ("DELETE", "/admin/rooms/{room}/callers/{identity}"): AdminApp.remove_caller,
    ("POST", "/admin/rooms/{room}/callers/{identity}/move"): AdminApp.move_caller,
    ("POST", "/admin/rooms/{room}/callers/move"): AdminApp.move_callers,
}
