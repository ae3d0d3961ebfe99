"""Route and PIN administration on the directory table: validate everything, then write.

The DynamoDB client is injected (moto in tests, the embedded table of `dialin serve`, or a
deployed stack's table). Writes that could clash are conditional, so a rejected command
changes nothing: a PIN already in use, a number that already has a route, or, for a bulk
import, any bad row at all (the whole file is checked before the first write).
PINs are stored only as HMAC-SHA256(pepper, PIN); a new PIN is returned once to be shown.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from dialin.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, generate_pin, hash_pin
from dialin.records import (
    CALLER_IDENTITY_POLICIES,
    DIRECT,
    DUPLICATE_POLICIES,
    LAST_DIGITS,
    MAX_ATTEMPTS,
    ROUTE_MODES,
    UNIQUE,
    MalformedRecord,
    PinGrant,
    Route,
    number_attribute,
    pin_key,
    route_key,
)
from dialin.validation import is_e164, name_problem

from .errors import Conflict, Invalid, NotFound

# DynamoDB's TTL deletes a PIN this long after its validity window ends; until then
# `pin list` still shows it as expired.
EXPIRY_GRACE_SECONDS = 86_400
HASH_SHOWN = 12  # hex characters of a PIN's hash shown by `pin list`
MIN_HASH_PREFIX = 8  # shortest hash prefix `pin revoke` accepts
GENERATE_TRIES = 5  # fresh PINs drawn when a generated one is already in use
TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
BATCH_GET_KEYS = 100
MAX_BATCH_ROUNDS = 10
MAX_PROBLEMS_SHOWN = 20
# Limits that keep values usable in TwiML and in our signed step URLs (see dialin.state).
MAX_GREETING = 1000
MAX_VOICE = 64
MAX_LANGUAGE = 16
MAX_LABEL = 200
NOT_EXISTS = "attribute_not_exists(pk)"
EXISTS = "attribute_exists(pk)"

ROUTE_FIELDS = ("number", "mode", "room", "identity_policy", "greeting", "voice", "language", "attempts")
PIN_FIELDS = ("pin", "room", "identity", "number", "valid_from", "valid_until", "label", "on_duplicate")
# CSV import: one header row; `kind` is `route` or `pin`; empty cells are absent values.
CSV_COLUMNS = ("kind", *dict.fromkeys((*ROUTE_FIELDS, *PIN_FIELDS)))


# Checks. Messages never repeat a PIN or a phone number.


def check_number(value: str, what: str = "number") -> str:
    if not is_e164(value):
        raise Invalid(f"{what} must be an E.164 phone number: + and 7 to 15 digits, e.g. +15551230000")
    return value


def check_name(value: str, what: str) -> str:
    problem = name_problem(value, what)
    if problem:
        raise Invalid(problem)
    return value


def check_text(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise Invalid(f"{what} is longer than {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Invalid(f"{what} contains control characters")
    return value


def check_pin(value: str, min_length: int = MIN_PIN_LENGTH) -> str:
    if not (value.isascii() and value.isdigit()):
        raise Invalid("PIN must be digits only (0-9)")
    if not min_length <= len(value) <= MAX_PIN_LENGTH:
        raise Invalid(f"PIN must be {min_length} to {MAX_PIN_LENGTH} digits long")
    return value


def check_choice(value: str, what: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise Invalid(f"{what} must be one of: {', '.join(choices)}")
    return value


def parse_time(value: str | int | None, what: str) -> int | None:
    """Epoch seconds from an ISO-8601 time (no offset means UTC), a date, or epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(f"{what} must be an ISO-8601 time such as 2030-01-31T17:00:00Z")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{what} must be an ISO-8601 time such as 2030-01-31T17:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def format_time(epoch: int | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_attempts(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        attempts = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"attempts must be a whole number from 1 to {MAX_ATTEMPTS}") from None
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise Invalid(f"attempts must be a whole number from 1 to {MAX_ATTEMPTS}")
    return attempts


# Records.


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


# Bulk import: rows from JSON (the shape of events/seed.json) or CSV.


@dataclass(frozen=True)
class Row:
    where: str  # for messages: "routes[0]", "pins[2]", "line 4"
    kind: str  # "route" or "pin"
    fields: Mapping[str, Any]


def rows_from_json(data: Any) -> list[Row]:
    if not isinstance(data, dict):
        raise Invalid('a JSON import is an object: {"routes": [...], "pins": [...]}')
    unknown = sorted(set(data) - {"routes", "pins", "about"})
    if unknown:
        raise Invalid(f"unknown top-level key(s): {', '.join(unknown)} (expected routes, pins)")
    rows = []
    for kind, key in (("route", "routes"), ("pin", "pins")):
        entries = data.get(key, [])
        if not isinstance(entries, list):
            raise Invalid(f"{key} must be a list")
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise Invalid(f"{key}[{index}] must be an object")
            rows.append(Row(f"{key}[{index}]", kind, entry))
    return rows


def rows_from_csv(text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise Invalid(f"a CSV import needs a header row with these columns: {', '.join(CSV_COLUMNS)}")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "kind" not in header:
        raise Invalid(
            f"unknown or missing CSV column(s): {', '.join(unknown) or 'kind'}; "
            f"columns are: {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    rows = []
    for record in reader:
        line = f"line {reader.line_num}"
        if None in record:
            raise Invalid(f"{line}: more cells than columns")
        cells = {k: (v or "").strip() for k, v in record.items() if k != "kind" and (v or "").strip()}
        rows.append(Row(line, (record.get("kind") or "").strip().lower(), cells))
    return rows


def read_rows(path: Path) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip().startswith("{")):
        try:
            return rows_from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise Invalid(f"{path} is not valid JSON: {exc}") from None
    return rows_from_csv(text)


def _text_fields(row: Row, allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(row.fields) - set(allowed))
    if unknown:
        raise Invalid(f"field(s) {', '.join(unknown)} do not apply to a {row.kind}")
    values: dict[str, Any] = {}
    for name, value in row.fields.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Invalid(f"{name} must be text")
        values[name] = value
    return values


def route_from_row(row: Row) -> Route:
    values = _text_fields(row, ROUTE_FIELDS)
    for name in ("number", "mode", "room", "identity_policy", "greeting", "voice", "language"):
        if name in values and not isinstance(values[name], str):
            raise Invalid(f"{name} must be text")
    number = values.pop("number", "")
    return make_route(number, **values)


def pin_from_row(row: Row, pepper: str, min_length: int, now: float) -> NewPin:
    values = _text_fields(row, PIN_FIELDS)
    pin = values.pop("pin", None)
    if pin is not None and not isinstance(pin, str):
        raise Invalid("pin must be text (quote it in JSON)")
    for name in ("room", "identity", "number", "label", "on_duplicate"):
        if name in values and not isinstance(values[name], str):
            raise Invalid(f"{name} must be text")
    spec = make_pin_spec(values.pop("room", ""), now=now, **values)
    return issue_pin(spec, pepper, pin or None, min_length=min_length)


@dataclass
class ImportPlan:
    routes: list[tuple[str, Route]]
    pins: list[tuple[str, NewPin]]


def _raise_problems(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise Invalid("nothing was imported:\n  " + "\n  ".join(shown) + tail)


def plan_import(
    rows: list[Row], pepper: str, min_length: int = MIN_PIN_LENGTH, now: float | None = None
) -> ImportPlan:
    """Every row validated; raises ``Invalid`` listing every bad row."""
    now = time.time() if now is None else now
    plan = ImportPlan([], [])
    problems: list[str] = []
    numbers: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for row in rows:
        try:
            if row.kind == "route":
                route = route_from_row(row)
                if route.number in numbers:
                    raise Invalid(f"the same number as {numbers[route.number]}")
                numbers[route.number] = row.where
                plan.routes.append((row.where, route))
            elif row.kind == "pin":
                new = pin_from_row(row, pepper, min_length, now)
                if new.grant.pin_hash in hashes:
                    raise Invalid(f"the same PIN as {hashes[new.grant.pin_hash]}")
                hashes[new.grant.pin_hash] = row.where
                plan.pins.append((row.where, new))
            else:
                raise Invalid("kind must be route or pin")
        except Invalid as exc:
            problems.append(f"{row.where}: {exc}")
    _raise_problems(problems)
    return plan


# The table.


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Admin:
    """Admin operations on one table. ``pepper`` is read only when a PIN is hashed."""

    def __init__(
        self,
        client: Any,
        table: str,
        pepper: str | Callable[[], str],
        *,
        min_pin_length: int = MIN_PIN_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self._pepper = pepper
        self.min_pin_length = min_pin_length
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
            if _is_conditional_failure(exc):
                raise Conflict(
                    "that number already has a route; nothing was changed "
                    "(use --replace to overwrite it, or `dialin route remove` it first)"
                ) from None
            raise
        return route

    def list_routes(self) -> tuple[list[Route], int]:
        """Routes sorted by number, and how many items could not be read."""
        routes, bad = self._read("route", Route.from_item)
        return sorted(routes, key=lambda r: r.number), bad

    def remove_route(self, number: str) -> Route:
        check_number(number)
        old = self._delete(route_key(number))
        if old is None:
            raise NotFound("no route for that number; nothing was changed")
        return Route.from_item(old)

    # PINs

    def add_pin(self, spec: PinGrant, pin: str | None = None, length: int | None = None) -> NewPin:
        tries = 1 if pin is not None else GENERATE_TRIES
        for _ in range(tries):
            new = issue_pin(spec, self.pepper, pin, min_length=self.min_pin_length, length=length)
            try:
                self.client.put_item(TableName=self.table, Item=new.item(), ConditionExpression=NOT_EXISTS)
            except ClientError as exc:
                if not _is_conditional_failure(exc):
                    raise
                continue
            return new
        if pin is not None:
            raise Conflict("that PIN is already in use; choose another (nothing was changed)")
        raise Conflict(f"{tries} generated PINs were all in use; try a longer --length")

    def list_pins(self) -> tuple[list[tuple[PinGrant, int | None]], int]:
        """Grants with their TTL, sorted by room and identity, and how many items were unreadable."""
        pins, bad = self._read("pin", lambda item: (PinGrant.from_item(item), _expires(item)))
        return sorted(pins, key=lambda p: (p[0].room, p[0].identity, p[0].pin_hash)), bad

    def revoke_pin(self, pin_or_hash: str) -> PinGrant:
        """Delete a grant, named by its PIN or by a prefix of its hash (as `pin list` shows)."""
        value = pin_or_hash.strip()
        if value.isascii() and value.isdigit() and len(value) <= MAX_PIN_LENGTH:
            old = self._delete(pin_key(hash_pin(self.pepper, value)))
            if old is not None:
                return PinGrant.from_item(old)
        prefix = value.lower()
        if len(prefix) < MIN_HASH_PREFIX or any(ch not in "0123456789abcdef" for ch in prefix):
            raise NotFound(
                "no PIN matches; give the PIN itself or at least "
                f"{MIN_HASH_PREFIX} characters of the hash `dialin pin list` shows"
            )
        matches = [g for g, _ in self.list_pins()[0] if g.pin_hash.startswith(prefix)]
        if not matches:
            raise NotFound("no PIN matches that hash; nothing was changed")
        if len(matches) > 1:
            raise Invalid("more than one PIN matches that hash prefix; give more characters")
        old = self._delete(pin_key(matches[0].pin_hash))
        if old is None:
            raise NotFound("that PIN was revoked meanwhile")
        return PinGrant.from_item(old)

    # Bulk import

    def import_rows(self, rows: list[Row], replace_routes: bool = False) -> ImportPlan:
        plan = plan_import(rows, self.pepper, self.min_pin_length, self.clock())
        self._check_existing(plan, replace_routes)
        puts = [
            {"Put": {"TableName": self.table, "Item": route.to_item()}}
            if replace_routes
            else {
                "Put": {"TableName": self.table, "Item": route.to_item(), "ConditionExpression": NOT_EXISTS}
            }
            for _, route in plan.routes
        ]
        puts += [
            {"Put": {"TableName": self.table, "Item": new.item(), "ConditionExpression": NOT_EXISTS}}
            for _, new in plan.pins
        ]
        # Atomic up to 100 items; a larger file is written in transactions of 100 after the
        # checks above, so only a concurrent change could leave it partly written.
        for start in range(0, len(puts), TRANSACTION_ITEMS):
            try:
                self.client.transact_write_items(TransactItems=puts[start : start + TRANSACTION_ITEMS])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                    written = f"; the first {start} items were written" if start else ""
                    raise Conflict(
                        f"a route or PIN was added by someone else during the import{written}; run it again"
                    ) from None
                raise
        return plan

    def import_file(self, path: Path, replace_routes: bool = False) -> ImportPlan:
        return self.import_rows(read_rows(path), replace_routes)

    def _check_existing(self, plan: ImportPlan, replace_routes: bool) -> None:
        problems = []
        if not replace_routes:
            taken = self._existing([route_key(r.number) for _, r in plan.routes])
            problems += [
                f"{where}: the number already has a route (use --replace to overwrite routes)"
                for where, r in plan.routes
                if f"ROUTE#{r.number}" in taken
            ]
        for round_ in range(GENERATE_TRIES):
            taken = self._existing([pin_key(new.grant.pin_hash) for _, new in plan.pins])
            in_file = {new.grant.pin_hash for _, new in plan.pins}
            redraw = False
            for index, (where, new) in enumerate(plan.pins):
                if f"PIN#{new.grant.pin_hash}" not in taken:
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
        _raise_problems(problems)

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
            if _is_conditional_failure(exc):
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
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="#t = :t",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues={":t": {"S": kind}},
        )
        for page in pages:
            yield from page.get("Items", [])


def _expires(item: Mapping[str, Any]) -> int | None:
    try:
        return number_attribute(item, "expires_at")
    except MalformedRecord:
        return None
