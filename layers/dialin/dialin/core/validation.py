"""Checks shared by the webhooks, the dial-out API and the admin tools."""

from __future__ import annotations

import re

# Matched in full (``$`` alone would accept a trailing newline).
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
# C0 and C1 controls, DEL, and the bidirectional formatting characters that make text read
# differently from what it is (names and labels shown to admins and in Video clients).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters XML 1.0 cannot carry at all, escaped or not (TwiML with one does not parse).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# JSON bodies of our APIs nest at most 3 levels (an import's rows, a route's prompts): deeper
# is refused before parsing (json.loads would recurse until RecursionError).
MAX_JSON_DEPTH = 8
# An unclosed string runs to the end, so no quote is tried twice (linear on any input).
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.S)
JSON_BRACKET = re.compile(r"[\[\]{}]")
# Twilio Video: room UniqueName and participant identity, at most 128 characters.
MAX_NAME_LENGTH = 128


def is_e164(number: str) -> bool:
    return bool(E164.fullmatch(number or ""))


def is_account_sid(value: str) -> bool:
    return bool(ACCOUNT_SID.fullmatch(value or ""))


def is_xml_text(value: str) -> bool:
    return not NOT_XML.search(value)


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """``text`` (JSON or not) opens more than ``limit`` arrays or objects inside each other."""
    depth = 0
    for bracket in JSON_BRACKET.finditer(JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def has_control(value: str) -> bool:
    return CONTROL.search(value) is not None


def name_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be a room name or identity, or None if it can."""
    if not value or not value.strip():
        return f"{what} is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"{what} is longer than {MAX_NAME_LENGTH} characters"
    if has_control(value):
        return f"{what} contains control or bidirectional formatting characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid UTF-8"
    if not is_xml_text(value):
        return f"{what} contains characters TwiML cannot carry"
    return None


# Joiners that Persian, Hindi and emoji need inside a word (Unicode format characters, Cf).
JOINERS = frozenset("\u200c\u200d")


def new_name_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be given as a new room name or identity (admin input, dial-out
    requests): ``name_problem``, or spaces at either end, or an invisible format character
    (Unicode Cf, e.g. U+200B), where it would look like another name; only ZWJ and ZWNJ are
    kept, inside a word of a script that needs them."""
    problem = name_problem(value, what)
    if problem:
        return problem
    if value != value.strip():
        return f"{what} has {'leading' if value[0].isspace() else 'trailing'} whitespace"
    import unicodedata  # only admin input and dial-out requests get here, not the voice webhooks

    for at, char in enumerate(value):
        if unicodedata.category(char) != "Cf":
            continue
        before, after = value[at - 1 : at], value[at + 1 : at + 2]
        inside = bool(before.strip() and after.strip())
        # Scripts that need joiners are not ASCII: between two ASCII letters one only hides.
        if char not in JOINERS or not inside or (before.isascii() and after.isascii()):
            return f"{what} contains an invisible character U+{ord(char):04X} at position {at + 1}"
    return None


def mask_number(number: str) -> str:
    """A phone number as it may appear in logs: country hint and last two digits only."""
    if not number:
        return ""
    if not is_e164(number):
        return "non-e164"
    return f"{number[:2]}…{number[-2:]}"
