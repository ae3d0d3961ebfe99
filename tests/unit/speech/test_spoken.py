"""Spoken PINs to digits, in each catalogue's language."""

from __future__ import annotations

import pytest

from dialin.calls.call import Call
from dialin.calls.steps import PinState, Speech, Urls, query_pairs
from dialin.speech.spoken import MAX_SPOKEN_CHARS, spoken_digits
from dialin.voice import flow


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("two four six eight one zero", ""),
        ("Two, four, six, eight, one, oh.", "en-GB"),
        ("246810", "en-US"),
        ("2 4 6 8 1 0", "de-DE"),
        ("my PIN is 24 68 10", ""),
        ("dos cuatro seis ocho uno cero", "es-ES"),
        ("deux quatre six huit un zéro", "fr-FR"),
        ("zwei vier sechs acht eins null", "de-DE"),
        ("zwo vier sechs acht eins null", "de"),
        ("dois quatro seis oito um zero", "pt-BR"),
        ("duas quatro meia oito uma zero", "pt-BR"),
        ("two four six eight one zero", "fr-FR"),  # English digits are heard in every language
    ],
)
def test_spoken_pins_become_digits(text: str, language: str):
    assert spoken_digits(text, language) == "246810"


def test_double_and_triple_repeat_the_next_digit():
    assert spoken_digits("double five one triple two", "en-GB") == "551222"


@pytest.mark.parametrize("text", ["", "hello there", "I would like to join", "x" * (MAX_SPOKEN_CHARS + 1)])
def test_no_digits_is_no_pin(text: str):
    assert spoken_digits(text) == ""


def test_words_of_another_language_are_not_digits():
    assert spoken_digits("zwei vier", "es-ES") == ""


CALL = Call(sid="CA" + "1" * 32, from_number="+14155550123", to_number="+15555550101")
SPOKEN = PinState(1, 3, Speech(language="es-MX"), spoken=True)


def test_the_flow_takes_a_spoken_pin_only_where_the_route_asked_for_one():
    said = Call(CALL.sid, CALL.from_number, CALL.to_number, speech="dos cuatro seis ocho uno cero")
    assert flow.with_spoken_pin(said, SPOKEN).digits == "246810"
    keyed_only = PinState(1, 3, Speech(language="es-MX"))
    assert flow.with_spoken_pin(said, keyed_only).digits == ""
    both = Call(CALL.sid, CALL.from_number, CALL.to_number, digits="135790", speech="dos")
    assert flow.with_spoken_pin(both, SPOKEN).digits == "135790"  # keyed digits win


def test_the_spoken_flag_travels_in_the_step_url():
    assert PinState.from_query(dict(query_pairs(SPOKEN.query()))) == SPOKEN
    urls = Urls("https://v.example.com/Prod")
    assert "g=1" in urls.pin(SPOKEN) and "g=" not in urls.pin(PinState(1, 3, Speech()))
