"""The call flow as pure functions: (call, directory records, clock) -> TwiML.

Nothing here reads the table, the clock or the environment; the handler passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from twilio.twiml.voice_response import VoiceResponse

from . import messages
from .budgets import Gate
from .identity import caller_identity, grant_identity
from .prompts import default_voice, localize
from .records import DIRECT, DTMF_SPEECH, LAST_DIGITS, PinGrant, Route
from .spoken import DIGIT_HINTS, spoken_digits
from .state import ConfirmState, PinState, Speech, Urls, WaitState

GATHER_TIMEOUT_SECONDS = 8
# A dial-out callee has this long after the invitation to press 1.
CONFIRM_TIMEOUT_SECONDS = 10
CONFIRM_KEY = "1"
# Twilio falls through to the verb after <Connect> at once when no in-progress room has
# that name, and also when a session that did start ends. A fall-through later than this
# after the <Connect> began means the caller was in the meeting.
SESSION_ENDED_AFTER_SECONDS = 15
REMIND_EVERY_LOOPS = 3
# How long a PIN step URL is accepted after it was made: the prompt, the pause of the slow
# path and a PIN typed slowly (the <Gather> waits up to 8 s between digits) fit well inside.
PIN_STEP_SECONDS = 300
DEFAULT_SPEECH = Speech()


@dataclass(frozen=True)
class Call:
    sid: str
    from_number: str
    to_number: str
    digits: str = ""
    speech: str = ""  # SpeechResult of a <Gather input="dtmf speech">
    # Status callbacks only: CallStatus, CallDuration, Direction, SipResponseCode.
    status: str = ""
    duration: str = ""
    direction: str = ""
    sip_response_code: str = ""
    account: str = ""  # AccountSid: the account that owns the dialed number; room state is kept per account
    # StirVerstat (the caller ID's attestation) and Twilio's I-Twilio-Idempotency-Token header.
    verstat: str = ""
    request_token: str = ""


@dataclass(frozen=True)
class Limits:
    pin_attempts: int = 3
    max_wait_seconds: int = 600
    hold_seconds: int = 20
    slow_path_seconds: int = 20


@dataclass(frozen=True)
class Guard:
    """What the brute-force defences decided for this caller (see dialin.budgets)."""

    attested: bool = False
    locked: bool = False  # the caller's own counter
    gate: Gate = Gate.OPEN  # the budgets; never applied to an attested caller

    @property
    def effective_gate(self) -> Gate:
        return Gate.OPEN if self.attested else self.gate


def spoken_seconds(text: str) -> int:
    """Rough time to speak ``text`` (about 14 characters a second), to time a <Connect>."""
    return (len(text) + 13) // 14 if text else 0


def _text(text: str, speech: Speech) -> str:
    """A prompt of ``messages`` in the call's language (any other text as it is)."""
    return localize(text, speech.language, speech.prompts)


def _say(response: VoiceResponse, text: str, speech: Speech) -> None:
    response.say(_text(text, speech), voice=speech.voice or None, language=speech.language or None)


def goodbye(text: str, speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    response = VoiceResponse()
    _say(response, text, speech)
    response.hangup()
    return response


def unavailable(speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    return goodbye(messages.UNAVAILABLE, speech)


def locked_out(speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    return goodbye(messages.LOCKED_OUT, speech)


def _join(
    response: VoiceResponse,
    urls: Urls,
    *,
    room: str,
    identity: str,
    speech: Speech,
    connect_at: int,
    since: int,
    loops: int = 0,
) -> VoiceResponse:
    """<Connect><Room>, then a <Redirect> to the wait step, reached only when Twilio moves on."""
    connect = response.connect()
    connect.room(room, participant_identity=identity)
    state = WaitState(room, identity, connect_at, since, loops, speech)
    response.redirect(urls.wait(state), method="POST")
    return response


def connect(
    response: VoiceResponse, urls: Urls, state: WaitState, now: float, text: str = ""
) -> VoiceResponse:
    """Say ``text``, then <Connect> to ``state``'s room (its fall-through times from now)."""
    if text:
        _say(response, text, state.speech)
    room = response.connect()
    room.room(state.room, participant_identity=state.identity)
    after = replace(state, connected_at=int(now) + spoken_seconds(text), held=False)
    response.redirect(urls.wait(after), method="POST")
    return response


def speech_of(route: Route) -> Speech:
    voice = route.voice or default_voice(route.language)
    return Speech(voice=voice, language=route.language, custom=bool(route.prompts), prompts=route.prompts)


def _gather(response: VoiceResponse, urls: Urls, state: PinState, lead: str = "") -> VoiceResponse:
    spoken = {}
    if state.spoken:
        spoken = {"hints": DIGIT_HINTS, "speech_timeout": "auto", "language": state.speech.language or None}
    gather = response.gather(
        input=DTMF_SPEECH if state.spoken else "dtmf",
        finish_on_key="#",
        timeout=GATHER_TIMEOUT_SECONDS,
        action=urls.pin(state),
        method="POST",
        action_on_empty_result=True,
        **spoken,
    )
    prompt = messages.PIN_PROMPT_SPOKEN if state.spoken else messages.PIN_PROMPT
    text = " ".join(_text(part, state.speech) for part in (lead, prompt) if part)
    gather.say(text, voice=state.speech.voice or None, language=state.speech.language or None)
    return response


def incoming(
    call: Call,
    route: Route | None,
    urls: Urls,
    now: float,
    limits: Limits,
    locked: bool = False,
    guard: Guard | None = None,
    aware: bool = False,
) -> VoiceResponse:
    """First webhook of a call: the dialed number decides. ``locked`` (or ``guard.locked``):
    the caller is locked out of PIN entry (a direct number still connects: it asks for no
    PIN); a spent budget slows or closes PIN entry for callers it applies to. ``aware``: the
    account sends room callbacks (carried to the PIN step)."""
    if route is None:
        return goodbye(messages.UNKNOWN_NUMBER)
    guard = guard or Guard(locked=locked)
    speech = speech_of(route)
    if guard.locked and route.mode != DIRECT:
        return locked_out(speech)
    if guard.effective_gate is Gate.CLOSED and route.mode != DIRECT:
        return goodbye(messages.TRY_LATER, speech)
    response = VoiceResponse()
    if route.mode == DIRECT:
        text = route.greeting or messages.CONNECTING
        _say(response, text, speech)
        identity = caller_identity(route.identity_policy, call.from_number, call.sid)
        start = int(now) + spoken_seconds(_text(text, speech))
        return _join(
            response, urls, room=route.room, identity=identity, speech=speech, connect_at=start, since=start
        )
    slow = guard.effective_gate is Gate.SLOW
    pause = limits.slow_path_seconds if slow else 0
    state = PinState(
        attempt=1,
        max_attempts=1 if slow else route.attempts or limits.pin_attempts,
        speech=speech,
        caller_policy=route.identity_policy,
        spoken=route.pin_input == DTMF_SPEECH,
        aware=aware,
        cap=route.phone_limit or 0,
        attested=guard.attested,
        not_before=int(now) + pause if slow else 0,
        expires=int(now) + pause + PIN_STEP_SECONDS,
    )
    if slow:
        _say(response, messages.SLOW_PATH, speech)
        response.pause(length=pause)
    return _gather(response, urls, state, lead=route.greeting)


def with_spoken_pin(call: Call, state: PinState) -> Call:
    """The call with a spoken PIN as its digits (keyed digits win), so a spoken PIN follows
    exactly the checks, counters and lockout of a keyed one. Speech is heard only where the
    route asked for it."""
    if call.digits or not call.speech or not state.spoken:
        return call
    return replace(call, digits=spoken_digits(call.speech, state.speech.language))


def pin_accepted(call: Call, grant: PinGrant | None, now: float) -> bool:
    return grant is not None and grant.usable(call.to_number, now)


def pin_entered(
    call: Call,
    state: PinState,
    grant: PinGrant | None,
    urls: Urls,
    now: float,
    locked: bool = False,
    guard: Guard | None = None,
) -> VoiceResponse:
    """The <Gather> action. ``grant`` is the record for the entered PIN, if any; ``locked``
    (or ``guard.locked``): this failure locked the caller out, so no further attempt is
    offered; a budget this failure spent ends the call (one attempt per call from then on)."""
    guard = guard or Guard(locked=locked, attested=state.attested)
    if grant is not None and pin_accepted(call, grant, now):
        response = VoiceResponse()
        _say(response, messages.PIN_ACCEPTED, state.speech)
        identity = grant_identity(grant, state.caller_policy or LAST_DIGITS, call.from_number, call.sid)
        start = int(now) + spoken_seconds(_text(messages.PIN_ACCEPTED, state.speech))
        return _join(
            response,
            urls,
            room=grant.room,
            identity=identity,
            speech=state.speech,
            connect_at=start,
            since=start,
        )
    if guard.locked:
        return locked_out(state.speech)
    gate = guard.effective_gate
    if gate is Gate.CLOSED:
        return goodbye(messages.TRY_LATER, state.speech)
    if state.attempt >= state.max_attempts or gate is Gate.SLOW:
        return goodbye(messages.PIN_FAILED, state.speech)
    lead = messages.PIN_WRONG if call.digits else messages.PIN_MISSING
    retry = replace(state, attempt=state.attempt + 1, not_before=0, expires=int(now) + PIN_STEP_SECONDS)
    return _gather(VoiceResponse(), urls, retry, lead=lead)


def pin_step_expired(state: PinState) -> VoiceResponse:
    return goodbye(messages.STEP_EXPIRED, state.speech)


def wait(state: WaitState, urls: Urls, now: float, limits: Limits) -> VoiceResponse:
    """The wait step (/voice/wait): Twilio moved past <Connect>, because the room was not in
    progress or because the caller's session ended."""
    if now - state.connected_at >= SESSION_ENDED_AFTER_SECONDS:
        return goodbye(messages.SESSION_ENDED, state.speech)
    if now - state.since >= limits.max_wait_seconds:
        return goodbye(messages.GAVE_UP, state.speech)
    response = VoiceResponse()
    text = ""
    if state.loops == 0:
        text = messages.NOT_STARTED
    elif state.loops % REMIND_EVERY_LOOPS == 0:
        text = messages.STILL_WAITING
    if text:
        _say(response, text, state.speech)
    response.pause(length=limits.hold_seconds)
    start = int(now) + spoken_seconds(_text(text, state.speech)) + limits.hold_seconds
    return _join(
        response,
        urls,
        room=state.room,
        identity=state.identity,
        speech=state.speech,
        connect_at=start,
        since=state.since,
        loops=state.loops + 1,
    )


def room_not_started(state: WaitState, now: float) -> bool:
    """For metrics: this fall-through means the room was not in progress."""
    return now - state.connected_at < SESSION_ENDED_AFTER_SECONDS


@dataclass(frozen=True)
class Invite:
    """What a dial-out callee hears before pressing 1 to join."""

    caller: str = ""  # who invites them, said by name; empty: not said
    room: str = ""  # the meeting's name, said only when the request allows it


def _invitation(invite: Invite, speech: Speech) -> str:
    parts = [
        _text(messages.DIAL_OUT_INVITE_BY, speech).format(caller=invite.caller)
        if invite.caller
        else _text(messages.DIAL_OUT_INVITE, speech)
    ]
    if invite.room:
        parts.append(_text(messages.DIAL_OUT_ROOM, speech).format(room=invite.room))
    parts.append(_text(messages.DIAL_OUT_PRESS_ONE, speech))
    return " ".join(parts)


def dial_out_answered(
    room: str,
    identity: str,
    urls: Urls,
    created_at: int,
    ring_seconds: int,
    invite: Invite | None = None,
    speech: Speech = DEFAULT_SPEECH,
) -> VoiceResponse:
    """The TwiML of a dial-out leg, handed to Twilio when the call is placed, before it rings.

    With an ``invite``, the callee hears who calls them into which meeting and joins only by
    pressing 1 (the confirm step); no key (a voicemail box, a wrong person) ends the call.
    Without one, it joins like an inbound caller and falls through to the same wait step. The
    <Connect> starts when the callee answers, up to ``ring_seconds`` after ``created_at``; the
    wait step times from that latest start, so a late answer to a meeting that has not started
    still hears "not started" (the cost: a session ending within about ``ring_seconds`` + 15 s
    of a quick answer is taken for "not started" too).
    """
    response = VoiceResponse()
    if invite is not None:
        gather = response.gather(
            input="dtmf",
            num_digits=1,
            timeout=CONFIRM_TIMEOUT_SECONDS,
            action=urls.confirm(ConfirmState(room, identity, created_at, speech)),
            method="POST",
            action_on_empty_result=True,
        )
        gather.say(_invitation(invite, speech), voice=speech.voice or None, language=speech.language or None)
        response.hangup()  # reached only if Twilio does not call the confirm step
        return response
    _say(response, messages.CONNECTING, speech)
    start = created_at + ring_seconds + spoken_seconds(_text(messages.CONNECTING, speech))
    return _join(
        response, urls, room=room, identity=identity, speech=speech, connect_at=start, since=created_at
    )


def dial_out_confirmed(call: Call, state: ConfirmState, urls: Urls, now: float) -> VoiceResponse:
    """The confirm step of a dial-out leg: 1 joins the room; anything else ends the call."""
    if call.digits != CONFIRM_KEY:
        return goodbye(messages.DIAL_OUT_NOT_CONFIRMED, state.speech)
    response = VoiceResponse()
    _say(response, messages.CONNECTING, state.speech)
    start = int(now) + spoken_seconds(_text(messages.CONNECTING, state.speech))
    return _join(
        response,
        urls,
        room=state.room,
        identity=state.identity,
        speech=state.speech,
        connect_at=start,
        since=state.since,
    )
