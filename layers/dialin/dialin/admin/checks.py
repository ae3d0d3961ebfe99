"""Checks on admin input, shared by every door (CLI, admin API, bulk import). Each raises
``Invalid`` with a message that never repeats a PIN or a phone number."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ..core.errors import Invalid
from ..core.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH
from ..core.records import MAX_ATTEMPTS, MAX_PHONE_LIMIT
from ..core.validation import has_control, is_account_sid, is_e164, name_problem, new_name_problem

# Limits that keep values usable in TwiML and in our signed step URLs (see dialin.calls.steps).
MAX_GREETING = 1000
MAX_VOICE = 64
MAX_LANGUAGE = 16
MAX_LABEL = 200


def check_number(value: str, what: str = "number") -> str:
    if not is_e164(value):
        raise Invalid(f"{what} must be an E.164 phone number: + and 7 to 15 digits, e.g. +15551230000")
    return value


def check_name(value: str, what: str) -> str:
    """A room name or identity being created: no spaces at the ends, nothing invisible."""
    problem = new_name_problem(value, what)
    if problem:
        raise Invalid(problem)
    return value


def check_existing_name(value: str, what: str) -> str:
    """A name to look up or delete by: one made before the stricter rule still matches."""
    problem = name_problem(value, what)
    if problem:
        raise Invalid(problem)
    return value


def check_text(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise Invalid(f"{what} is longer than {limit} characters")
    if has_control(value):
        raise Invalid(f"{what} contains control or bidirectional formatting characters")
    return value


def check_account(value: str) -> str:
    if not is_account_sid(value):
        raise Invalid("account must be a Twilio account SID: AC and 32 hex digits")
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


def parse_phone_limit(value: str | int | None) -> int | None:
    """A route's own limit of phone callers in its rooms (Twilio allows 35)."""
    if value is None or value == "":
        return None
    message = f"phone limit must be a whole number from 1 to {MAX_PHONE_LIMIT}"
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise Invalid(message) from None
    if not 1 <= limit <= MAX_PHONE_LIMIT:
        raise Invalid(message)
    return limit


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
