"""Play one phone call against the voice webhooks the way Twilio does.

Each request carries Twilio's standard voice parameters and an X-Twilio-Signature for the
exact URL requested; each answer's TwiML is followed verb by verb. Nothing waits for real
time: a <Pause> or a <Gather> timeout is only reported, and added up; each request says how
many seconds were simulated so far (``SIMULATED_SECONDS_HEADER``), which `dialin serve`
follows so that the call flow's timing (``MaxWaitSeconds``) holds. Real time passes only
where asked to:

- ``wait_for_move``: on hold (music or a pause, then a <Redirect>, no <Connect>), wait up to
  this long for the Calls API to move the call, as `dialin serve`'s stand-in for Twilio
  reports it (GET /_twilio/local/Calls/{CallSid}/next), and follow the new TwiML;
- ``stay``: once in a room, stay up to this long: the call may be moved again (new TwiML) or
  leave the room (removed, or the room ended), and then Twilio moves on past the <Connect>.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, urljoin, urlsplit

from dialin_tools.errors import DialinError
from dialin_tools.lib.apigw import FORM, twilio_signature
from dialin_tools.lib.simulated_time import SIMULATED_SECONDS_HEADER

ENTRY_PATH = "/voice/incoming"
# `dialin serve`'s stand-in for Twilio's media side (see serve/twilio_standin.py).
STANDIN_CALLS = "/_twilio/local/Calls"
DEFAULT_URL = "http://127.0.0.1:3000"
DEFAULT_FROM = "+15555550123"  # fictional
FAKE_ACCOUNT_SID = "AC" + "0" * 32
# Enough for the longest default wait (MaxWaitSeconds 600 / HoldSeconds 20) and PIN entry.
MAX_STEPS = 50
TIMEOUT_SECONDS = 15.0  # Twilio's webhook timeout

Transport = Callable[[str, str, dict[str, str], bytes | None, float], tuple[int, bytes]]


class CallFailed(DialinError):
    """The endpoint did not answer with TwiML (network error, non-200, not XML)."""

    exit_code = 2


def forbidden_reason(url: str) -> str:
    """Why a signed request may have got 403, naming the usual cause first."""
    reason = (
        "the endpoint refused the request (HTTP 403): sign with the auth token it checks "
        "(TWILIO_AUTH_TOKEN; locally the dev token) for the URL it expects (--url)"
    )
    if urlsplit(url).hostname == "localhost":
        # The signature covers the URL, host name included: `dialin serve` checks it for the
        # URL it printed (127.0.0.1), so localhost signs another URL.
        reason += "; `dialin serve` checks signatures for http://127.0.0.1:PORT, so use that, not localhost"
    return reason


def entry_url(url: str) -> str:
    """The incoming-call webhook: ``url`` itself if it is one, else ``url`` + /voice/incoming."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CallFailed(f"--url must be an http(s) URL such as {DEFAULT_URL}")
    return url if parts.path.endswith(ENTRY_PATH) else url + ENTRY_PATH


def http_request(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> tuple[int, bytes]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise CallFailed("only http(s) URLs can be called")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        parts = urlsplit(url)
        raise CallFailed(f"cannot reach {parts.scheme}://{parts.netloc}: {reason}") from None


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    joined: bool
    room: str = ""
    identity: str = ""
    reason: str = ""  # why the call ended without joining (or, once it had joined, why it ended)
    requests: int = 0
    left: bool = False  # it joined, then left the room (removed, or the room ended) and ended


class Phone:
    """One simulated call. ``out`` receives the transcript, one line at a time."""

    def __init__(
        self,
        *,
        to: str,
        from_number: str = DEFAULT_FROM,
        token: str,
        digits: Iterable[str] = (),
        spoken: Iterable[str] = (),
        rooms_not_started: int = 0,
        max_steps: int = MAX_STEPS,
        timeout: float = TIMEOUT_SECONDS,
        account_sid: str = FAKE_ACCOUNT_SID,
        out: Callable[[str], None] = print,
        transport: Transport = http_request,
        wait_for_move: float = 0.0,
        stay: float = 0.0,
    ) -> None:
        self.wait_for_move = wait_for_move
        self.stay = stay
        self.standin = ""
        self.token = token
        self.digits = deque(digits)
        self.spoken = deque(spoken)
        self.rooms_not_started = rooms_not_started
        self.max_steps = max_steps
        self.timeout = timeout
        self.out = out
        self.transport = transport
        self.simulated_seconds = 0
        self.was_in: tuple[str, str] | None = None  # the room it joined and left, while staying
        self.params = {
            "AccountSid": account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": "CA" + uuid.uuid4().hex,
            "Called": to,
            "Caller": from_number,
            "Direction": "inbound",
            "From": from_number,
            "To": to,
        }

    def call(self, url: str) -> Outcome:
        base = url[: -len(ENTRY_PATH)] if url.endswith(ENTRY_PATH) else url
        return self._play(base, Request(url), None)

    def answer(self, twiml: str, base: str) -> Outcome:
        """Answer a dial-out leg whose TwiML the stack handed Twilio (``dialin dial --answer``)."""
        self.params["Direction"] = "outbound-api"
        return self._play(base, Request(base), ET.fromstring(twiml))  # noqa: S314 - the stack's own TwiML

    def _play(self, base: str, request: Request, first: ET.Element | None) -> Outcome:
        self.standin = f"{base}{STANDIN_CALLS}/{self.params['CallSid']}"
        self.out(f"CallSid {self.params['CallSid']} (dialin serve's request lines end with it)")
        status = "ringing"  # the first webhook of an inbound call; then the call is answered
        for step in range(1, self.max_steps + 1):
            if first is not None:
                root, first = first, None
            else:
                root = self._fetch(step, request, {**self.params, "CallStatus": status, **request.params})
            status = "in-progress"
            result = self._follow(root, request.url)
            if isinstance(result, Request):
                request = result
                continue
            if not result.joined and self.was_in is not None:  # joined, then left and ended
                room, identity = self.was_in
                return replace(result, joined=True, room=room, identity=identity, left=True, requests=step)
            return replace(result, requests=step)
        return Outcome(
            joined=False, reason=f"stopped after {self.max_steps} requests", requests=self.max_steps
        )

    # HTTP

    def _fetch(self, step: int, request: Request, params: dict[str, str]) -> ET.Element:
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            SIMULATED_SECONDS_HEADER: str(self.simulated_seconds),
        }
        if request.method == "GET":  # Twilio puts the parameters in the query and signs the full URL
            url = request.url + ("&" if "?" in request.url else "?") + urlencode(params)
            headers["X-Twilio-Signature"] = twilio_signature(url, {}, self.token)
            body = None
        else:
            url = request.url
            headers["X-Twilio-Signature"] = twilio_signature(url, params, self.token)
            headers["Content-Type"] = FORM
            body = urlencode(params).encode("utf-8")
        started = time.perf_counter()
        status, content = self.transport(request.method, url, headers, body, self.timeout)
        elapsed = (time.perf_counter() - started) * 1000
        self.out(f"[{step}] {request.method} {urlsplit(request.url).path} -> {status} ({elapsed:.0f} ms)")
        if status == 403:
            raise CallFailed(forbidden_reason(url))
        if status != 200:
            raise CallFailed(f"the endpoint answered HTTP {status}; Twilio would play an application error")
        try:
            root = ET.fromstring(content)  # noqa: S314 - the endpoint under test; expat limits entity expansion
        except ET.ParseError as exc:
            raise CallFailed(f"the answer is not TwiML (XML): {exc}") from None
        if root.tag != "Response":
            raise CallFailed(f"the answer is <{root.tag}>, not a TwiML <Response>")
        return root

    # TwiML

    def _follow(self, root: ET.Element, document_url: str) -> Request | Outcome:
        hold = root.find("Connect") is None and any(v.tag in ("Pause", "Play") for v in root)
        for verb in root:
            if verb.tag in ("Say", "Play", "Pause"):
                self._media(verb)
            elif verb.tag == "Gather":
                request = self._gather(verb, document_url)
                if request:
                    return request
            elif verb.tag == "Redirect":
                target = (verb.text or "").strip()
                if not target:
                    raise CallFailed("<Redirect> has no URL")
                if hold and self.wait_for_move > 0:
                    moved = self._next_change(self.wait_for_move)
                    if isinstance(moved, ET.Element):
                        self.out("    moved by the Calls API")
                        return self._follow(moved, document_url)
                self.out(f"    redirected to {urlsplit(urljoin(document_url, target)).path}")
                return Request(urljoin(document_url, target), verb.get("method", "POST").upper())
            elif verb.tag in ("Hangup", "Reject"):
                self.out(f"    <{verb.tag}>")
                return Outcome(joined=False, reason="the call was hung up")
            elif verb.tag == "Connect":
                joined = self._connect(verb, document_url)
                if joined:
                    return joined
            else:
                self.out(f"    <{verb.tag}> is not simulated; the call ends here")
                return Outcome(joined=False, reason=f"<{verb.tag}> is not simulated")
        return Outcome(joined=False, reason="the TwiML ended, so Twilio hung up")

    def _media(self, verb: ET.Element) -> None:
        if verb.tag == "Say":
            voice = ", ".join(filter(None, (verb.get("voice"), verb.get("language"))))
            self.out(f"    hears{f' ({voice})' if voice else ''}: {(verb.text or '').strip()}")
        elif verb.tag == "Play":  # its length is the clip's, unknown here: no simulated time
            loop = verb.get("loop", "1")
            times = {"0": " (over and over)", "1": ""}.get(loop, f" ({loop} times)")
            self.out(f"    hears audio: {(verb.text or '').strip()}{times}")
        else:
            length = _seconds(verb.get("length"), default=1)
            self.simulated_seconds += length
            self.out(f"    (pause, {length} s)")

    def _gather(self, verb: ET.Element, document_url: str) -> Request | None:
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._media(child)
        action = urljoin(document_url, verb.get("action") or document_url)
        method = verb.get("method", "POST").upper()
        if self.spoken and "speech" in verb.get("input", "dtmf").split():
            text = self.spoken.popleft()
            self.out(f"    says: {text}")
            return Request(action, method, {"SpeechResult": text, "Confidence": "0.9"})
        if self.digits:
            digits = self.digits.popleft()
            finish = verb.get("finishOnKey", "#")
            limit = verb.get("numDigits", "")
            if limit.isdigit() and len(digits) >= int(limit):
                digits, finish = digits[: int(limit)], ""
            self.out(f"    presses: {digits}{finish}")
            params = {"Digits": digits}
            if finish:
                params["FinishedOnKey"] = finish
            return Request(action, method, params)
        timeout = _seconds(verb.get("timeout"), default=5)
        self.simulated_seconds += timeout
        self.out(f"    presses nothing (the <Gather> times out after {timeout} s)")
        if verb.get("actionOnEmptyResult", "false").lower() == "true":
            return Request(action, method, {"Digits": ""})
        return None  # Twilio goes on to the next verb

    def _next_change(self, seconds: float) -> ET.Element | str | None:
        """The call's next change from `dialin serve`'s stand-in: new TwiML, "left", or None."""
        url = f"{self.standin}/next?wait={seconds:g}"
        try:
            status, content = self.transport("GET", url, {}, None, seconds + self.timeout)
            change = json.loads(content) if status == 200 else {}
            if change.get("kind") == "twiml":
                return ET.fromstring(change["twiml"])  # noqa: S314 - the stack's own TwiML
        except (CallFailed, ValueError, ET.ParseError, KeyError, AttributeError):
            return None
        return "left" if change.get("kind") == "left" else None

    def _in_room(self, name: str, identity: str, document_url: str) -> Request | Outcome | None:
        """Stay in the room: moved (new TwiML), left (Twilio moves on), or still there."""
        body = urlencode({"room": name, "identity": identity}).encode()
        with contextlib.suppress(CallFailed):
            self.transport("POST", f"{self.standin}/joined", {"Content-Type": FORM}, body, self.timeout)
        change = self._next_change(self.stay)
        if isinstance(change, ET.Element):
            self.out("    moved by the Calls API")
            return self._follow(change, document_url)
        if change == "left":
            self.out(f"    leaves room {name} (removed, or the room ended), so Twilio moves on")
            self.was_in = (name, identity)
            return None
        return Outcome(joined=True, room=name, identity=identity)

    def _connect(self, verb: ET.Element, document_url: str) -> Request | Outcome | None:
        room = verb.find("Room")
        if room is None:
            self.out("    <Connect> to something other than a <Room> is not simulated")
            return Outcome(joined=False, reason="<Connect> without <Room>")
        name, identity = (room.text or "").strip(), room.get("participantIdentity", "")
        if self.rooms_not_started > 0:
            self.rooms_not_started -= 1
            self.out(f"    <Connect> to room {name}: no room in progress, so Twilio moves on")
            return None
        self.out(f"    joins room {name} as {identity or '(an identity Twilio picks)'}")
        if self.stay > 0:
            return self._in_room(name, identity, document_url)
        return Outcome(joined=True, room=name, identity=identity)


def _seconds(value: str | None, default: int) -> int:
    """A TwiML length in whole seconds, as Twilio reads it (bad or missing: the default)."""
    return int(value) if value and value.isdigit() else default
