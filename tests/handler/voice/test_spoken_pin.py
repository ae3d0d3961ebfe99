"""Spoken PIN entry on the real handler (moto): a spoken PIN joins like the keyed one, and a
wrong spoken PIN counts towards the same per-call attempts and per-caller lockout."""

from __future__ import annotations

from typing import Any

import pytest
from support.callers import ALICE_PIN, CALLER, INCOMING, PIN_NUMBER, gather_action, post
from support.twiml import parse, said, verbs
from support.voice import TABLE, Handler

from dialin.core.records import DTMF_SPEECH, Route
from dialin.speech import messages
from dialin.speech.catalogues import de

SPOKEN_NUMBER = "+15555550131"
GERMAN_NUMBER = "+15555550132"


@pytest.fixture
def spoken_routes(dynamodb: Any) -> Any:
    for route in (
        Route(number=SPOKEN_NUMBER, mode="pin", pin_input=DTMF_SPEECH),
        Route(number=GERMAN_NUMBER, mode="pin", pin_input=DTMF_SPEECH, language="de-DE"),
    ):
        dynamodb.put_item(TableName=TABLE, Item=route.to_item())
    return dynamodb


def snapshot(dynamodb: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item, by key, without the id of the request that wrote it last."""
    items = dynamodb.scan(TableName=TABLE)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): {k: v for k, v in i.items() if k != "last_request"} for i in items}


def written(before: dict[Any, Any], after: dict[Any, Any]) -> dict[Any, Any]:
    return {key: item for key, item in after.items() if before.get(key) != item}


def enter(handler: Handler, number: str, **answer: str) -> Any:
    root = parse(post(handler, INCOMING, To=number))
    return parse(post(handler, gather_action(root), To=number, **answer))


def test_the_pin_gather_takes_speech_with_digit_hints(voice_handler: Handler, spoken_routes: Any):
    root = parse(post(voice_handler, INCOMING, To=SPOKEN_NUMBER))
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("finishOnKey") == "#"
    assert gather.get("hints") == "$OOV_CLASS_DIGIT_SEQUENCE" and gather.get("speechTimeout") == "auto"
    assert said(root) == messages.PIN_PROMPT_SPOKEN
    german = parse(post(voice_handler, INCOMING, To=GERMAN_NUMBER)).find("Gather")
    assert german.get("language") == "de-DE" and german.find("Say").text == de.TEXTS["PIN_PROMPT_SPOKEN"]


def test_a_keyed_only_number_ignores_speech(voice_handler: Handler):
    root = parse(post(voice_handler, INCOMING, To=PIN_NUMBER))
    assert root.find("Gather").get("input") == "dtmf"
    root = parse(
        post(voice_handler, gather_action(root), To=PIN_NUMBER, SpeechResult="two four six eight one zero")
    )
    assert verbs(root) == ["Gather"] and messages.PIN_MISSING in said(root)


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        (SPOKEN_NUMBER, "two four six eight one zero"),
        (SPOKEN_NUMBER, "2 4 6 8 1 0."),
        (GERMAN_NUMBER, "zwei vier sechs acht eins null"),
    ],
)
def test_a_spoken_pin_joins_like_the_keyed_one(voice_handler: Handler, spoken_routes: Any, number, spoken):
    keyed = enter(voice_handler, number, Digits=ALICE_PIN)
    said_aloud = enter(voice_handler, number, SpeechResult=spoken, Confidence="0.87")
    assert verbs(said_aloud) == verbs(keyed) == ["Say", "Connect", "Redirect"]
    assert said(said_aloud) == said(keyed)
    for root in (keyed, said_aloud):
        room = root.find("Connect/Room")
        assert room.text == "ClinicRoom1" and room.get("participantIdentity").startswith("alice-")


def test_a_wrong_spoken_pin_counts_like_a_wrong_keyed_one(
    voice_handler: Handler, spoken_routes: Any, emitted: Any
):
    """The same items written (counters, budgets), with the same counts."""
    before = snapshot(spoken_routes)
    spoken = enter(voice_handler, SPOKEN_NUMBER, SpeechResult="one one one two two two")
    by_speech = written(before, snapshot(spoken_routes))
    assert by_speech  # the failure was counted
    for key in by_speech:  # back to the state before it
        pk, sk = ({"S": part} for part in key)
        if key in before:
            spoken_routes.put_item(TableName=TABLE, Item=before[key])
        else:
            spoken_routes.delete_item(TableName=TABLE, Key={"pk": pk, "sk": sk})
    keyed = enter(voice_handler, SPOKEN_NUMBER, Digits="111222")
    assert written(before, snapshot(spoken_routes)) == by_speech
    assert said(spoken) == said(keyed) == f"{messages.PIN_WRONG} {messages.PIN_PROMPT_SPOKEN}"
    assert emitted().metrics()["PinFailures"] == 2


def test_spoken_failures_lock_the_caller_out(voice_handler: Handler, voice_app: Any, spoken_routes: Any):
    limit = voice_app.lockout.max_failures
    for call in range(limit):
        root = parse(post(voice_handler, INCOMING, To=SPOKEN_NUMBER, call_sid=f"CA{call:032d}"))
        root = parse(
            post(
                voice_handler,
                gather_action(root),
                To=SPOKEN_NUMBER,
                SpeechResult="nine nine nine nine nine nine",
            )
        )
        if said(root) == messages.LOCKED_OUT:
            break
    assert said(root) == messages.LOCKED_OUT
    root = parse(post(voice_handler, INCOMING, To=SPOKEN_NUMBER, From=CALLER))
    assert said(root) == messages.LOCKED_OUT  # the correct PIN is never even asked for
