"""Room-aware joining as pure functions: (wait state, what the room callbacks said, clock) -> TwiML.

A caller about to join meets one of the decisions of ``rooms.decide``: no callbacks for the
account (TIMER: join and time the fall-through, exactly as ``calls.verbs.wait`` does without this module),
CONNECT, NOT_STARTED or FULL. Waiting is a hold: an announcement, the hold music (or a
pause), then a <Redirect> back to the wait step marked ``held``; the room-events function
moves the call into the room through the Calls API the moment the room starts, so the hold
loop is only the safety net.
"""

from __future__ import annotations

from dataclasses import replace

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
    surely_not_started,
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


def hold(state: WaitState, urls: Urls, limits: Limits, music: str, text: verbs.Text = "") -> VoiceResponse:
    """Say ``text``, play the hold music (or pause), then come back to the wait step."""
    response = VoiceResponse()
    if verbs.localized(text, state.speech):
        verbs.say(response, text, state.speech)
    if music:
        response.play(music)
    else:
        response.pause(length=limits.hold_seconds)
    after = replace(state, held=True, loops=state.loops + 1)
    response.redirect(urls.wait(after), method="POST")
    return response


def _announcement(decision: str, loops: int) -> str:
    if loops == 0:
        return messages.MEETING_FULL if decision == FULL else messages.NOT_STARTED
    if loops % verbs.REMIND_EVERY_LOOPS:
        return ""
    return messages.STILL_FULL if decision == FULL else messages.STILL_WAITING


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
    return hold(state, urls, limits, music, (lead, _announcement(decision, state.loops)))


def early_pin(state: WaitState, urls: Urls, now: float, limits: Limits, music: str) -> VoiceResponse:
    """Hold until an early PIN's window opens, saying when every few loops."""
    text = ""
    if state.loops % verbs.REMIND_EVERY_LOOPS == 0:
        text = opens_in(state.not_before - now, state.speech)
    return hold(state, urls, limits, music, text)


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
    decision = decide(aware, room, state.identity, state.cap or MAX_PHONE_PARTICIPANTS)
    if decision == NOT_STARTED and not surely_not_started(room, now):
        # Room state is per room, "aware" per account: a lost room-created must not strand
        # the caller until MaxWaitSeconds. Try to join, with the timer's fall-through.
        decision = TIMER
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
    return hold(state, urls, limits, music, _announcement(decision, state.loops)), decision
