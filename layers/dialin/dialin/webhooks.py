"""The voice webhooks: check the signature, read one record, run the flow, answer TwiML.

Every answer a caller can reach is a 200 with polite TwiML, except a bad signature (403).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from twilio.twiml.voice_response import VoiceResponse

from . import flow
from .config import Settings
from .credentials import Credentials, CredentialsUnavailable
from .directory import Directory
from .http import forbidden, not_found, twiml
from .observability import count, logger
from .pins import hash_pin, looks_like_pin
from .records import MalformedRecord
from .signature import BadRequest, FormParams, form_params, is_valid, public_base_url, route_path
from .state import BadState, PinState, Urls, WaitState
from .status import record_status
from .validation import mask_number

# Faults that end in "temporarily unavailable" rather than an error the caller would hear.
SERVICE_FAULTS = (BotoCoreError, ClientError, CredentialsUnavailable, MalformedRecord, BadState)


@dataclass
class VoiceApp:
    settings: Settings
    directory: Directory
    credentials: Credentials
    clock: Callable[[], float] = field(default=time.time)

    @property
    def limits(self) -> flow.Limits:
        return flow.Limits(
            pin_attempts=self.settings.default_pin_attempts,
            max_wait_seconds=self.settings.max_wait_seconds,
            hold_seconds=self.settings.hold_seconds,
        )

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        step = STEPS.get(route_path(event))
        if step is None:
            return not_found()
        try:
            params = form_params(event)
            if not is_valid(event, params, self.credentials.auth_tokens(), self.settings.public_base_url):
                logger.warning("signature rejected", extra={"route": route_path(event)})
                count("SignatureRejected")
                return forbidden()
        except BadRequest:
            logger.warning("unreadable request rejected", extra={"route": route_path(event)})
            count("SignatureRejected")
            return forbidden()
        except SERVICE_FAULTS as exc:
            # Without the token nothing can be verified; the answer reveals nothing either.
            return self._unavailable("credentials", exc)

        call = flow.Call(
            sid=params.get("CallSid"),
            from_number=params.get("From"),
            to_number=params.get("To"),
            digits=params.get("Digits"),
            status=params.get("CallStatus"),
            duration=params.get("CallDuration"),
            direction=params.get("Direction"),
            sip_response_code=params.get("SipResponseCode"),
        )
        logger.set_correlation_id(call.sid or None)
        query = _query(event)
        urls = Urls(public_base_url(event, self.settings.public_base_url))
        try:
            response = step(self, call, query, urls)
        except SERVICE_FAULTS as exc:
            return self._unavailable(step.__name__, exc)
        except Exception:  # never let the caller hear "an application error has occurred"
            logger.exception("unexpected error", extra={"step": step.__name__})
            count("Errors")
            return twiml(flow.unavailable())
        return twiml(response)

    def _unavailable(self, where: str, exc: Exception) -> dict[str, Any]:
        logger.error("service fault", extra={"step": where, "fault": type(exc).__name__})
        count("ServiceFaults")
        return twiml(flow.unavailable())

    # Steps. Each reads at most one item.

    def incoming(self, call: flow.Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        count("Calls")
        route = self.directory.route(call.to_number)
        log = {"step": "incoming", "to": mask_number(call.to_number), "from": mask_number(call.from_number)}
        if route is None:
            count("UnknownNumbers")
            logger.info("unknown number", extra=log)
        else:
            if route.mode == "direct":
                count("Connects")
            logger.info("call answered", extra={**log, "mode": route.mode})
        return flow.incoming(call, route, urls, self.clock(), self.limits)

    def pin(self, call: flow.Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        state = PinState.from_query(query)
        now = self.clock()
        grant = None
        if looks_like_pin(call.digits, self.settings.min_pin_length):
            grant = self.directory.pin_grant(hash_pin(self.credentials.pepper(), call.digits))
        accepted = flow.pin_accepted(call, grant, now)
        if accepted:
            count("Connects")
        else:
            count("PinFailures")
        logger.info(
            "pin entered",
            extra={
                "step": "pin",
                "attempt": state.attempt,
                "accepted": accepted,
                "entered": bool(call.digits),
            },
        )
        return flow.pin_entered(call, state, grant, urls, now)

    def wait(self, call: flow.Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        state = WaitState.from_query(query)
        now = self.clock()
        not_started = flow.room_not_started(state, now)
        count("RoomNotStarted" if not_started else "SessionsEnded")
        logger.info("after connect", extra={"step": "wait", "not_started": not_started, "loops": state.loops})
        return flow.after_connect(state, urls, now, self.limits)

    def status(self, call: flow.Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        """Status callback of inbound numbers and dial-out legs: record how the leg ended."""
        record_status(call)
        return VoiceResponse()


STEPS: dict[str, Callable[..., VoiceResponse]] = {
    "/voice/incoming": VoiceApp.incoming,
    "/voice/pin": VoiceApp.pin,
    "/voice/wait": VoiceApp.wait,
    "/voice/status": VoiceApp.status,
}


def _query(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}


__all__ = ["STEPS", "FormParams", "VoiceApp"]
