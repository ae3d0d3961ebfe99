"""The call flow as pure functions: records and clock in, TwiML out (parsed and checked)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.twiml import said, verbs

from dialin.calls import verbs as blocks
from dialin.calls.call import Call, Limits
from dialin.calls.steps import PinState, Speech, Urls, WaitState
from dialin.core.identity import caller_identity, grant_identity
from dialin.core.records import ANONYMOUS, PIN_MODE, REPLACE, PinGrant, Route
from dialin.guard.budgets import Gate, Guard
from dialin.speech import messages
from dialin.voice import flow

URLS = Urls("https://v.example.com/Prod")
NOW = 1_800_000_000.0
LIMITS = Limits(pin_attempts=3, max_wait_seconds=600, hold_seconds=20)
CALL = Call(sid="CA" + "1" * 32, from_number="+14155550123", to_number="+15555550100")


def xml(response) -> ET.Element:
    return ET.fromstring(response.to_xml())


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_unknown_number_says_sorry_and_hangs_up():
    answer = flow.incoming(CALL, None, URLS, NOW, LIMITS)
    root = xml(answer.twiml)
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.UNKNOWN_NUMBER
    assert answer.outcome == flow.UNKNOWN_NUMBER


def test_direct_number_connects_with_generated_identity_then_waits():
    route = Route(number=CALL.to_number, room="Daily <Standup> & co", voice="Polly.Amy", language="en-GB")
    root = xml(flow.incoming(CALL, route, URLS, NOW, LIMITS).twiml)
    assert verbs(root) == ["Say", "Connect", "Redirect"]
    room = root.find("Connect/Room")
    assert room is not None and room.text == "Daily <Standup> & co"  # escaped by the builder
    identity = room.get("participantIdentity")
    assert identity.startswith("phone-0123-") and CALL.from_number not in identity
    say = root.find("Say")
    assert say.get("voice") == "Polly.Amy" and say.get("language") == "en-GB"
    wait = root.find("Redirect")
    assert wait.get("method") == "POST"
    assert wait.text.startswith("https://v.example.com/Prod/voice/wait?")
    state = WaitState.from_query(query_of(wait.text))
    assert (state.room, state.identity, state.loops) == (route.room, identity, 0)
    assert state.connected_at >= NOW and state.since == state.connected_at


def test_pin_number_gathers_dtmf_ending_in_pound_in_route_voice():
    route = Route(number=CALL.to_number, mode=PIN_MODE, voice="Polly.Joanna", language="en-US", attempts=4)
    root = xml(flow.incoming(CALL, route, URLS, NOW, LIMITS).twiml)
    assert verbs(root) == ["Gather"]
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf" and gather.get("finishOnKey") == "#"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.find("Say").get("voice") == "Polly.Joanna"
    state = PinState.from_query(query_of(gather.get("action")))
    assert (state.attempt, state.max_attempts) == (1, 4)


def _grant(**kw) -> PinGrant:
    return PinGrant(pin_hash="00" * 32, room=kw.pop("room", "Clinic"), **kw)


def _pin_state(attempt: int = 1, max_attempts: int = 3) -> PinState:
    return PinState(attempt, max_attempts, Speech("Polly.Joanna", "en-US"), "last-digits")


def test_correct_personal_pin_joins_with_its_identity():
    grant = _grant(identity="alice", on_duplicate=REPLACE)
    root = xml(flow.pin_entered(CALL, _pin_state(), grant, URLS, NOW).twiml)
    assert verbs(root) == ["Say", "Connect", "Redirect"]
    assert root.find("Connect/Room").get("participantIdentity") == "alice"
    assert root.find("Connect/Room").text == "Clinic"


def test_personal_pin_unique_policy_adds_a_per_call_suffix():
    grant = _grant(identity="alice")
    other = Call(sid="CA" + "2" * 32, from_number=CALL.from_number, to_number=CALL.to_number)
    first = grant_identity(grant, "last-digits", CALL.from_number, CALL.sid)
    second = grant_identity(grant, "last-digits", other.from_number, other.sid)
    assert first.startswith("alice-") and second.startswith("alice-") and first != second
    assert first == grant_identity(grant, "last-digits", CALL.from_number, CALL.sid)


def test_guest_pin_gets_generated_identity():
    root = xml(flow.pin_entered(CALL, _pin_state(), _grant(), URLS, NOW).twiml)
    identity = root.find("Connect/Room").get("participantIdentity")
    assert identity.startswith("guest-0123-")


def test_identity_is_at_most_128_characters():
    grant = _grant(identity="x" * 128)
    assert len(grant_identity(grant, "last-digits", CALL.from_number, CALL.sid)) == 128
    assert caller_identity(ANONYMOUS, CALL.from_number, CALL.sid).startswith("phone-")
    assert "0123" not in caller_identity(ANONYMOUS, CALL.from_number, CALL.sid)
    assert caller_identity("last-digits", "anonymous", CALL.sid).count("-") == 1


@pytest.mark.parametrize("digits", ["123456", ""])
def test_wrong_or_missing_pin_reprompts_with_next_attempt(digits: str):
    call = Call(CALL.sid, CALL.from_number, CALL.to_number, digits)
    root = xml(flow.pin_entered(call, _pin_state(1), None, URLS, NOW).twiml)
    assert verbs(root) == ["Gather"]
    text = said(root)
    assert (messages.PIN_WRONG if digits else messages.PIN_MISSING) in text
    assert messages.PIN_PROMPT in text
    assert PinState.from_query(query_of(root.find("Gather").get("action"))).attempt == 2


def test_last_wrong_pin_says_goodbye_and_hangs_up():
    answer = flow.pin_entered(CALL, _pin_state(3, 3), None, URLS, NOW)
    root = xml(answer.twiml)
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.PIN_FAILED
    assert answer.outcome == flow.PIN_FAILED


@pytest.mark.parametrize(
    ("grant", "why"),
    [
        (_grant(valid_from=int(NOW) + 60), "not yet valid"),
        (_grant(valid_until=int(NOW)), "expired"),
        (_grant(number="+15555550199"), "scoped to another number"),
    ],
)
def test_pin_outside_its_window_or_scope_is_refused(grant: PinGrant, why: str):
    root = xml(flow.pin_entered(CALL, _pin_state(1), grant, URLS, NOW).twiml)
    assert verbs(root) == ["Gather"], why


def test_pin_inside_window_and_scope_is_accepted():
    grant = _grant(valid_from=int(NOW) - 60, valid_until=int(NOW) + 60, number=CALL.to_number)
    assert verbs(xml(flow.pin_entered(CALL, _pin_state(1), grant, URLS, NOW).twiml)) == [
        "Say",
        "Connect",
        "Redirect",
    ]


def _wait(connected_at: float, since: float | None = None, loops: int = 0) -> WaitState:
    start = int(connected_at)
    return WaitState("Clinic", "alice", start, int(since if since is not None else start), loops, Speech())


def test_room_not_started_tells_caller_waits_and_retries():
    state = _wait(NOW - 1)
    root = xml(blocks.wait(state, URLS, NOW, LIMITS))
    assert verbs(root) == ["Say", "Pause", "Connect", "Redirect"]
    assert said(root) == messages.NOT_STARTED
    assert root.find("Pause").get("length") == "20"
    assert root.find("Connect/Room").get("participantIdentity") == "alice"
    nxt = WaitState.from_query(query_of(root.find("Redirect").text))
    assert nxt.loops == 1 and nxt.since == state.since
    assert nxt.connected_at == int(NOW) + blocks.spoken_seconds(messages.NOT_STARTED) + 20
    assert blocks.room_not_started(state, NOW)


def test_waiting_reminds_only_now_and_then():
    quiet = xml(blocks.wait(_wait(NOW - 1, NOW - 30, loops=1), URLS, NOW, LIMITS))
    assert verbs(quiet) == ["Pause", "Connect", "Redirect"]
    reminder = xml(blocks.wait(_wait(NOW - 1, NOW - 90, loops=3), URLS, NOW, LIMITS))
    assert said(reminder) == messages.STILL_WAITING


def test_waiting_is_bounded_then_goodbye():
    root = xml(blocks.wait(_wait(NOW - 1, NOW - 600, loops=20), URLS, NOW, LIMITS))
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.GAVE_UP


def test_session_that_ended_normally_hears_goodbye_not_not_started():
    state = _wait(NOW - 45 * 60)
    root = xml(blocks.wait(state, URLS, NOW, LIMITS))
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.SESSION_ENDED
    assert not blocks.room_not_started(state, NOW)


def test_state_never_carries_the_pin():
    call = Call(CALL.sid, CALL.from_number, CALL.to_number, "246810")
    for response in (
        flow.pin_entered(call, _pin_state(1), None, URLS, NOW).twiml,
        flow.pin_entered(call, _pin_state(1), _grant(identity="alice"), URLS, NOW).twiml,
    ):
        assert "246810" not in response.to_xml()


@pytest.mark.parametrize(
    ("mode", "guard", "outcome"),
    [
        (PIN_MODE, Guard(), flow.PIN_ASKED),
        (PIN_MODE, Guard(locked=True), flow.LOCKED_OUT),
        (PIN_MODE, Guard(gate=Gate.SLOW), flow.BUDGET_SLOWED),
        (PIN_MODE, Guard(gate=Gate.CLOSED), flow.BUDGET_REFUSED),
        (PIN_MODE, Guard(attested=True, gate=Gate.CLOSED), flow.BUDGET_REFUSED),  # their own budget closed
        ("direct", Guard(locked=True, gate=Gate.CLOSED), flow.CONNECTED),  # a direct number asks no PIN
    ],
)
def test_the_first_step_says_what_it_decided(mode, guard, outcome):
    route = Route(number=CALL.to_number, mode=mode, room="Board")
    answer = flow.incoming(CALL, route, URLS, NOW, LIMITS, guard=guard)
    assert answer.outcome == outcome
    expected = {
        flow.PIN_ASKED: ["Gather"],
        flow.LOCKED_OUT: ["Say", "Hangup"],
        flow.BUDGET_SLOWED: ["Say", "Pause", "Gather"],
        flow.BUDGET_REFUSED: ["Say", "Hangup"],
        flow.CONNECTED: ["Say", "Connect", "Redirect"],
    }[outcome]
    assert verbs(xml(answer.twiml)) == expected


def test_the_pin_step_says_what_it_decided():
    wrong = Call(CALL.sid, CALL.from_number, CALL.to_number, "999999")
    assert flow.pin_entered(wrong, _pin_state(1), None, URLS, NOW).outcome == flow.PIN_ASKED
    assert flow.pin_entered(wrong, _pin_state(1), _grant(), URLS, NOW).outcome == flow.CONNECTED
    locked = flow.pin_entered(wrong, _pin_state(1), None, URLS, NOW, guard=Guard(locked=True))
    assert locked.outcome == flow.LOCKED_OUT
    closed = flow.pin_entered(wrong, _pin_state(1), None, URLS, NOW, guard=Guard(gate=Gate.CLOSED))
    assert closed.outcome == flow.BUDGET_REFUSED
    assert flow.pin_step_expired(_pin_state(1)).outcome == flow.STEP_EXPIRED
