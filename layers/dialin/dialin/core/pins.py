"""PIN hashing and generation. PINs are stored only as HMAC-SHA256(pepper, PIN)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 16
# Generated PINs: long enough that the worst case in docs/brute-force.md needs more than a
# year for even odds (stack parameter PinLength).
RECOMMENDED_PIN_LENGTH = 10


def hash_pin(pepper: str, pin: str) -> str:
    return hmac.new(pepper.encode("utf-8"), pin.encode("utf-8"), hashlib.sha256).hexdigest()


def looks_like_pin(digits: str, min_length: int = MIN_PIN_LENGTH) -> bool:
    """Digits that could be a PIN at all; anything else is a wrong PIN without a lookup."""
    return digits.isascii() and digits.isdigit() and min_length <= len(digits) <= MAX_PIN_LENGTH


def generate_pin(length: int = MIN_PIN_LENGTH) -> str:
    if not MIN_PIN_LENGTH <= length <= MAX_PIN_LENGTH:
        raise ValueError(f"PIN length must be {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} digits")
    first = str(secrets.randbelow(9) + 1)  # no leading zero: spoken and typed PINs lose it
    return first + "".join(str(secrets.randbelow(10)) for _ in range(length - 1))


def group_digits(pin: str) -> str:
    """For reading aloud: ``123 456 7890`` (groups of three, a lone last digit joins the one before)."""
    groups = [pin[i : i + 3] for i in range(0, len(pin), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return " ".join(groups)
