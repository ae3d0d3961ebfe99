"""Prompts in the caller's language.

The flow says ``messages.PIN_PROMPT``, a ``messages.Prompt``; ``localize`` looks its name up in
the route's own texts, then in the catalogue of the route's language, as it is spoken. Any
other text (a route's greeting) is said as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from . import messages
from .catalogues import de, es, fr, pt

ENGLISH = "en"


def _english() -> dict[str, str]:
    return {p.key: str(p) for p in vars(messages).values() if isinstance(p, messages.Prompt)}


CATALOGUES: dict[str, Mapping[str, str]] = {
    ENGLISH: _english(),
    "es": es.TEXTS,
    "fr": fr.TEXTS,
    "de": de.TEXTS,
    "pt": pt.TEXTS,
}
PROMPT_NAMES = tuple(CATALOGUES[ENGLISH])

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


def localize(
    text: str, language: str = "", overrides: Mapping[str, str] | None = None, **values: object
) -> str:
    """``text`` as the caller hears it: for a prompt, the route's own text for it, else the
    catalogue of ``language`` (English when there is none for it); other text is kept.
    ``values`` fill the prompt's ``{placeholders}`` once it is in the caller's language."""
    if isinstance(text, messages.Prompt):
        if overrides and text.key in overrides:
            text = overrides[text.key]
        else:
            text = catalogue(language).get(text.key, str(text))
    return text.format(**values) if values else str(text)
