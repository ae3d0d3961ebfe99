"""TwiML building blocks every call uses: say, connect, goodbye, the timer hold.

Pure: nothing here reads the table, the clock or the environment.
"""

from __future__ import annotations

from dataclasses import replace

from twilio.twiml.voice_response import Gather, VoiceResponse

from ..core.records import Route
from ..speech import messages
from ..speech.prompts import default_voice, localize
from .call import Limits
from .steps import Speech, Urls, WaitState

# Twilio falls through to the verb after <Connect> at once when no in-progress room has
# that name, and also when a session that did start ends. A fall-through later than this
# after the <Connect> began means the caller was in the meeting.
SESSION_ENDED_AFTER_SECONDS = 15


REMIND_EVERY_LOOPS = 3


DEFAULT_SPEECH = Speech()


def spoken_seconds(text: str) -> int:
    """Rough time to speak ``text`` (about 14 characters a second), to time a <Connect>."""
    return (len(text) + 13) // 14 if text else 0


# What a <Say> speaks: one text, or parts said one after the other (each a prompt or not).
Text = str | tuple[str, ...]


def localized(text: Text, speech: Speech, **values: object) -> str:
    """What the caller hears for ``text``: each prompt of ``messages`` in the call's language
    or the route's own text for it (other text as it is), parts joined by a space."""
    if isinstance(text, str):
        return localize(text, speech.language, speech.prompts, **values)
    return " ".join(localized(part, speech, **values) for part in text if part)


def heard_seconds(text: Text, speech: Speech) -> int:
    """Rough time the caller takes to hear ``text``, in the call's language."""
    return spoken_seconds(localized(text, speech))


def say(response: VoiceResponse | Gather, text: Text, speech: Speech, **values: object) -> None:
    """The one <Say> of every builder: the call's language, voice and the route's own texts."""
    response.say(
        localized(text, speech, **values), voice=speech.voice or None, language=speech.language or None
    )


def goodbye(text: Text, speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    response = VoiceResponse()
    say(response, text, speech)
    response.hangup()
    return response


def unavailable(speech: Speech = DEFAULT_SPEECH) -> VoiceResponse:
    return goodbye(messages.UNAVAILABLE, speech)


def join(
    response: VoiceResponse,
    urls: Urls,
    *,
    room: str,
    identity: str,
    speech: Speech,
    connect_at: int,
    since: int | None = None,
    loops: int = 0,
    lead: Text = "",
) -> VoiceResponse:
    """Say ``lead``, then <Connect><Room>, then a <Redirect> to the wait step, reached only when
    Twilio moves on. The <Connect> is expected to start once ``lead`` is said after
    ``connect_at``; ``since`` (the wait's start) defaults to that moment."""
    if lead:
        say(response, lead, speech)
        connect_at += heard_seconds(lead, speech)
    since = connect_at if since is None else since
    connect = response.connect()
    connect.room(room, participant_identity=identity)
    state = WaitState(room, identity, connect_at, since, loops, speech)
    response.redirect(urls.wait(state), method="POST")
    return response


def connect(
    response: VoiceResponse, urls: Urls, state: WaitState, now: float, text: Text = ""
) -> VoiceResponse:
    """Say ``text``, then <Connect> to ``state``'s room (its fall-through times from now)."""
    heard = localized(text, state.speech)
    if heard:
        say(response, text, state.speech)
    room = response.connect()
    room.room(state.room, participant_identity=state.identity)
    after = replace(state, connected_at=int(now) + spoken_seconds(heard), held=False)
    response.redirect(urls.wait(after), method="POST")
    return response


def speech_of(route: Route) -> Speech:
    voice = route.voice or default_voice(route.language)
    return Speech(voice=voice, language=route.language, custom=bool(route.prompts), prompts=route.prompts)


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
        say(response, text, state.speech)
    response.pause(length=limits.hold_seconds)
    start = int(now) + heard_seconds(text, state.speech) + limits.hold_seconds
    return join(
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
