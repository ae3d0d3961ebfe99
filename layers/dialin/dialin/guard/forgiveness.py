"""Forgiving typos: a call whose PIN finally matched gets back the failures it made that were
typos of that PIN, so an honest crowd that mistypes never spends the budgets. Pure rules: no
table, no clock (``dialin.guard.defences`` refunds the counters).

A *typo* of a PIN has its length and differs by one digit, or by two neighbouring digits
swapped: ``9·d + (d−1)`` codes at most for ``d`` digits (99 for 10 digits).

Nothing here keeps a PIN. Each failed attempt is carried in the call's signed PIN step URL
as ``failure_hash``: HMAC-SHA256(pepper, "typo", CallSid, digits) cut to 32 bits (8 hex
digits). The CallSid salts it (the same typo in two calls is two values); the pepper keys it
(without the pepper nothing can be tried against it); 32 bits of a 10-digit entry leave
about two candidate entries for each value even to someone who holds the pepper. When a PIN
matches, the typos of *that* PIN are hashed the same way (about 100 HMACs, well under a
millisecond) and the carried values among them are the failures forgiven.

Bounds (``docs/brute-force.md``): at most ``PER_CALL`` failures forgiven per call, once per
counter and call; per counter and window at most ``PER_WINDOW_FACTOR`` times that counter's
limit. Only typos of a PIN the caller then entered are forgiven, so random guesses never
are, whoever holds a valid PIN; the typos of one's own PIN are one fixed set of about 99
codes per PIN held.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

DIGITS = "0123456789"
HASH_HEX = 8  # 32 bits: the entry cannot be told from about two others of its length
PER_CALL = 2  # failures forgiven in one call at most
PER_WINDOW_FACTOR = 10  # forgiven per counter and window: at most this times its limit


def typos(pin: str) -> set[str]:
    """Every code one substituted digit, or one swap of two different neighbours, from ``pin``."""
    found: set[str] = set()
    for i, digit in enumerate(pin):
        head, tail = pin[:i], pin[i + 1 :]
        found.update(head + other + tail for other in DIGITS if other != digit)
    for i in range(len(pin) - 1):
        if pin[i] != pin[i + 1]:
            found.add(pin[:i] + pin[i + 1] + pin[i] + pin[i + 2 :])
    return found


def _keyed(pepper: str, call_sid: str) -> hmac.HMAC:
    prefix = f"typo\x1f{call_sid}\x1f".encode("utf-8", "replace")
    return hmac.new(pepper.encode("utf-8"), prefix, hashlib.sha256)


def failure_hash(pepper: str, call_sid: str, digits: str) -> str:
    """What a failed attempt leaves in the call's step URL (never the digits)."""
    keyed = _keyed(pepper, call_sid)
    keyed.update(digits.encode("utf-8", "replace"))
    return keyed.hexdigest()[:HASH_HEX]


def forgivable(pepper: str, call_sid: str, pin: str, failed: Iterable[str]) -> int:
    """How many of the call's ``failed`` attempts were typos of ``pin`` (the PIN that just
    matched), at most ``PER_CALL``."""
    carried = list(failed)
    if not carried:
        return 0
    base = _keyed(pepper, call_sid)
    neighbours: set[str] = set()
    for code in typos(pin):
        keyed = base.copy()
        keyed.update(code.encode("ascii"))
        neighbours.add(keyed.hexdigest()[:HASH_HEX])
    return min(PER_CALL, sum(1 for value in carried if value in neighbours))


def is_failure_hash(value: str) -> bool:
    return len(value) == HASH_HEX and all(c in "0123456789abcdef" for c in value)
