"""A PIN said aloud, as digits: "two four six eight one zero" -> "246810".

Twilio's speech recognition returns words or figures (or both). Digit words are read in the
call's language and in English; other words ("my PIN is") are skipped. The digits then go
through exactly the checks, counters and lockout of a keyed PIN.
"""

from __future__ import annotations

import re
import unicodedata

from .prompts import ENGLISH, language_code

# Digit words without accents (they are stripped before the lookup), per language.
DIGIT_WORDS: dict[str, dict[str, str]] = {
    ENGLISH: {
        "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
        "six": "6", "seven": "7", "eight": "8", "nine": "9",
    },
    "es": {
        "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
        "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
    },
    "fr": {
        "zero": "0", "un": "1", "une": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5",
        "six": "6", "sept": "7", "huit": "8", "neuf": "9",
    },
    "de": {
        "null": "0", "eins": "1", "ein": "1", "zwei": "2", "zwo": "2", "drei": "3", "vier": "4",
        "funf": "5", "fuenf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9",
    },
    "pt": {
        "zero": "0", "um": "1", "uma": "1", "dois": "2", "duas": "2", "tres": "3", "quatro": "4",
        "cinco": "5", "seis": "6", "meia": "6", "sete": "7", "oito": "8", "nove": "9",
    },
}  # fmt: skip
# English callers say "double five" for "55".
REPEATS = {"double": 2, "triple": 3}
# A spoken answer longer than this is not a PIN (and is not worth parsing).
MAX_SPOKEN_CHARS = 200
TOKEN = re.compile(r"[^\W_]+")
# Hints for <Gather input="dtmf speech">: Google's class token for a run of digits.
DIGIT_HINTS = "$OOV_CLASS_DIGIT_SEQUENCE"


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def spoken_digits(text: str, language: str = "") -> str:
    """The digits in a spoken answer, in order; empty when it has none."""
    if not text or len(text) > MAX_SPOKEN_CHARS:
        return ""
    words = {**DIGIT_WORDS[ENGLISH], **DIGIT_WORDS.get(language_code(language), {})}
    digits: list[str] = []
    repeat = 1
    for token in TOKEN.findall(_plain(text)):
        if token.isascii() and token.isdigit():
            digits.append(token[0] * (repeat - 1) + token)
            repeat = 1
        elif token in words:
            digits.append(words[token] * repeat)
            repeat = 1
        elif token in REPEATS:
            repeat = REPEATS[token]
    return "".join(digits)
