"""One webhook's call parameters, the limits a call is held to, and a step's answer."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse


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
    # The hold music clip's length (HoldMusicSeconds): room-aware holds play it often enough to
    # last a minute, and time their reminders and the longest wait by it.
    hold_music_seconds: int = 20


@dataclass(frozen=True)
class Answer:
    """What a pure flow step decided: the TwiML, and the outcome its app counts and logs."""

    twiml: VoiceResponse
    outcome: str
