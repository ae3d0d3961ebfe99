"""Prompts in the caller's language.

The English constants of ``dialin.speech.messages`` are the catalogue's keys: the flow keeps saying
``messages.PIN_PROMPT`` and ``localize`` turns it into the route's language (or the route's
own text for that prompt) as it is spoken. Any other text (a route's greeting) is said as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from . import messages
from .catalogues import de, es, fr, pt

ENGLISH = "en"


def _english() -> dict[str, str]:
    return {name: text for name, text in vars(messages).items() if name.isupper() and isinstance(text, str)}


CATALOGUES: dict[str, Mapping[str, str]] = {
    ENGLISH: _english(),
    "es": es.TEXTS,
    "fr": fr.TEXTS,
    "de": de.TEXTS,
    "pt": pt.TEXTS,
}
PROMPT_NAMES = tuple(CATALOGUES[ENGLISH])
_NAME_OF = {text: name for name, text in CATALOGUES[ENGLISH].items()}

# Amazon Polly voices Twilio offers (standard, not neural), by locale and by language alone.
DEFAULT_VOICES = {
    "en-us": "Polly.Joanna",
    "en-gb": "Polly.Amy",
    "en-au": "Polly.Nicole",
    "en-in": "Polly.Aditi",
    "es-es": "Polly.Lucia",
    "es-mx": "Polly.Mia",
    "es-us": "Polly.Lupe",
    "fr-fr": "Polly.Lea",
    "fr-ca": "Polly.Chantal",
    "de-de": "Polly.Vicki",
    "pt-br": "Polly.Camila",
    "pt-pt": "Polly.Ines",
    "en": "Polly.Joanna",
    "es": "Polly.Lucia",
    "fr": "Polly.Lea",
    "de": "Polly.Vicki",
    "pt": "Polly.Camila",
}


def language_code(language: str) -> str:
    """``de-DE`` -> ``de``; empty for no language."""
    return language.replace("_", "-").split("-", 1)[0].strip().lower()


def is_supported(language: str) -> bool:
    """A catalogue speaks this language (no language at all means English)."""
    return not language or language_code(language) in CATALOGUES


def default_voice(language: str) -> str:
    """The Polly voice for a route that sets a language and no voice; empty keeps Twilio's own."""
    if not language:
        return ""
    locale = language.replace("_", "-").lower()
    return DEFAULT_VOICES.get(locale) or DEFAULT_VOICES.get(language_code(language), "")


@lru_cache(maxsize=64)
def catalogue(language: str) -> Mapping[str, str]:
    """The prompts for ``language``: its catalogue, else English."""
    return CATALOGUES.get(language_code(language), CATALOGUES[ENGLISH])


def localize(text: str, language: str = "", overrides: Mapping[str, str] | None = None) -> str:
    """``text`` as the caller hears it: the route's own text for that prompt, else the
    catalogue of ``language`` (English when there is none for it). Other text is kept."""
    name = _NAME_OF.get(text)
    if name is None:
        return text
    if overrides and name in overrides:
        return overrides[name]
    return catalogue(language).get(name, text)
