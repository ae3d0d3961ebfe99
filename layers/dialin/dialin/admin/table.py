"""Route and PIN administration on the directory table: validate everything, then write.

The DynamoDB client is injected (moto in tests, the embedded table of `dialin serve`, or a
deployed stack's table). Writes that could clash are conditional, so a rejected command
changes nothing: a PIN already in use, a number that already has a route, or, for a bulk
import, any bad row at all (the whole file is checked before the first write).
PINs are stored only as HMAC-SHA256(pepper, PIN); a new PIN is returned once to be shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..core.errors import Conflict, Invalid, NotFound
from ..core.keys import membership_key, pin_key, route_key
from ..core.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, RECOMMENDED_PIN_LENGTH, hash_pin
from ..core.records import MalformedRecord, PinGrant, Route, number_attribute
from ..edge.dynamo import TRANSACTION_CANCELED, error_code, is_conditional_failure, items
from ..rooms.pins import RoomPin, delete_entries, delete_pin_actions, room_pins
from . import idempotency
from .bulk import ImportPlan, Row, plan_import, raise_problems, read_rows
from .checks import check_existing_name, check_number
from .specs import NewPin, issue_pin, on

HASH_SHOWN = 12  # hex characters of a PIN's hash shown by `pin list`
MIN_HASH_PREFIX = 8  # shortest hash prefix `pin revoke` accepts
GENERATE_TRIES = 5  # fresh PINs drawn when a generated one is already in use
TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit (even: a PIN and its membership go together)
BATCH_GET_KEYS = 100
MAX_BATCH_ROUNDS = 10
NOT_EXISTS = "attribute_not_exists(pk)"
EXISTS = "attribute_exists(pk)"


class Admin:
    """Admin operations on one table. ``pepper`` is read only when a PIN is hashed."""

    def __init__(
        self,
        client: Any,
        table: str,
        pepper: str | Callable[[], str],
        *,
        min_pin_length: int = MIN_PIN_LENGTH,
        pin_length: int = RECOMMENDED_PIN_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self._pepper = pepper
        self.min_pin_length = min_pin_length
        # Length of generated PINs when none is asked for (never below the minimum).
        self.pin_length = min(max(pin_length, min_pin_length), MAX_PIN_LENGTH)
        self.clock = clock

    @property
    def pepper(self) -> str:
        if callable(self._pepper):
            self._pepper = self._pepper()
        return self._pepper

    # Routes

    def add_route(self, route: Route, replace: bool = False) -> Route:
        extra = {} if replace else {"ConditionExpression": NOT_EXISTS}
        try:
            self.client.put_item(TableName=self.table, Item=route.to_item(), **extra)
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise Conflict(
                    "that number already has a route; nothing was changed",
                    cli_hint="use --replace to overwrite it, or `dialin route remove` it first",
                    api_hint="PUT /admin/routes/{number} replaces it",
                ) from None
            raise
        return route

    def list_routes(self) -> tuple[list[Route], int]:
        """Routes sorted by number, and how many items could not be read."""
        routes, bad = self._read("route", Route.from_item)
        return sorted(routes, key=lambda r: r.number), bad

    def remove_route(self, number: str) -> Route:
        on("number", check_number, number)
        old = self._delete(route_key(number))
        if old is None:
            raise NotFound("no route for that number; nothing was changed", "number")
        return Route.from_item(old)

    # PINs

    def add_pin(self, spec: PinGrant, pin: str | None = None, length: int | None = None) -> NewPin:
        return self.create_pin(spec, pin, length)[0]

    def create_pin(
        self,
        spec: PinGrant,
        pin: str | None = None,
        length: int | None = None,
        *,
        ends_with_room: bool = False,
        account: str = "",
        idempotency_key: str = "",
        body_digest: str = "",
    ) -> tuple[NewPin, RoomPin]:
        """Write a PIN and its room's membership item in one transaction (with the
        idempotency record when a key is given); a generated PIN already in use is drawn anew."""
        tries = 1 if pin is not None else GENERATE_TRIES
        account = account or spec.account
        spec = replace(spec, account=account)  # the PIN item names its account, as its membership does
        for _ in range(tries):
            size = length or self.pin_length
            new = issue_pin(spec, self.pepper, pin, min_length=self.min_pin_length, length=size)
            moment = self.clock()
            now = int(moment)
            entry = RoomPin(new.grant, now, ends_with_room, account, new.expires_at, int(moment * 1000))
            actions = [self._put_new(new.item()), {"Put": {"TableName": self.table, "Item": entry.to_item()}}]
            if idempotency_key:
                actions.append(
                    idempotency.put_action(self.table, idempotency_key, new.grant.pin_hash, now, body_digest)
                )
            try:
                self.client.transact_write_items(TransactItems=actions)
            except ClientError as exc:
                if idempotency_key and is_conditional_failure(exc, action=2):
                    raise idempotency.AlreadyCreated(
                        idempotency.recorded_pin(self.client, self.table, idempotency_key, body_digest)
                    ) from None
                if not is_conditional_failure(exc, action=0):
                    raise
                continue
            return new, entry
        if pin is not None:
            raise Conflict("that PIN is already in use; choose another (nothing was changed)", "pin")
        raise Conflict(
            f"{tries} generated PINs were all in use; try a longer one",
            "length",
            cli_hint="--length",
            api_hint="length",
        )

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": NOT_EXISTS}}

    def list_pins(self, room: str = "") -> tuple[list[tuple[PinGrant, int | None]], int]:
        """Grants with their TTL, sorted by room and identity, and how many items were unreadable.
        With ``room``, that room's PINs from its membership items (no scan)."""
        if room:
            entries, unreadable = self.room_pins(room)
            return [(e.grant, e.expires_at) for e in entries], unreadable
        pins, bad = self._read("pin", lambda item: (PinGrant.from_item(item), _expires(item)))
        return sorted(pins, key=lambda p: (p[0].room, p[0].identity, p[0].pin_hash)), bad

    def revoke_pin(self, pin_or_hash: str, *, hash_prefix: bool = False) -> PinGrant:
        """Delete a grant, named by its PIN, or with ``hash_prefix`` by a prefix of its hash
        (as `pin list` shows). A PIN that matches nothing is never read as a hash prefix:
        it could name another PIN."""
        value = pin_or_hash.strip()
        if not hash_prefix:
            if not (value.isascii() and value.isdigit() and len(value) <= MAX_PIN_LENGTH):
                raise Invalid("give the PIN (digits), or a hash prefix", cli_hint="with --hash-prefix")
            old = self._delete_pin(hash_pin(self.pepper, value))
            if old is None:
                raise NotFound("no PIN matches; nothing was changed")
            return old
        prefix = value.lower()
        if len(prefix) < MIN_HASH_PREFIX or any(ch not in "0123456789abcdef" for ch in prefix):
            raise NotFound(f"give at least {MIN_HASH_PREFIX} characters of the hash `dialin pin list` shows")
        matches = [g for g, _ in self.list_pins()[0] if g.pin_hash.startswith(prefix)]
        if not matches:
            raise NotFound("no PIN matches that hash; nothing was changed")
        if len(matches) > 1:
            raise Invalid("more than one PIN matches that hash prefix; give more characters")
        old = self._delete_pin(matches[0].pin_hash)
        if old is None:
            raise NotFound("that PIN was revoked meanwhile")
        return old

    def revoke_pin_id(self, pin_id: str) -> PinGrant:
        """Delete a grant named by its full id (the hex hash the API shows)."""
        if len(pin_id) != 64 or any(ch not in "0123456789abcdef" for ch in pin_id):
            raise Invalid("a PIN id is the 64 hex characters a create or a listing answered", "pin_id")
        old = self._delete_pin(pin_id)
        if old is None:
            raise NotFound("no PIN has that id; nothing was changed", "pin_id")
        return old

    def room_pins(
        self, room: str, account: str = "", further: tuple[str, ...] = ()
    ) -> tuple[list[RoomPin], int]:
        """A room's PINs from its membership items (a Query, no scan); never the PIN itself.
        With ``account``, only that account's (``further``: the stack's TwilioAccounts)."""
        entries, unreadable = room_pins(self.client, self.table, check_existing_name(room, "room"))
        if account:
            entries = [e for e in entries if e.of_account(account, further)]
        return entries, unreadable

    def revoke_room(self, room: str, account: str = "", further: tuple[str, ...] = ()) -> list[RoomPin]:
        """Delete every PIN of a room (of ``account``, when given) with its membership item;
        returns those deleted."""
        entries, _ = self.room_pins(room, account, further)
        return delete_entries(self.client, self.table, entries, lambda e: delete_pin_actions(self.table, e))

    def _delete_pin(self, pin_hash: str) -> PinGrant | None:
        """Delete a PIN and its room's membership item together (None: no such PIN)."""
        key = pin_key(pin_hash)
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        grant = PinGrant.from_item(item)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": self.table, "Key": key, "ConditionExpression": EXISTS}},
                    {"Delete": {"TableName": self.table, "Key": membership_key(grant.room, pin_hash)}},
                ]
            )
        except ClientError as exc:
            if is_conditional_failure(exc, action=0):
                return None  # revoked meanwhile
            raise
        return grant

    # Bulk import

    def import_rows(
        self,
        rows: list[Row],
        replace_routes: bool = False,
        before_write: Callable[[ImportPlan], None] | None = None,
    ) -> ImportPlan:
        """Check every row, then write. ``before_write`` sees the checked plan (with its
        generated PINs) before anything is written, so an import that fails half-way can
        leave no live PIN that was never shown."""
        plan = plan_import(rows, self.pepper, self.min_pin_length, self.clock(), pin_length=self.pin_length)
        self._check_existing(plan, replace_routes)
        if before_write is not None:
            before_write(plan)
        # Each PIN beside its membership item, pairs first, so no chunk of 100 splits a pair.
        now = int(self.clock())
        puts: list[dict[str, Any]] = []
        for _, new in plan.pins:
            entry = RoomPin(new.grant, now, expires_at=new.expires_at)
            puts += [self._put_new(new.item()), {"Put": {"TableName": self.table, "Item": entry.to_item()}}]
        route_condition = {} if replace_routes else {"ConditionExpression": NOT_EXISTS}
        puts += [
            {"Put": {"TableName": self.table, "Item": route.to_item(), **route_condition}}
            for _, route in plan.routes
        ]
        # Atomic up to 100 items; a larger file is written in transactions of 100 after the
        # checks above, so only a concurrent change could leave it partly written.
        for start in range(0, len(puts), TRANSACTION_ITEMS):
            try:
                self.client.transact_write_items(TransactItems=puts[start : start + TRANSACTION_ITEMS])
            except ClientError as exc:
                if error_code(exc) == TRANSACTION_CANCELED:
                    written = (
                        f"; the first {start} items (PINs in file order, each with its room entry, "
                        "then routes) were written"
                        if start
                        else "; nothing was written"
                    )
                    raise Conflict(
                        f"a route or PIN was added by someone else during the import{written}"
                    ) from None
                raise
        return plan

    def import_file(
        self,
        path: Path,
        replace_routes: bool = False,
        before_write: Callable[[ImportPlan], None] | None = None,
    ) -> ImportPlan:
        return self.import_rows(read_rows(path), replace_routes, before_write)

    def _check_existing(self, plan: ImportPlan, replace_routes: bool) -> None:
        problems = []
        if not replace_routes:
            taken = self._existing([route_key(r.number) for _, r in plan.routes])
            problems += [
                f"{where}: the number already has a route (use --replace to overwrite routes)"
                for where, r in plan.routes
                if route_key(r.number)["pk"]["S"] in taken
            ]
        for round_ in range(GENERATE_TRIES):
            taken = self._existing([pin_key(new.grant.pin_hash) for _, new in plan.pins])
            in_file = {new.grant.pin_hash for _, new in plan.pins}
            redraw = False
            for index, (where, new) in enumerate(plan.pins):
                if pin_key(new.grant.pin_hash)["pk"]["S"] not in taken:
                    continue
                if not new.generated:
                    if round_ == 0:
                        problems.append(f"{where}: that PIN is already in use")
                    continue
                fresh = issue_pin(new.grant, self.pepper, min_length=self.min_pin_length)
                if fresh.grant.pin_hash not in in_file:
                    plan.pins[index] = (where, fresh)
                    in_file.add(fresh.grant.pin_hash)
                redraw = True  # check the new draws (or draw again) in the next round
            if not redraw:
                break
        raise_problems(problems)

    def _existing(self, keys: list[dict[str, Any]]) -> set[str]:
        """The ``pk`` of those keys that are already in the table."""
        found: set[str] = set()
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request = {
                self.table: {"Keys": keys[start : start + BATCH_GET_KEYS], "ProjectionExpression": "pk"}
            }
            for _ in range(MAX_BATCH_ROUNDS):
                response = self.client.batch_get_item(RequestItems=request)
                found.update(item["pk"]["S"] for item in response.get("Responses", {}).get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.2)
            else:
                raise Conflict("DynamoDB kept deferring reads (throttled); nothing was written, try again")
        return found

    def _delete(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self.client.delete_item(
                TableName=self.table, Key=key, ConditionExpression=EXISTS, ReturnValues="ALL_OLD"
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return response.get("Attributes")

    def _read(self, kind: str, parse: Callable[[dict[str, Any]], Any]) -> tuple[list[Any], int]:
        records, bad = [], 0
        for item in self._scan(kind):
            try:
                records.append(parse(item))
            except MalformedRecord:
                bad += 1
        return records, bad

    def _scan(self, kind: str) -> Iterator[dict[str, Any]]:
        return items(
            self.client.scan,
            TableName=self.table,
            FilterExpression="#t = :t",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues={":t": {"S": kind}},
        )


def _expires(item: Mapping[str, Any]) -> int | None:
    try:
        return number_attribute(item, "expires_at")
    except MalformedRecord:
        return None
