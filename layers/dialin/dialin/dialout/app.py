"""The dial-out API (POST /calls): place a phone call that joins a Video room when answered.

The request is checked first (``dialout.request``: JSON shape, E.164, the destination
allow-list, Video name limits), so nothing bad reaches Twilio. The REST client comes from
``edge.rest`` (shared with the room-events function); the voice webhooks never load it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from requests import RequestException, Timeout
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ..calls.steps import Speech, Urls
from ..core.errors import CredentialsUnavailable
from ..core.validation import is_e164, mask_number
from ..edge import faults
from ..edge.apigateway import context_base_url, route_path
from ..edge.credentials import Credentials
from ..edge.http import json_response
from ..edge.observability import count, logger
from ..edge.rest import ClientCache
from ..speech.prompts import default_voice
from . import flow
from .rate import CallRate
from .request import BadDialRequest, DialOutSettings, DialRequest, parse_request

ROUTE = "/calls"
STATUS_ROUTE = "/voice/status"
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
# Twilio's limit for inline TwiML.
MAX_TWIML_CHARS = 4000
# Dry runs: what the REST client is given instead of real credentials, and the SID it gets back.
DRY_RUN_ACCOUNT_SID = "AC" + "X" * 32
DRY_RUN_CALL_SID = "CA" + "0" * 32
TWILIO_ERROR_DOCS = "https://www.twilio.com/docs/errors/"
DIGIT_RUN = re.compile(r"\+?[0-9]{7,15}")


def call_parameters(request: DialRequest, urls: Urls, now: float, ring_seconds: int) -> dict[str, Any]:
    """Keyword arguments for ``client.calls.create``."""
    invite = None
    if request.confirm:
        invite = flow.Invite(caller=request.caller, room=request.room if request.announce_room else "")
    speech = Speech(voice=default_voice(request.language), language=request.language)
    answered = flow.dial_out_answered(
        request.room, request.identity, urls, int(now), ring_seconds, invite=invite, speech=speech
    )
    twiml = answered.to_xml(xml_declaration=False)
    if len(twiml) > MAX_TWIML_CHARS:
        raise BadDialRequest(
            f"room and identity are too long for the call's TwiML (at most {MAX_TWIML_CHARS} characters)",
            "room",
        )
    return {
        "to": request.to,
        "from_": request.from_number,
        "twiml": twiml,
        "timeout": ring_seconds,
        "status_callback": f"{urls.base}{STATUS_ROUTE}",
        "status_callback_method": "POST",
        "status_callback_event": list(STATUS_EVENTS),
    }


def _scrub(text: str) -> str:
    """Twilio's messages quote the numbers; keep them out of answers and logs."""
    return DIGIT_RUN.sub(lambda m: mask_number(m.group()) if is_e164(m.group()) else "[number]", text)


def twilio_failure(exc: TwilioRestException | TwilioServiceException) -> tuple[int, dict[str, Any]]:
    """Our answer to a Twilio error: its code, and a status that says whose problem it is."""
    status = int(exc.status or 0)
    code = exc.code
    if isinstance(exc, TwilioServiceException):
        text = ": ".join(part for part in (exc.title, exc.detail or "") if part)
    else:
        text = exc.msg
    if status in (401, 403):
        answer, error = 502, "twilio_auth"
        text = "Twilio refused the stack's credentials: check the account SID and token in the Twilio secret"
    elif status == 429:
        answer, error = 429, "twilio_rate_limited"
    elif 400 <= status < 500:
        # Well-formed, but Twilio will not place it: a bad or unreachable number, an
        # unverified caller ID, geographic permissions.
        answer, error = 422, "twilio_rejected"
    else:
        answer, error = 502, "twilio_unavailable"
    body: dict[str, Any] = {
        "error": error,
        "message": _scrub(str(text or "Twilio returned an error"))[:500],
        "twilioStatus": status,
        "twilioCode": code,
    }
    if isinstance(code, int):
        body["moreInfo"] = f"{TWILIO_ERROR_DOCS}{code}"
    return answer, body


class DryRunHttpClient(HttpClient):
    """Answers the REST client as Twilio would, sends nothing, and keeps what it would have sent."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("dialin.dry_run"), is_async=False)
        self.sent: dict[str, Any] | None = None

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        # Headers and auth are left out: they carry the credentials.
        self.sent = {"method": method, "url": uri, "data": dict(data or {})}
        return Response(201, json.dumps({"sid": DRY_RUN_CALL_SID, "status": "queued"}))


def _caller_arn(event: Mapping[str, Any]) -> str:
    """Who signed the request (API Gateway's IAM authorization fills this in)."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("userArn") or "")


@dataclass
class DialOutApp:
    settings: DialOutSettings
    credentials: Credentials
    # None: twilio's own HTTP client, created on first use and kept for the container.
    http_client: HttpClient | None = None
    clock: Callable[[], float] = field(default=time.time)
    # The per-stack call rate (dialin.dialout.rate); None: not limited (tests of other things).
    rate: CallRate | None = None
    _clients: ClientCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._clients = ClientCache(self.credentials, self.settings.api_base_url, self.http_client)

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        count("DialOutRequests")
        try:
            return self._handle(event)
        except Exception:  # a bug of ours: answer JSON, keep the trace in the log
            logger.exception("dial-out failed")
            count("Errors")
            return json_response(500, {"error": "internal_error", "message": "the call could not be placed"})

    def _handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if route_path(event) != ROUTE or event.get("httpMethod", "POST") != "POST":
            return json_response(404, {"error": "not_found", "message": f"use POST {ROUTE}"})
        context = event.get("requestContext") or {}
        request_id = str(context.get("requestId") or uuid.uuid4())
        logger.set_correlation_id(request_id)
        try:
            request = parse_request(event, self.settings, request_id)
            urls = Urls(context_base_url(event, self.settings.public_base_url))
            params = call_parameters(request, urls, self.clock(), self.settings.ring_seconds)
        except BadDialRequest as exc:
            count("DialOutRejected")
            logger.info("dial-out rejected", extra={"field": exc.field, "reason": _scrub(str(exc))})
            return json_response(400, {"error": "invalid_request", "message": str(exc), "field": exc.field})

        log = {
            "to": mask_number(request.to),
            "from": mask_number(request.from_number),
            "room": request.room,
            "caller": _caller_arn(event),
        }
        if self.settings.dry_run:
            return self._dry_run(request, params, log)
        refused = self._over_rate(log)
        if refused is not None:
            return refused
        try:
            call = self._rest_client().calls.create(**params)
        except CredentialsUnavailable as exc:
            faults.report("dial-out", exc, **log)
            return json_response(
                503, {"error": "not_configured", "message": f"{exc}: put them in the stack's Twilio secret"}
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            status, body = twilio_failure(exc)
            logger.warning(
                "dial-out refused by Twilio",
                extra={**log, "twilioStatus": body["twilioStatus"], "twilioCode": body["twilioCode"]},
            )
            count("DialOutTwilioErrors")
            return json_response(status, body)
        except Timeout:
            logger.error("dial-out timed out", extra=log)
            count("DialOutTwilioErrors")
            message = "Twilio did not answer in time; check the call log before retrying"
            return json_response(504, {"error": "twilio_timeout", "message": message})
        except RequestException as exc:
            logger.error("dial-out could not reach Twilio", extra={**log, "fault": type(exc).__name__})
            count("DialOutTwilioErrors")
            return json_response(502, {"error": "twilio_unreachable", "message": "could not reach Twilio"})
        count("DialOutPlaced")
        logger.info("dial-out placed", extra={**log, "callSid": call.sid})
        return json_response(
            201,
            {"callSid": call.sid, "status": call.status, "room": request.room, "identity": request.identity},
        )

    def _over_rate(self, log: dict[str, Any]) -> dict[str, Any] | None:
        """Count this call against the stack's hourly limit; an answer when it may not be placed."""
        try:
            allowed = self.rate is None or self.rate.allow(int(self.clock()), self.settings.calls_per_hour)
        except (BotoCoreError, ClientError) as exc:
            faults.report("dial-out rate", exc, **log)
            return json_response(503, {"error": "unavailable", "message": "the call could not be counted"})
        if allowed:
            return None
        count("DialOutRateLimited")
        logger.warning("dial-out rate limit reached", extra=log)
        limit = self.settings.calls_per_hour
        message = f"the stack places at most {limit} calls an hour; try again later"
        return json_response(429, {"error": "rate_limited", "message": message})

    def _rest_client(self) -> Client:
        return self._clients.get()

    def _dry_run(self, request: DialRequest, params: dict[str, Any], log: dict[str, Any]) -> dict[str, Any]:
        recorder = DryRunHttpClient()
        call = Client(DRY_RUN_ACCOUNT_SID, "dry-run", http_client=recorder).calls.create(**params)
        logger.info("dial-out dry run: no call placed", extra=log)
        return json_response(
            200,
            {
                "dryRun": True,
                "callSid": call.sid,
                "room": request.room,
                "identity": request.identity,
                "twilioRequest": recorder.sent,
            },
        )
