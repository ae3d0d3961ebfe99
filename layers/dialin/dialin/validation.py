"""Checks shared by the webhooks, the dial-out API and the admin tools."""

from __future__ import annotations

import re

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# Characters XML 1.0 cannot carry at all, escaped or not (TwiML with one does not parse).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Twilio Video: room UniqueName and participant identity, at most 128 characters.
MAX_NAME_LENGTH = 128


def is_e164(number: str) -> bool:
    return bool(E164.match(number or ""))


def is_account_sid(value: str) -> bool:
    return bool(ACCOUNT_SID.match(value or ""))


def is_xml_text(value: str) -> bool:
    return not NOT_XML.search(value)


def name_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be a room name or identity, or None if it can."""
    if not value or not value.strip():
        return f"{what} is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"{what} is longer than {MAX_NAME_LENGTH} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return f"{what} contains control characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid UTF-8"
    if not is_xml_text(value):
        return f"{what} contains characters TwiML cannot carry"
    return None


def mask_number(number: str) -> str:
    """A phone number as it may appear in logs: country hint and last two digits only."""
    if not number:
        return ""
    if not is_e164(number):
        return "non-e164"
    return f"{number[:2]}…{number[-2:]}"
