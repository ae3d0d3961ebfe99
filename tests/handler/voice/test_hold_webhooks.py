"""Holding is cheap (issue 17): with room callbacks, a held caller costs at most one webhook a
minute. Each call is held through the real voice handler on moto, every request signed as
Twilio signs it, and every TwiML document played the way Twilio plays it on the test's clock:
a <Say> for as long as it takes to speak (``verbs.spoken_seconds``), a <Pause> for its length,
a <Play> for ``loop`` times the clip (HoldMusicSeconds), a <Connect> to a room that has not
started falls through at once. Nobody starts the room, so each call holds until it gives up.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pytest
from support.callers import DIRECT, GUEST_PIN, INCOMING, PIN_NUMBER, gather_action, twilio_post
from support.rooms import RoomHandler, room_callback
from support.twiml import parse
from support.voice import TABLE, Clock, handle, local_settings

from dialin.calls.verbs import spoken_seconds
from dialin.core.pins import hash_pin
from dialin.core.records import PinGrant
from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

MUSIC = "https://music.example.com/hold.mp3"
CALL_SID = "CA" + "4" * 32
MINUTE = 60


@dataclass
class Heard:
    """What one held call cost and what its caller heard, on the test's clock."""

    webhooks: list[float] = field(default_factory=list)  # when Twilio fetched each document
    documents: list[ET.Element] = field(default_factory=list)
    said: list[tuple[float, str]] = field(default_factory=list)
    connects: int = 0  # <Connect> tries (each falls through at once: the room never starts)
    ended_at: float = 0.0

    def held_seconds(self, root: ET.Element, music_seconds: int) -> int:
        """A document's hold: its pauses and its music (speech not counted)."""
        pauses = sum(int(v.get("length", "1")) for v in root.iter("Pause"))
        return pauses + sum(int(v.get("loop", "1")) * music_seconds for v in root.iter("Play"))

    def most_in_a_minute(self) -> int:
        return max(sum(1 for t in self.webhooks if start <= t < start + MINUTE) for start in self.webhooks)

    def said_at(self, text: str) -> list[float]:
        return [at for at, words in self.said if text in words]


def play(post: Callable[[str], ET.Element], url: str, clock: Clock, music_seconds: int) -> Heard:
    """Fetch ``url`` and follow the call until it hangs up, as Twilio would."""
    heard = Heard()
    while url:
        heard.webhooks.append(clock.now)
        root = post(url)
        heard.documents.append(root)
        url = ""
        for verb in root:
            if verb.tag == "Say":
                heard.said.append((clock.now, verb.text or ""))
                clock.now += spoken_seconds(verb.text or "")
            elif verb.tag == "Pause":
                clock.now += int(verb.get("length", "1"))
            elif verb.tag == "Play":
                clock.now += int(verb.get("loop", "1")) * music_seconds
            elif verb.tag == "Connect":
                heard.connects += 1  # no room in progress: Twilio moves on at once
            elif verb.tag == "Redirect":
                url = verb.text or ""
                break
            elif verb.tag == "Hangup":
                break
        assert len(heard.webhooks) < 200, "the call never ended"
    heard.ended_at = clock.now
    return heard


@pytest.fixture
def held_call(dynamodb: Any, clock: Clock, rooms: RoomHandler) -> Callable[..., tuple[Heard, float]]:
    """Hold one call on a room-aware account, with the voice function's settings given."""
    assert rooms(room_callback("room-ended", "AnotherRoom", clock.now))["statusCode"] == 200

    def held(to: str = DIRECT, digits: str = "", music_seconds: int = 20, **env: Any) -> tuple[Heard, float]:
        settings = local_settings(**env)
        app = VoiceApp.on_table(settings, dynamodb, Credentials(settings), clock=clock)

        def post(url: str, **params: str) -> ET.Element:
            return parse(handle(app, twilio_post(url, call_sid=CALL_SID, To=to, **params)))

        start = clock.now
        url = INCOMING
        if digits:  # the PIN step is the first hold document
            url = gather_action(post(INCOMING))
            heard = play(lambda u: post(u, Digits=digits), url, clock, music_seconds)
        else:
            heard = play(post, url, clock, music_seconds)
        return heard, start

    return held


def assert_cheap(heard: Heard, music_seconds: int = 20) -> None:
    assert heard.connects == 0, "a room with no state was tried with <Connect>"
    assert heard.most_in_a_minute() == 1, [round(b - a) for a, b in pairwise(heard.webhooks)]
    for root in heard.documents:
        if root.find("Redirect") is not None:  # Twilio fetches another: this one holds a minute
            assert heard.held_seconds(root, music_seconds) >= 55, ET.tostring(root)


@pytest.mark.parametrize("hold_seconds", [20, 7, 120])
def test_a_held_caller_costs_one_webhook_a_minute_and_gives_up_at_max_wait(
    held_call: Callable[..., tuple[Heard, float]], hold_seconds: int
):
    heard, start = held_call(HOLD_SECONDS=hold_seconds)
    assert_cheap(heard)
    # MaxWaitSeconds 600 from when the greeting ends: the goodbye is inside the last document.
    [gave_up] = heard.said_at(messages.GAVE_UP)
    assert 600 <= gave_up - start <= 600 + 5
    assert heard.documents[-1].find("Hangup") is not None
    assert len(heard.webhooks) <= 600 // MINUTE + 1  # was 60: one every 20 s, two per <Connect> try
    # Reminders as often as before: every third hold step.
    reminders = heard.said_at(messages.STILL_WAITING)
    assert reminders, heard.said
    gaps = [b - a for a, b in pairwise(reminders)]
    assert all(3 * hold_seconds <= gap <= 3 * hold_seconds + 10 for gap in gaps), gaps


@pytest.mark.parametrize("music_seconds", [20, 25, 90])
def test_hold_music_loops_for_a_minute(held_call: Callable[..., tuple[Heard, float]], music_seconds: int):
    heard, start = held_call(
        music_seconds=music_seconds, HOLD_MUSIC_URL=MUSIC, HOLD_MUSIC_SECONDS=music_seconds
    )
    assert_cheap(heard, music_seconds)
    first = heard.documents[0].find("Play")
    assert first is not None and first.text == MUSIC
    assert int(first.get("loop", "1")) == -(-60 // music_seconds)
    [gave_up] = heard.said_at(messages.GAVE_UP)
    assert 600 <= gave_up - start < 600 + music_seconds + 5  # a clip is never cut


def test_a_pin_caller_is_held_as_cheaply(held_call: Callable[..., tuple[Heard, float]]):
    heard, _ = held_call(to=PIN_NUMBER, digits=GUEST_PIN)
    assert_cheap(heard)
    assert messages.PIN_ACCEPTED in heard.said[0][1] and messages.NOT_STARTED in heard.said[0][1]
    assert heard.said_at(messages.GAVE_UP)


def test_an_early_pin_waits_for_its_window_as_cheaply(
    held_call: Callable[..., tuple[Heard, float]], dynamodb: Any, clock: Clock
):
    opens = int(clock.now) + 7 * 60 + 13
    grant = PinGrant(hash_pin(DEV_PIN_PEPPER, "55550009"), room="ClinicRoom1", valid_from=opens)
    dynamodb.put_item(TableName=TABLE, Item=grant.to_item())
    heard, _ = held_call(to=PIN_NUMBER, digits="55550009")
    assert_cheap(heard)
    # A webhook at the moment the window opens (the caller would join a running room then).
    assert any(opens <= t <= opens + 2 for t in heard.webhooks), [t - opens for t in heard.webhooks]
    announced = heard.said_at("Your PIN opens in")
    assert len(announced) >= 7  # about once a minute, as before
    [gave_up] = heard.said_at(messages.GAVE_UP)
    assert 600 <= gave_up - opens <= 605  # the longest wait counts from the opening


def test_without_room_callbacks_the_timer_still_polls(dynamodb: Any, clock: Clock):
    """The timer path is as before: a <Pause> of HoldSeconds, then a <Connect> try."""
    settings = local_settings()
    app = VoiceApp.on_table(settings, dynamodb, Credentials(settings), clock=clock)
    heard = play(
        lambda url: parse(handle(app, twilio_post(url, call_sid=CALL_SID, To=DIRECT))), INCOMING, clock, 20
    )
    assert heard.connects > 25 and heard.said_at(messages.GAVE_UP)
    waits = [root for root in heard.documents if root.find("Pause") is not None]
    assert {root.find("Pause").get("length") for root in waits} == {"20"}
