"""The PIN call flow as pure functions: (call, directory records, clock) -> TwiML and an outcome.

Nothing here reads the table, the clock or the environment; the handler passes them in.
"""

from __future__ import annotations

from dataclasses import replace

from twilio.twiml.voice_response import VoiceResponse

from ..calls.call import Answer, Call, Limits
from ..calls.steps import PinState, Speech, Urls
from ..calls.verbs import DEFAULT_SPEECH, goodbye, join, say, speech_of
from ..core.identity import caller_identity, grant_identity
from ..core.records import DIRECT, DTMF_SPEECH, LAST_DIGITS, PinGrant, Route
from ..guard.budgets import Gate, Guard
from ..speech import messages
from ..speech.spoken import DIGIT_HINTS, spoken_digits

GATHER_TIMEOUT_SECONDS = 8


# How long a PIN step URL is accepted after it was made: the prompt, the pause of the slow
# path and a PIN typed slowly (the <Gather> waits up to 8 s between digits) fit well inside.
PIN_STEP_SECONDS = 300
# Outcomes of the steps, which the voice app counts and logs (``voice.app.OUTCOMES``).
CONNECTED = "connected"
PIN_ASKED = "pin-asked"
PIN_FAILED = "pin-failed"
LOCKED_OUT = "locked-out"
BUDGET_SLOWED = "budget-slowed"
BUDGET_REFUSED = "budget-refused"
UNKNOWN_NUMBER = "unknown-number"
STEP_EXPIRED = "step-expired"


def locked_out(speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    return goodbye(messages.LOCKED_OUT, speech)


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
    say(gather, (lead, prompt), state.speech)
    return response


def incoming(
    call: Call,
    route: Route | None,
    urls: Urls,
    now: float,
    limits: Limits,
    guard: Guard | None = None,
    aware: bool = False,
) -> Answer:
    """First webhook of a call: the dialed number decides. ``guard.locked``:
    the caller is locked out of PIN entry (a direct number still connects: it asks for no
    PIN); a spent budget slows or closes PIN entry for callers it applies to. ``aware``: the
    account sends room callbacks (carried to the PIN step)."""
    if route is None:
        return Answer(goodbye(messages.UNKNOWN_NUMBER), UNKNOWN_NUMBER)
    guard = guard or Guard()
    speech = speech_of(route)
    if guard.locked and route.mode != DIRECT:
        return Answer(locked_out(speech), LOCKED_OUT)
    if guard.gate is Gate.CLOSED and route.mode != DIRECT:
        return Answer(goodbye(messages.TRY_LATER, speech), BUDGET_REFUSED)
    response = VoiceResponse()
    if route.mode == DIRECT:
        identity = caller_identity(route.identity_policy, call.from_number, call.sid)
        lead = route.greeting or messages.CONNECTING
        joined = join(
            response, urls, room=route.room, identity=identity, speech=speech, connect_at=int(now), lead=lead
        )
        return Answer(joined, CONNECTED)
    slow = guard.gate is Gate.SLOW
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
        say(response, messages.SLOW_PATH, speech)
        response.pause(length=pause)
    return Answer(_gather(response, urls, state, lead=route.greeting), BUDGET_SLOWED if slow else PIN_ASKED)


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
    guard: Guard | None = None,
) -> Answer:
    """The <Gather> action. ``grant`` is the record for the entered PIN, if any;
    ``guard.locked``: this failure locked the caller out, so no further attempt is
    offered; a budget this failure spent ends the call (one attempt per call from then on)."""
    guard = guard or Guard(attested=state.attested)
    if grant is not None and pin_accepted(call, grant, now):
        identity = grant_identity(grant, state.caller_policy or LAST_DIGITS, call.from_number, call.sid)
        joined = join(
            VoiceResponse(),
            urls,
            room=grant.room,
            identity=identity,
            speech=state.speech,
            connect_at=int(now),
            lead=messages.PIN_ACCEPTED,
        )
        return Answer(joined, CONNECTED)
    if guard.locked:
        return Answer(locked_out(state.speech), LOCKED_OUT)
    gate = guard.gate
    if gate is Gate.CLOSED:
        return Answer(goodbye(messages.TRY_LATER, state.speech), BUDGET_REFUSED)
    if state.attempt >= state.max_attempts or gate is Gate.SLOW:
        return Answer(goodbye(messages.PIN_FAILED, state.speech), PIN_FAILED)
    lead = messages.PIN_WRONG if call.digits else messages.PIN_MISSING
    retry = replace(state, attempt=state.attempt + 1, not_before=0, expires=int(now) + PIN_STEP_SECONDS)
    return Answer(_gather(VoiceResponse(), urls, retry, lead=lead), PIN_ASKED)


def pin_step_expired(state: PinState) -> Answer:
    return Answer(goodbye(messages.STEP_EXPIRED, state.speech), STEP_EXPIRED)
