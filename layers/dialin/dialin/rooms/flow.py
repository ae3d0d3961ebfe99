"""Room-aware joining as pure functions: (wait state, what the room callbacks said, clock) -> TwiML.

A caller about to join meets one of the decisions of ``rooms.decide``: no callbacks for the
account (TIMER: join and time the fall-through, exactly as ``calls.verbs.wait`` does without this module),
CONNECT, NOT_STARTED or FULL. Waiting is a hold: an announcement, the hold music (or a
pause), then a <Redirect> back to the wait step marked ``held``; the room-events function
moves the call into the room through the Calls API the moment the room starts, so the hold
loop is only the safety net. With callbacks one hold document lasts at least a minute, its
reminders (and the longest wait's goodbye) inside it: at most one webhook a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ..calls import verbs
from ..calls.call import Limits
from ..calls.steps import Speech, Urls, WaitState
from ..core.records import PinGrant
from ..speech import messages
from .state import (
    CONNECT,
    FULL,
    MAX_PHONE_PARTICIPANTS,
    NOT_STARTED,
    TIMER,
    Room,
    decide,
    was_connected,
)

# A PIN's validity window, as the PIN step sees it.
OPEN = "open"
EARLY = "early"  # opens within MaxWaitSeconds: the caller waits for it
LATE = "late"  # has closed
NOT_VALID = "not-valid"  # unknown, another number's, or opening too far ahead to admit to
# Other outcomes of the wait step.
GAVE_UP = "gave-up"
SESSION_ENDED = "session-ended"


def pin_window(grant: PinGrant | None, dialed: str, now: float, max_wait_seconds: int) -> str:
    if grant is None or (grant.number and grant.number != dialed):
        return NOT_VALID
    if grant.valid_from is not None and now < grant.valid_from:
        return EARLY if grant.valid_from - now <= max_wait_seconds else NOT_VALID
    if grant.valid_until is not None and now >= grant.valid_until:
        return LATE
    return OPEN


def opens_in(seconds: float, speech: Speech) -> str:
    """When an early PIN opens, in whole minutes rounded up, as the caller hears it."""
    minutes = max(1, int((seconds + 59) // 60))
    if minutes == 1:
        return verbs.localized(messages.PIN_OPENS_SOON, speech)
    return verbs.localized(messages.PIN_OPENS_IN, speech, minutes=minutes)


# With room callbacks the Calls API moves a held caller into the room the moment it starts, so
# the hold loop is only a safety net: each hold document holds the caller this long (its
# pauses or its music, in whole hold steps; speech not counted), and Twilio fetches at most one
# a minute. One that ends at a set moment (the longest wait, an early PIN's opening) lasts at
# least a minute all told and holds at least MIN_HOLD_SECONDS of it.
HOLD_DOCUMENT_SECONDS = 60
MIN_HOLD_SECONDS = 55
# What a held caller hears before hold step ``loop``, which starts at the moment given.
Announce = Callable[[int, float], str]
# A hold document's plan: ("say", text) and ("hold", seconds), in order.
SAY, HOLD = "say", "hold"
Plan = list[tuple[str, Any]]


@dataclass(frozen=True)
class Step:
    """One hold step: a pause of HoldSeconds, or the hold music's clip (HoldMusicSeconds)."""

    seconds: int
    music: str = ""


def hold(
    state: WaitState,
    urls: Urls,
    limits: Limits,
    music: str,
    now: float,
    lead: str = "",
    announce: Announce = lambda _loop, _at: "",
) -> VoiceResponse:
    """Say ``lead`` and the announcement, hold (music, or a pause), then come back to the wait
    step. With room callbacks (``state.aware``) one document holds for a minute (``_long_hold``);
    without them, one hold step: a clip of music, or a pause of HoldSeconds."""
    if state.aware:
        return _long_hold(state, urls, limits, music, now, lead, announce)
    response = VoiceResponse()
    text = (lead, announce(state.loops, now))
    if verbs.localized(text, state.speech):
        verbs.say(response, text, state.speech)
    if music:
        response.play(music)
    else:
        response.pause(length=limits.hold_seconds)
    after = replace(state, held=True, loops=state.loops + 1)
    response.redirect(urls.wait(after), method="POST")
    return response


def _plan(
    state: WaitState, step: Step, lead: str, announce: Announce, now: float, stop: float | None
) -> tuple[Plan, float, int]:
    """Hold steps from ``now``, each after its announcement: until they hold
    HOLD_DOCUMENT_SECONDS or, with ``stop``, until that moment (a pause cut short; a clip of
    music is never cut, so it may end a little after it). Also returns the moment the plan
    ends and the loops counted by then."""
    plan: Plan = []
    at, loops, held = float(now), state.loops, 0
    text: verbs.Text = (lead, announce(loops, at))
    while True:
        heard = verbs.localized(text, state.speech)
        if heard:
            plan.append((SAY, text))
            at += verbs.spoken_seconds(heard)
        seconds = step.seconds
        if stop is not None and not step.music:
            seconds = min(seconds, int(stop - at))
        if seconds < 1 or (stop is not None and stop - at < 1):
            return plan, at, loops
        plan.append((HOLD, seconds))
        at, loops, held = at + seconds, loops + 1, held + seconds
        if (held >= HOLD_DOCUMENT_SECONDS) if stop is None else (stop - at < 1):
            return plan, at, loops
        text = announce(loops, at)


def _held(plan: Plan) -> int:
    return sum(value for kind, value in plan if kind == HOLD)


def _render(response: VoiceResponse, plan: Plan, state: WaitState, step: Step) -> None:
    """The plan as TwiML: consecutive hold steps as one <Pause>, or one <Play loop> of the clip."""
    pending = 0
    for kind, value in [*plan, (SAY, "")]:
        if kind == HOLD:
            pending += value
            continue
        if pending and step.music:
            response.play(step.music, loop=pending // step.seconds)
        elif pending:
            response.pause(length=pending)
        pending = 0
        if value:
            verbs.say(response, value, state.speech)


def _long_hold(
    state: WaitState,
    urls: Urls,
    limits: Limits,
    music: str,
    now: float,
    lead: str,
    announce: Announce,
) -> VoiceResponse:
    """One hold document of HOLD_DOCUMENT_SECONDS, its reminders inside it. When too little would
    be left after it for another (of the longest wait, or before an early PIN opens), it holds
    to that moment instead: then the wait step joins the caller, or it says goodbye itself."""
    step = Step(limits.hold_music_seconds, music) if music else Step(limits.hold_seconds)
    gives_up = state.since + limits.max_wait_seconds
    opens = state.not_before if state.not_before > now else None
    ends = gives_up if opens is None else min(gives_up, opens)
    plan, end, loops = _plan(state, step, lead, announce, now, None)
    stop = None
    last, _, _ = _plan(replace(state, loops=loops), step, "", announce, end, ends)
    if ends - end < HOLD_DOCUMENT_SECONDS or _held(last) < MIN_HOLD_SECONDS:
        # What would be left after a full document is too short for another: hold to the end.
        stop = ends
        plan, end, loops = _plan(state, step, lead, announce, now, stop)
    response = VoiceResponse()
    _render(response, plan, state, step)
    if stop is not None and (opens is None or gives_up < opens):
        verbs.say(response, messages.GAVE_UP, state.speech)
        response.hangup()
        return response
    response.redirect(urls.wait(replace(state, held=True, loops=loops)), method="POST")
    return response


def _announcement(decision: str, loops: int) -> str:
    if loops == 0:
        return messages.MEETING_FULL if decision == FULL else messages.NOT_STARTED
    if loops % verbs.REMIND_EVERY_LOOPS:
        return ""
    return messages.STILL_FULL if decision == FULL else messages.STILL_WAITING


def announcing(decision: str) -> Announce:
    """A held caller's announcements: the first, then a reminder every few hold steps."""
    return lambda loop, _at: _announcement(decision, loop)


def attempt(
    state: WaitState,
    decision: str,
    urls: Urls,
    now: float,
    limits: Limits,
    music: str,
    lead: str = "",
) -> VoiceResponse:
    """A caller about to join: <Connect> (CONNECT, TIMER) or hold (NOT_STARTED, FULL)."""
    if decision in (CONNECT, TIMER):
        return verbs.connect(VoiceResponse(), urls, state, now, lead)
    return hold(state, urls, limits, music, now, lead, announcing(decision))


def early_pin(state: WaitState, urls: Urls, now: float, limits: Limits, music: str) -> VoiceResponse:
    """Hold until an early PIN's window opens, saying when every few hold steps."""

    def announce(loop: int, at: float) -> str:
        if loop % verbs.REMIND_EVERY_LOOPS:
            return ""
        return opens_in(state.not_before - at, state.speech)

    return hold(state, urls, limits, music, now, "", announce)


def held(
    state: WaitState,
    aware: bool,
    room: Room | None,
    urls: Urls,
    now: float,
    limits: Limits,
    music: str,
) -> tuple[VoiceResponse, str]:
    """Back from a hold: give up, keep holding, or join. Also returns what was decided."""
    if now - state.since >= limits.max_wait_seconds:
        return verbs.goodbye(messages.GAVE_UP, state.speech), GAVE_UP
    if now < state.not_before:
        return early_pin(state, urls, now, limits, music), EARLY
    # With callbacks a room without state is held too, never tried with a <Connect> (a try and
    # its fall-through would be two webhooks): a lost room-created is caught by the per-minute
    # sweep, which asks Twilio about rooms that have held calls.
    decision = decide(aware, room, state.identity, state.cap or MAX_PHONE_PARTICIPANTS)
    return attempt(state, decision, urls, now, limits, music), decision


def fell_through(
    state: WaitState,
    aware: bool,
    room: Room | None,
    urls: Urls,
    now: float,
    limits: Limits,
    music: str,
) -> tuple[VoiceResponse, str]:
    """Twilio moved past <Connect>. Without callbacks: the timer decides, as before. With them:
    a caller whose identity was seen in the room left or was removed, and is never put back."""
    if not aware and not music:
        ended = now - state.connected_at >= verbs.SESSION_ENDED_AFTER_SECONDS
        return verbs.wait(state, urls, now, limits), SESSION_ENDED if ended else TIMER
    if was_connected(room, state.identity) or now - state.connected_at >= verbs.SESSION_ENDED_AFTER_SECONDS:
        return verbs.goodbye(messages.SESSION_ENDED, state.speech), SESSION_ENDED
    if now - state.since >= limits.max_wait_seconds:
        return verbs.goodbye(messages.GAVE_UP, state.speech), GAVE_UP
    decision = (
        FULL
        if decide(aware, room, state.identity, state.cap or MAX_PHONE_PARTICIPANTS) == FULL
        else NOT_STARTED
    )
    # A fall-through at once from a running room with a place means Twilio's view is ahead of
    # the callbacks (the room just ended, or is about to start): hold rather than loop.
    return hold(state, urls, limits, music, now, "", announcing(decision)), decision
