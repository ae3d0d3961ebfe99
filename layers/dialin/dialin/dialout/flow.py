"""A dial-out leg's TwiML as pure functions: the invitation, press 1, the join."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from ..calls.call import Call
from ..calls.steps import ConfirmState, Speech, Urls
from ..calls.verbs import DEFAULT_SPEECH, goodbye, join, localized, say
from ..speech import messages

# A dial-out callee has this long after the invitation to press 1.
CONFIRM_TIMEOUT_SECONDS = 10
# A confirm step URL is accepted this long after the call could last be answered (its
# ringing): the invitation and the 10 s to press 1 fit well inside; a replay later is refused.
CONFIRM_STEP_SECONDS = 300


CONFIRM_KEY = "1"


@dataclass(frozen=True)
class Invite:
    """What a dial-out callee hears before pressing 1 to join."""

    caller: str = ""  # who invites them, said by name; empty: not said
    room: str = ""  # the meeting's name, said only when the request allows it


def _invitation(invite: Invite, speech: Speech) -> str:
    parts = [
        localized(messages.DIAL_OUT_INVITE_BY, speech, caller=invite.caller)
        if invite.caller
        else localized(messages.DIAL_OUT_INVITE, speech)
    ]
    if invite.room:
        parts.append(localized(messages.DIAL_OUT_ROOM, speech, room=invite.room))
    parts.append(localized(messages.DIAL_OUT_PRESS_ONE, speech))
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
        expires = created_at + ring_seconds + CONFIRM_STEP_SECONDS
        gather = response.gather(
            input="dtmf",
            num_digits=1,
            timeout=CONFIRM_TIMEOUT_SECONDS,
            action=urls.confirm(ConfirmState(room, identity, created_at, speech, expires)),
            method="POST",
            action_on_empty_result=True,
        )
        say(gather, _invitation(invite, speech), speech)
        response.hangup()  # reached only if Twilio does not call the confirm step
        return response
    return join(
        response,
        urls,
        room=room,
        identity=identity,
        speech=speech,
        connect_at=created_at + ring_seconds,
        since=created_at,
        lead=messages.CONNECTING,
    )


def dial_out_confirmed(call: Call, state: ConfirmState, urls: Urls, now: float) -> VoiceResponse:
    """The confirm step of a dial-out leg: 1 joins the room; anything else ends the call, as
    does a step URL past its expiry (a replay: nothing joins)."""
    if state.expires and now > state.expires:
        return goodbye(messages.STEP_EXPIRED, state.speech)
    if call.digits != CONFIRM_KEY:
        return goodbye(messages.DIAL_OUT_NOT_CONFIRMED, state.speech)
    return join(
        VoiceResponse(),
        urls,
        room=state.room,
        identity=state.identity,
        speech=state.speech,
        connect_at=int(now),
        since=state.since,
        lead=messages.CONNECTING,
    )
