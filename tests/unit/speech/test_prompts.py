"""Prompts per language: every catalogue says every English prompt, with the same
placeholders, and the flow speaks the route's language with its default voice."""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.twiml import said, verbs

from dialin.calls.call import Call, Limits
from dialin.calls.steps import PinState, Urls
from dialin.core.records import PIN_MODE, Route
from dialin.core.validation import is_xml_text
from dialin.speech import messages, prompts
from dialin.speech.catalogues import de, es, fr, pt
from dialin.voice import flow

URLS = Urls("https://v.example.com/Prod")
NOW = 1_800_000_000.0
LIMITS = Limits()
CALL = Call(sid="CA" + "1" * 32, from_number="+14155550123", to_number="+15555550101")
TRANSLATED = {"es": es.TEXTS, "fr": fr.TEXTS, "de": de.TEXTS, "pt": pt.TEXTS}
ENGLISH = prompts.CATALOGUES[prompts.ENGLISH]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_english_catalogue_is_every_constant_of_messages():
    constants = {name for name in vars(messages) if name.isupper()}
    assert set(ENGLISH) == constants and "PIN_PROMPT" in ENGLISH
    assert set(prompts.CATALOGUES) >= {"en", "es", "fr", "de", "pt"}


@pytest.mark.parametrize("code", sorted(TRANSLATED))
def test_each_catalogue_translates_every_english_prompt(code):
    texts = TRANSLATED[code]
    missing = sorted(set(ENGLISH) - set(texts))
    assert not missing, f"catalogues/{code}.py misses {missing}: add their translations"
    assert not set(texts) - set(ENGLISH), f"catalogues/{code}.py has prompts English does not"
    for name, text in texts.items():
        assert text.strip() and is_xml_text(text), name
        assert text != ENGLISH[name], f"{code} {name} is not translated"
        assert placeholders(text) == placeholders(ENGLISH[name]), name
        assert len(text) <= 2 * len(ENGLISH[name]) + 20, f"{code} {name} is much longer than English"


def test_texts_are_distinct_so_each_english_prompt_has_one_name():
    assert len(set(ENGLISH.values())) == len(ENGLISH)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de-DE", de.TEXTS), ("de", de.TEXTS), ("es-MX", es.TEXTS), ("FR-ca", fr.TEXTS), ("pt_BR", pt.TEXTS)],
)
def test_localize_picks_the_catalogue_by_primary_language(language, expected):
    assert prompts.localize(messages.PIN_PROMPT, language) == expected["PIN_PROMPT"]


def test_unknown_languages_and_other_texts_stay_english_or_as_they_are():
    assert prompts.localize(messages.PIN_PROMPT, "ja-JP") == messages.PIN_PROMPT
    assert prompts.localize(messages.PIN_PROMPT, "") == messages.PIN_PROMPT
    assert prompts.localize("Willkommen bei Acme.", "de-DE") == "Willkommen bei Acme."
    assert not prompts.is_supported("ja-JP") and prompts.is_supported("") and prompts.is_supported("pt-PT")


def test_a_route_override_wins_over_the_catalogue():
    overrides = {"PIN_PROMPT": "Ihre Raum-PIN, bitte."}
    assert prompts.localize(messages.PIN_PROMPT, "de-DE", overrides) == "Ihre Raum-PIN, bitte."
    assert prompts.localize(messages.PIN_WRONG, "de-DE", overrides) == de.TEXTS["PIN_WRONG"]


def test_default_voice_follows_the_locale_then_the_language():
    assert prompts.default_voice("de-DE") == "Polly.Vicki"
    assert prompts.default_voice("pt-PT") == "Polly.Ines"
    assert prompts.default_voice("pt-AO") == "Polly.Camila"
    assert prompts.default_voice("") == "" and prompts.default_voice("ja-JP") == ""


def test_a_german_pin_route_asks_and_retries_in_german_with_the_german_voice():
    route = Route(number=CALL.to_number, mode=PIN_MODE, language="de-DE")
    root = ET.fromstring(flow.incoming(CALL, route, URLS, NOW, LIMITS).twiml.to_xml())
    say = root.find("Gather/Say")
    assert say.text == de.TEXTS["PIN_PROMPT"]
    assert (say.get("voice"), say.get("language")) == ("Polly.Vicki", "de-DE")
    state = PinState.from_query(dict(parse_qsl(urlsplit(root.find("Gather").get("action")).query)))
    wrong = Call(CALL.sid, CALL.from_number, CALL.to_number, digits="111111")
    retry = ET.fromstring(flow.pin_entered(wrong, state, None, URLS, NOW).twiml.to_xml())
    assert said(retry) == f"{de.TEXTS['PIN_WRONG']} {de.TEXTS['PIN_PROMPT']}"


def test_a_route_voice_is_kept_and_the_greeting_is_said_as_written():
    route = Route(number=CALL.to_number, room="R", voice="Polly.Hans", language="de-DE", greeting="Hallo!")
    root = ET.fromstring(flow.incoming(CALL, route, URLS, NOW, LIMITS).twiml.to_xml())
    assert verbs(root) == ["Say", "Connect", "Redirect"]
    assert root.find("Say").text == "Hallo!" and root.find("Say").get("voice") == "Polly.Hans"
