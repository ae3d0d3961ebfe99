"""Bulk import: rows from JSON (the shape of events/seed.json) or CSV, every row checked
before anything is written (see ``table.Admin.import_rows``)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import Invalid
from ..core.pins import MIN_PIN_LENGTH
from ..core.records import Route
from ..core.validation import MAX_JSON_DEPTH, json_too_deep
from .specs import NewPin, issue_pin, make_pin_spec, make_route

MAX_PROBLEMS_SHOWN = 20
ROUTE_FIELDS = (
    "number",
    "mode",
    "room",
    "identity_policy",
    "greeting",
    "voice",
    "language",
    "attempts",
    "pin_input",
    "account",
    "phone_limit",
)
PIN_FIELDS = ("pin", "room", "identity", "number", "valid_from", "valid_until", "label", "on_duplicate")
# Fields that may be numbers in a JSON import (times as epoch seconds); every other one is text.
NUMERIC_FIELDS = frozenset({"attempts", "phone_limit", "valid_from", "valid_until"})
# CSV import: one header row; `kind` is `route` or `pin`; empty cells are absent values.
CSV_COLUMNS = ("kind", *dict.fromkeys((*ROUTE_FIELDS, *PIN_FIELDS)))


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
    reader = csv.DictReader(io.StringIO(text), strict=True)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise Invalid(f"line 1 (the header row): the CSV does not parse ({exc})") from None
    if not header:
        raise Invalid(f"a CSV import needs a header row with these columns: {', '.join(CSV_COLUMNS)}")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown or "kind" not in header:
        raise Invalid(
            f"unknown or missing CSV column(s): {', '.join(unknown) or 'kind'}; "
            f"columns are: {', '.join(CSV_COLUMNS)}"
        )
    reader.fieldnames = header
    rows: list[Row] = []
    records = iter(reader)
    while True:
        started = reader.line_num + 1  # a row with a quoted line break spans several lines
        try:
            record = next(records)
        except StopIteration:
            return rows
        except csv.Error as exc:  # strict: an unclosed quote is an error, not a long cell
            raise Invalid(f"line {started}: the CSV does not parse ({exc})") from None
        line = f"line {reader.line_num}"
        if None in record:
            raise Invalid(f"{line}: more cells than columns")
        cells = {k: (v or "").strip() for k, v in record.items() if k != "kind" and (v or "").strip()}
        rows.append(Row(line, (record.get("kind") or "").strip().lower(), cells))


def read_rows(path: Path) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and text.lstrip().startswith("{")):
        if json_too_deep(text):
            raise Invalid(f"{path} nests arrays or objects deeper than {MAX_JSON_DEPTH} levels")
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


def _require_text(values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name not in NUMERIC_FIELDS and not isinstance(value, str):
            raise Invalid(f"{name} must be text")


def route_from_row(row: Row) -> Route:
    values = _text_fields(row, ROUTE_FIELDS)
    _require_text(values)
    number = values.pop("number", "")
    return make_route(number, **values)


def pin_from_row(row: Row, pepper: str, min_length: int, now: float, pin_length: int | None = None) -> NewPin:
    values = _text_fields(row, PIN_FIELDS)
    pin = values.pop("pin", None)
    if pin is not None and not isinstance(pin, str):
        raise Invalid("pin must be text (quote it in JSON)")
    _require_text(values)
    spec = make_pin_spec(values.pop("room", ""), now=now, **values)
    return issue_pin(spec, pepper, pin or None, min_length=min_length, length=pin_length)


@dataclass
class ImportPlan:
    routes: list[tuple[str, Route]]
    pins: list[tuple[str, NewPin]]


def raise_problems(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise Invalid("nothing was imported:\n  " + "\n  ".join(shown) + tail)


def plan_import(
    rows: list[Row],
    pepper: str,
    min_length: int = MIN_PIN_LENGTH,
    now: float | None = None,
    pin_length: int | None = None,
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
                new = pin_from_row(row, pepper, min_length, now, pin_length)
                if new.grant.pin_hash in hashes:
                    raise Invalid(f"the same PIN as {hashes[new.grant.pin_hash]}")
                hashes[new.grant.pin_hash] = row.where
                plan.pins.append((row.where, new))
            else:
                raise Invalid("kind must be route or pin")
        except Invalid as exc:
            problems.append(f"{row.where}: {exc}")
    raise_problems(problems)
    return plan
