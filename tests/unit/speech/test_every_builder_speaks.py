"""Every TwiML builder x every catalogue: a non-English call never hears English.

Each builder is run for a call in each language the catalogues speak, once with the
catalogue's texts and once with a route that has its own text for every prompt. Every <Say>
must carry the call's language and voice and no English sentence; with the route's own texts,
it must say nothing but them; every step URL must carry the language on to the next step.
"""

from __future__ import annotations

import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.twiml.voice_response import VoiceResponse

from dialin.admin import callers
from dialin.calls import verbs
from dialin.calls.call import Answer, Call, Limits
from dialin.calls.steps import ConfirmState, PinState, Speech, Urls, WaitState
from dialin.core.records import DIRECT, PIN_MODE, PinGrant, Route
from dialin.dialout import flow as dialout_flow
from dialin.guard.budgets import Gate, Guard
from dialin.rooms import events
from dialin.rooms import flow as room_flow
from dialin.rooms import state as rooms
from dialin.speech import messages, prompts
from dialin.voice import flow as voice_flow

URLS = Urls("https://v.example.com/Prod")
NOW = 1_800_000_000.0
LIMITS = Limits()
NUMBER = "+15555550101"
CALL = Call(sid="CA" + "1" * 32, from_number="+14155550123", to_number=NUMBER, account="AC" + "a" * 32)
LANGUAGES = ["es-ES", "es-MX", "fr-FR", "fr-CA", "de-DE", "pt-BR", "pt-PT"]
ENGLISH = prompts.CATALOGUES[prompts.ENGLISH]
MARK = re.compile(r"«[A-Z_]+[^»]*»")


def _english_sentences() -> set[str]:
    found: set[str] = set()
    for text in ENGLISH.values():
        for sentence in re.split(r"(?<=[.,])\s+", text):
            literal = "".join(part for part, *_ in string.Formatter().parse(sentence)).strip(" .,")
            if len(literal) >= 6:
                found.add(literal)
    return found


ENGLISH_SENTENCES = _english_sentences()


def own_texts() -> dict[str, str]:
    """A route's own text for every prompt: a marker that keeps the prompt's placeholders."""
    texts = {}
    for name, english in ENGLISH.items():
        fields = " ".join(f"{{{field}}}" for _, field, _, _ in string.Formatter().parse(english) if field)
        texts[name] = f"«{name} {fields}»"
    return texts


def wait_state(speech: Speech, **changes: object) -> WaitState:
    state = WaitState("Board", "phone-0123", int(NOW) - 5, int(NOW) - 30, 0, speech, aware=True)
    return replace(state, **changes)


def pin_state(speech: Speech, **changes: object) -> PinState:
    return replace(PinState(attempt=1, max_attempts=3, speech=speech), **changes)


def route(speech: Speech, **changes: object) -> Route:
    base = Route(NUMBER, mode=PIN_MODE, room="Board", voice=speech.voice, language=speech.language)
    return replace(base, prompts=dict(speech.prompts), **changes)


def grant(**changes: object) -> PinGrant:
    return replace(PinGrant(pin_hash="ab" * 32, room="Board", identity="alice"), **changes)


def waiting(speech: Speech) -> rooms.WaitingCall:
    return rooms.WaitingCall(
        CALL.account,
        "Board",
        CALL.sid,
        "phone-0123",
        1,
        voice=speech.voice,
        language=speech.language,
        custom=speech.custom,
        farewell=speech.prompts.get(messages.EVERYONE_LEFT.key, ""),
    )


def xml(twiml: VoiceResponse | Answer | str) -> str:
    if isinstance(twiml, Answer):
        twiml = twiml.twiml
    return twiml if isinstance(twiml, str) else twiml.to_xml()


def phone_caller(speech: Speech) -> callers.PhoneCaller:
    return callers.PhoneCaller("phone-0123", CALL.sid, True, waiting(speech), spoken=speech)


Builder = Callable[[Speech], "VoiceResponse | Answer | str"]
WRONG = replace(CALL, digits="999999")
RIGHT = replace(CALL, digits="123456")
BUILDERS: dict[str, Builder] = {
    "goodbye": lambda s: verbs.goodbye(messages.SESSION_ENDED, s),
    "unavailable": lambda s: verbs.unavailable(s),
    "connect with a lead": lambda s: verbs.connect(
        VoiceResponse(), URLS, wait_state(s), NOW, messages.CONNECTING
    ),
    "wait, first loop": lambda s: verbs.wait(wait_state(s, connected_at=int(NOW)), URLS, NOW, LIMITS),
    "wait, reminder": lambda s: verbs.wait(wait_state(s, connected_at=int(NOW), loops=3), URLS, NOW, LIMITS),
    "wait, session ended": lambda s: verbs.wait(wait_state(s, connected_at=int(NOW) - 60), URLS, NOW, LIMITS),
    "wait, gave up": lambda s: verbs.wait(
        wait_state(s, connected_at=int(NOW), since=int(NOW) - 10_000), URLS, NOW, LIMITS
    ),
    "held, not started, after a PIN": lambda s: room_flow.attempt(
        wait_state(s), rooms.NOT_STARTED, URLS, NOW, LIMITS, "", messages.PIN_ACCEPTED
    ),
    "held, full, after a PIN": lambda s: room_flow.attempt(
        wait_state(s), rooms.FULL, URLS, NOW, LIMITS, "", messages.PIN_ACCEPTED
    ),
    "held, full, direct": lambda s: room_flow.attempt(
        wait_state(s), rooms.FULL, URLS, NOW, LIMITS, "", messages.CONNECTING
    ),
    "held, still full": lambda s: room_flow.attempt(
        wait_state(s, loops=3), rooms.FULL, URLS, NOW, LIMITS, ""
    ),
    "held, still not started": lambda s: room_flow.attempt(
        wait_state(s, loops=3), rooms.NOT_STARTED, URLS, NOW, LIMITS, ""
    ),
    "held, reminders inside a minute's hold": lambda s: room_flow.attempt(
        wait_state(s, loops=1), rooms.NOT_STARTED, URLS, NOW, Limits(hold_seconds=10), ""
    ),
    "held, music, reminder inside": lambda s: room_flow.attempt(
        wait_state(s, loops=2), rooms.FULL, URLS, NOW, LIMITS, "https://music.example.com/a.mp3"
    ),
    "held, goodbye inside the hold": lambda s: room_flow.held(
        wait_state(s, held=True, loops=3, since=int(NOW) - 570), True, None, URLS, NOW, LIMITS, ""
    )[0],
    "held, early PIN, opening inside the hold": lambda s: room_flow.early_pin(
        wait_state(s, not_before=int(NOW) + 100), URLS, NOW, LIMITS, ""
    ),
    "held, early PIN, minutes": lambda s: room_flow.early_pin(
        wait_state(s, not_before=int(NOW) + 600), URLS, NOW, LIMITS, ""
    ),
    "held, early PIN, one minute": lambda s: room_flow.early_pin(
        wait_state(s, not_before=int(NOW) + 30), URLS, NOW, LIMITS, ""
    ),
    "held, gave up": lambda s: room_flow.held(
        wait_state(s, held=True, since=int(NOW) - 10_000), True, None, URLS, NOW, LIMITS, ""
    )[0],
    "fell through, left": lambda s: room_flow.fell_through(
        wait_state(s, connected_at=int(NOW) - 60), True, None, URLS, NOW, LIMITS, ""
    )[0],
    "incoming, direct": lambda s: voice_flow.incoming(CALL, route(s, mode=DIRECT), URLS, NOW, LIMITS),
    "incoming, PIN": lambda s: voice_flow.incoming(CALL, route(s), URLS, NOW, LIMITS),
    "incoming, spoken PIN": lambda s: voice_flow.incoming(
        CALL, route(s, pin_input="dtmf speech"), URLS, NOW, LIMITS
    ),
    "incoming, locked out": lambda s: voice_flow.incoming(
        CALL, route(s), URLS, NOW, LIMITS, guard=Guard(locked=True)
    ),
    "incoming, budget closed": lambda s: voice_flow.incoming(
        CALL, route(s), URLS, NOW, LIMITS, guard=Guard(gate=Gate.CLOSED)
    ),
    "incoming, slow path": lambda s: voice_flow.incoming(
        CALL, route(s), URLS, NOW, LIMITS, guard=Guard(gate=Gate.SLOW)
    ),
    "PIN accepted": lambda s: voice_flow.pin_entered(RIGHT, pin_state(s), grant(), URLS, NOW),
    "PIN wrong": lambda s: voice_flow.pin_entered(WRONG, pin_state(s), None, URLS, NOW),
    "PIN missing": lambda s: voice_flow.pin_entered(CALL, pin_state(s), None, URLS, NOW),
    "PIN failed": lambda s: voice_flow.pin_entered(WRONG, pin_state(s, attempt=3), None, URLS, NOW),
    "PIN locks out": lambda s: voice_flow.pin_entered(
        WRONG, pin_state(s), None, URLS, NOW, guard=Guard(locked=True)
    ),
    "PIN expired": lambda s: verbs.goodbye(messages.PIN_EXPIRED, s),
    "PIN step expired": lambda s: voice_flow.pin_step_expired(pin_state(s)),
    "dial-out, no invite": lambda s: dialout_flow.dial_out_answered(
        "Board", "dial-1", URLS, int(NOW), 30, speech=s
    ),
    "dial-out, invite": lambda s: dialout_flow.dial_out_answered(
        "Board", "dial-1", URLS, int(NOW), 30, dialout_flow.Invite(caller="Dr Smith", room="Board"), s
    ),
    "dial-out, anonymous invite": lambda s: dialout_flow.dial_out_answered(
        "Board", "dial-1", URLS, int(NOW), 30, dialout_flow.Invite(), s
    ),
    "dial-out, confirmed": lambda s: dialout_flow.dial_out_confirmed(
        replace(CALL, digits="1"), ConfirmState("Board", "dial-1", int(NOW), s), URLS, NOW
    ),
    "dial-out, not confirmed": lambda s: dialout_flow.dial_out_confirmed(
        CALL, ConfirmState("Board", "dial-1", int(NOW), s), URLS, NOW
    ),
    "moved into the room": lambda s: events.moved_twiml(waiting(s), URLS, NOW),
    "phone-only room ended": lambda s: events.ended_twiml(waiting(s).speech()),
    "removed by the host": lambda s: callers.removed_twiml(phone_caller(s)),
    "moved to a running room": lambda s: callers.moved_twiml(
        phone_caller(s), rooms.Room(CALL.account, "Breakout", status=rooms.IN_PROGRESS), "Breakout", URLS, NOW
    ),
    "moved to a room not started": lambda s: callers.moved_twiml(
        phone_caller(s), None, "Breakout", URLS, NOW
    ),
}


def speech_for(language: str, own: bool) -> Speech:
    voice = prompts.default_voice(language)
    return Speech(voice, language, custom=own, prompts=own_texts() if own else {})


def step_urls(root: ET.Element) -> list[str]:
    urls = [el.text or "" for el in root.iter("Redirect")]
    return urls + [el.get("action", "") for el in root.iter("Gather")]


def check(name: str, twiml: str, speech: Speech) -> None:
    root = ET.fromstring(twiml)
    for say in root.iter("Say"):
        text = say.text or ""
        assert say.get("language") == speech.language, (name, say.attrib)
        assert say.get("voice") == speech.voice, (name, say.attrib)
        english = [sentence for sentence in ENGLISH_SENTENCES if sentence in text]
        assert not english, f"{name} ({speech.language}) says English: {english}"
        if speech.prompts:
            assert not MARK.sub("", text).strip(), f"{name} says more than the route's own texts: {text!r}"
    for url in step_urls(root):
        query = parse_qs(urlsplit(url).query)
        assert query.get("l") == [speech.language], (name, url)
        assert query.get("o") == (["1"] if speech.custom else None), (name, url)


@pytest.mark.parametrize("own", [False, True], ids=["catalogue", "route's own texts"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_non_english_call_hears_no_english(name, language, own):
    speech = speech_for(language, own)
    twiml = xml(BUILDERS[name](speech))
    check(name, twiml, speech)
    root = ET.fromstring(twiml)
    assert list(root.iter("Say")) or name == "moved into the room", f"{name} says nothing"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_check_catches_english_in_a_french_call(name):
    """The check is not vacuous: the same builder for an English call, labelled French, fails
    (unless the builder says nothing)."""
    english = xml(BUILDERS[name](Speech()))
    if name == "moved into the room":
        return  # says nothing: its URLs are checked above
    with pytest.raises(AssertionError):
        check(
            name,
            english.replace("<Say>", '<Say language="fr-FR" voice="Polly.Lea">'),
            speech_for("fr-FR", False),
        )


def test_every_prompt_is_said_by_some_builder():
    """The builders above cover the catalogue: each prompt's own text is heard somewhere."""
    heard = " ".join(xml(build(speech_for("fr-FR", True))) for build in BUILDERS.values())
    # An unknown number has no route, so no language to speak: it is said in English.
    unheard = sorted(name for name in ENGLISH if f"«{name} " not in heard and name != "UNKNOWN_NUMBER")
    assert not unheard, f"no builder says {unheard}: add one to BUILDERS"


def test_each_prompt_is_keyed_by_its_name_not_its_english_text():
    for name, value in vars(messages).items():
        if name.isupper():
            assert isinstance(value, messages.Prompt) and value.key == name
    twin = messages.Prompt("PIN_WRONG", str(messages.PIN_MISSING))  # same English, other name
    assert prompts.localize(twin, "fr-FR") == prompts.catalogue("fr")["PIN_WRONG"]
    assert prompts.localize(str(messages.PIN_WRONG), "fr-FR") == str(messages.PIN_WRONG)  # plain text
