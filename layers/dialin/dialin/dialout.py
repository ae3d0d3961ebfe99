"""The dial-out API (POST /calls): place a phone call that joins a Video room when answered.

A request is checked here (JSON shape, E.164, the destination allow-list, Video name
limits) before anything reaches Twilio. This is the only module that imports the Twilio
REST client, and only the DialOutFunction imports it: the voice webhooks never load it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from requests import RequestException, Timeout
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from . import flow
from .credentials import Credentials, CredentialsUnavailable
from .http import json_response
from .identity import caller_identity
from .observability import count, logger
from .records import LAST_DIGITS
from .signature import public_base_url, route_path
from .state import Urls
from .validation import is_e164, mask_number, name_problem

ROUTE = "/calls"
STATUS_ROUTE = "/voice/status"
FIELDS = ("to", "room", "identity", "from")
# How long the callee's phone rings before Twilio gives up (status no-answer).
RING_SECONDS = 30
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
# Twilio's limit for inline TwiML.
MAX_TWIML_CHARS = 4000
# Connect and read timeout of the REST call, well inside the function's 10 s. No retries:
# a retried POST could place the call twice.
TWILIO_TIMEOUT_SECONDS = 6
EXAMPLE_NUMBER = "+14155550123"
PREFIX = re.compile(r"^\+[0-9]{1,15}$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
# ITU-T E.164 country calling codes: 1 (NANP) and 7 have one digit, these have two, and
# every other code has three.
# fmt: off
TWO_DIGIT_CODES = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
})
# fmt: on
# Dry runs: what the REST client is given instead of real credentials, and the SID it gets back.
DRY_RUN_ACCOUNT_SID = "AC" + "X" * 32
DRY_RUN_CALL_SID = "CA" + "0" * 32
TWILIO_ERROR_DOCS = "https://www.twilio.com/docs/errors/"
DIGIT_RUN = re.compile(r"\+?[0-9]{7,15}")


def country_code(number: str) -> str:
    """``+1`` for +14155550123, ``+44`` for +442071234567, ``+353`` for +35312345678."""
    if not is_e164(number):
        return ""
    digits = number[1:]
    if digits[0] in "17":
        return f"+{digits[0]}"
    if digits[:2] in TWO_DIGIT_CODES:
        return f"+{digits[:2]}"
    return f"+{digits[:3]}"


def parse_prefixes(raw: str) -> tuple[str, ...]:
    """``"+1, +4420"`` -> ``("+1", "+4420")``; malformed entries are dropped (fail closed)."""
    prefixes = (item.strip() for item in raw.split(","))
    return tuple(dict.fromkeys(p for p in prefixes if PREFIX.match(p)))


def _flag(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DialOutSettings:
    caller_number: str = ""  # the default `from`
    allowed_prefixes: tuple[str, ...] = ()  # `to` must start with one of these
    public_base_url: str = ""  # base of our routes as Twilio requests them; empty: from the event
    dry_run: bool = False  # `dialin serve`: answer with the request instead of calling Twilio
    ring_seconds: int = RING_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DialOutSettings:
        env = os.environ if env is None else env
        caller = env.get("DIALOUT_CALLER_NUMBER", "").strip()
        caller = caller if is_e164(caller) else ""
        raw_prefixes = env.get("DIALOUT_ALLOWED_PREFIXES", "")
        if raw_prefixes.strip():
            prefixes = parse_prefixes(raw_prefixes)
        else:
            # Default: the caller number's own country.
            prefixes = (country_code(caller),) if caller else ()
        return cls(
            caller_number=caller,
            allowed_prefixes=prefixes,
            public_base_url=env.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
            dry_run=_flag(env.get("DIALOUT_DRY_RUN", "")),
        )


class BadDialRequest(ValueError):
    """The request cannot be placed as a call; the message says why (no phone numbers in it)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DialRequest:
    to: str
    from_number: str
    room: str
    identity: str


def _body_text(event: Mapping[str, Any]) -> str:
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise BadDialRequest("the body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise BadDialRequest("the body is not valid base64 UTF-8") from None
    return body


def _number(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = data.get(name) or default
    if not value:
        raise BadDialRequest(f"{name} is required (an E.164 number such as {EXAMPLE_NUMBER})", name)
    if not is_e164(value):
        raise BadDialRequest(f"{name} must be an E.164 number such as {EXAMPLE_NUMBER}", name)
    return value


def parse_request(event: Mapping[str, Any], settings: DialOutSettings, request_id: str) -> DialRequest:
    """The JSON body ``{"to", "room", "identity", "from"}``, checked; raises BadDialRequest."""
    try:
        data = json.loads(_body_text(event))
    except ValueError:
        raise BadDialRequest("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadDialRequest('the body must be a JSON object such as {"to": "+1...", "room": "..."}')
    unknown = sorted(str(name)[:40] for name in data if name not in FIELDS)
    if unknown:
        raise BadDialRequest(f"unknown field(s): {', '.join(unknown)}; expected {', '.join(FIELDS)}")
    for name in FIELDS:
        if name in data and not isinstance(data[name], str):
            raise BadDialRequest(f"{name} must be a string", name)

    to = _number(data, "to")
    if not settings.caller_number and not data.get("from"):
        raise BadDialRequest("from is required: the stack has no DialOutCallerNumber", "from")
    from_number = _number(data, "from", settings.caller_number)
    if not settings.allowed_prefixes:
        raise BadDialRequest(
            "no destination is allowed: set the stack's DialOutAllowedPrefixes or DialOutCallerNumber", "to"
        )
    if not to.startswith(settings.allowed_prefixes):
        allowed = ", ".join(settings.allowed_prefixes)
        raise BadDialRequest(f"to is not an allowed destination (allowed prefixes: {allowed})", "to")

    if "room" not in data:
        raise BadDialRequest("room is required (the Video room's unique name)", "room")
    room = data["room"]
    problem = name_problem(room, "room")
    if problem:
        raise BadDialRequest(problem, "room")
    identity = data.get("identity", "")
    if "identity" in data:
        problem = name_problem(identity, "identity")
        if problem:
            raise BadDialRequest(problem, "identity")
    else:
        identity = caller_identity(LAST_DIGITS, to, request_id)
    return DialRequest(to=to, from_number=from_number, room=room, identity=identity)


def call_parameters(request: DialRequest, urls: Urls, now: float, ring_seconds: int) -> dict[str, Any]:
    """Keyword arguments for ``client.calls.create``."""
    answered = flow.dial_out_answered(request.room, request.identity, urls, int(now), ring_seconds)
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
    _client: tuple[tuple[str, str], Client] | None = field(default=None, init=False, repr=False)

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
            urls = Urls(public_base_url(event, self.settings.public_base_url))
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
        try:
            call = self._rest_client().calls.create(**params)
        except CredentialsUnavailable as exc:
            logger.error("dial-out unavailable", extra={**log, "fault": str(exc)})
            count("ServiceFaults")
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

    def _rest_client(self) -> Client:
        account_sid = self.credentials.account_sid()
        token = next(iter(self.credentials.auth_tokens()), "")
        if not ACCOUNT_SID.match(account_sid) or not token:
            raise CredentialsUnavailable("the Twilio account SID or auth token is not set")
        key = (account_sid, token)
        if self._client is None or self._client[0] != key:
            if self.http_client is None:
                self.http_client = TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
            self._client = (key, Client(account_sid, token, http_client=self.http_client))
        return self._client[1]

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
