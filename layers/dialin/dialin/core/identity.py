"""Participant identities: unique per live call, at most 128 characters, and never the
caller's full phone number."""

from __future__ import annotations

import base64
import hashlib

from .records import ANONYMOUS, REPLACE, PinGrant
from .validation import MAX_NAME_LENGTH, is_e164

SUFFIX_LENGTH = 5
SHOWN_DIGITS = 4
# Dial-out legs always join as dialout-...; no personal identity may take this prefix.
DIALOUT_PREFIX = "dialout-"


def call_suffix(call_sid: str) -> str:
    """Short, stable per call: the same CallSid always gives the same suffix."""
    digest = hashlib.sha256(call_sid.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:SUFFIX_LENGTH].lower()


def _with_suffix(base: str, call_sid: str) -> str:
    suffix = call_suffix(call_sid)
    return f"{base[: MAX_NAME_LENGTH - len(suffix) - 1]}-{suffix}"


def caller_identity(policy: str, from_number: str, call_sid: str, prefix: str = "phone") -> str:
    """For direct numbers and guest PINs: ``phone-4567-k3fa2`` or, anonymous, ``phone-k3fa2``."""
    if policy != ANONYMOUS and is_e164(from_number):
        return _with_suffix(f"{prefix}-{from_number[-SHOWN_DIGITS:]}", call_sid)
    return _with_suffix(prefix, call_sid)


def grant_identity(grant: PinGrant, caller_policy: str, from_number: str, call_sid: str) -> str:
    if not grant.identity:
        return caller_identity(caller_policy, from_number, call_sid, prefix="guest")
    if grant.on_duplicate == REPLACE:
        return grant.identity
    return _with_suffix(grant.identity, call_sid)
