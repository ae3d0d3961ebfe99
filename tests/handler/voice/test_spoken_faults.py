"""A fault during a later step says "temporarily unavailable" in the caller's language and
voice (carried by the step's signed URL), through the real voice handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.callers import PIN_NUMBER, twilio_post
from support.observed import Emitted
from support.twiml import parse, said, verbs
from support.voice import BASE, local_settings, throttle
from support.voice import handle as handle_with

from dialin.calls.steps import PinState, Speech, Urls, WaitState
from dialin.edge.credentials import Credentials
from dialin.edge.dynamo import dynamodb_client
from dialin.speech import messages
from dialin.speech.catalogues import de, fr
from dialin.voice.app import VoiceApp


def on_table(client: Any) -> VoiceApp:
    settings = local_settings()
    return VoiceApp.on_table(settings, client, Credentials(settings))


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Through the real handler, on a table that refuses every request as throttled."""
    client = dynamodb_client()
    client.meta.events.register("before-call.dynamodb", throttle)
    return handle_with(on_table(client), event)


def test_a_french_pin_step_that_cannot_read_the_table_says_so_in_french(emitted: Callable[[], Emitted]):
    url = Urls(BASE).pin(PinState(1, 3, Speech("Polly.Lea", "fr-FR")))
    root = parse(handle(twilio_post(url, To=PIN_NUMBER, Digits="999999")))
    assert verbs(root) == ["Say", "Hangup"]
    say = root.find("Say")
    assert say is not None and (say.get("voice"), say.get("language")) == ("Polly.Lea", "fr-FR")
    assert said(root) == fr.TEXTS["UNAVAILABLE"]
    assert emitted().metrics().get("FaultThrottled") == 1


def test_a_german_wait_step_fault_is_german_and_a_first_step_fault_english():
    state = WaitState("Board", "phone-0123", 1, 1, 0, Speech("Polly.Vicki", "de-DE"), held=True, aware=True)
    waited = parse(handle(twilio_post(Urls(BASE).wait(state), To=PIN_NUMBER, AccountSid="AC" + "a" * 32)))
    assert said(waited) == de.TEXTS["UNAVAILABLE"]
    first = parse(handle(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER)))  # no route read yet
    assert said(first) == messages.UNAVAILABLE and first.find("Say").get("language") is None


def test_a_wrong_pin_whose_counter_cannot_be_written_is_still_counted(
    dynamodb: Any, emitted: Callable[[], Emitted]
):
    """A guessing flood throttles the counter writes: PinFailures (and its alarm) must still
    see every failure, before the write that fails."""
    dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", throttle)
    event = twilio_post(Urls(BASE).pin(PinState(1, 3, Speech())), To=PIN_NUMBER, Digits="999999")
    root = parse(handle_with(on_table(dynamodb), event))
    assert said(root) == messages.UNAVAILABLE
    metrics = emitted().metrics()
    assert (metrics.get("PinFailures"), metrics.get("FaultThrottled")) == (1, 1), metrics
