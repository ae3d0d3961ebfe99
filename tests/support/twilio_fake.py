"""Twilio's REST API, faked once for the whole suite.

``FakeTwilio`` is an HTTP server on 127.0.0.1 (a free port, port 0), run by its own thread
and stopped with it (``with FakeTwilio() as twilio``, or the ``twilio`` fixture). It records
every request as Twilio would receive it (method, URL, query, form body, Basic auth, headers)
and answers like Twilio: the Calls resource (place a call; update a live call, as room events
move and hang up calls), IncomingPhoneNumbers (list, update), Video rooms and their
participants (``video``: ``dialin_tools.lib.video_rooms``, told what happened by the room
callbacks, ``video.observe``, whether or not they reached the function), Twilio's JSON error
bodies, and 401 to a login it does not know.

Two ways in, both over HTTP to that one server:

- its base URL, ``twilio.url``, as ``TWILIO_API_BASE_URL`` (the room-events function's own
  REST client, pointed at it);
- ``FakeTwilio`` is also twilio's ``HttpClient`` (twilio's own ``TwilioHttpClient``, so the
  same headers and encoding): a request for ``https://api.twilio.com/...`` is sent to the
  server with its own Host header, so what is recorded is what Twilio would get, URL included
  (dial-out, ``dialin configure-number``).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from requests.structures import CaseInsensitiveDict
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from dialin.edge.rest import TIMEOUT_SECONDS
from dialin_tools.lib.video_rooms import ROOMS, VideoRooms

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-auth-token-for-tests"
API = "https://api.twilio.com/2010-04-01"
CALL_SID = "CA" + "2" * 32

CALLS = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Calls\.json")
CALL = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Calls/(CA\w+)\.json")
NUMBERS = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers\.json")
NUMBER = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers/(PN\w+)\.json")
NOT_FOUND = (404, 20404, "The requested resource was not found")
TOO_MANY = (429, 20429, "Too Many Requests")

Answer = tuple[int, str, bytes]  # status, content type, body


class Network(enum.Enum):
    """A failure of the connection itself, in place of an answer."""

    HANG_UP = "the connection is closed without an answer"  # requests.ConnectionError
    SILENT = "no answer within the client's timeout"  # requests.ReadTimeout


HANG_UP = Network.HANG_UP
SILENT = Network.SILENT


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def form(encoded: str) -> dict[str, Any]:
    """A form body or query string: one value as a string, a repeated name as a list."""
    out: dict[str, Any] = {}
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


def as_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as it reaches Twilio in a form body (numbers as text; lists stay lists)."""
    return {k: [str(i) for i in v] if isinstance(v, list) else str(v) for k, v in data.items()}


def basic_auth(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@dataclass
class Sent:
    """One request as Twilio received it."""

    method: str
    url: str  # scheme, host and path, as the client addressed it (without the query)
    params: dict[str, Any]  # the query string
    data: dict[str, Any]  # the form body
    auth: tuple[str, str] | None
    headers: CaseInsensitiveDict[str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class Error:
    """An error answer: Twilio's JSON body, or raw text (a gateway page)."""

    status: int
    code: int | None = None
    message: str = ""
    text: str | None = None

    def answer(self) -> Answer:
        if self.text is not None:
            return self.status, "text/html", self.text.encode()
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return self.status, "application/json", json.dumps(body).encode()


def ok(status: int, body: Any) -> Answer:
    return status, "application/json", json.dumps(body).encode()


class FakeTwilio(TwilioHttpClient):
    def __init__(self, logins: set[tuple[str, str]] | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout, logger=logging.getLogger("fake-twilio"))
        assert self.session is not None
        self.session.trust_env = False  # no proxy from the environment: straight to 127.0.0.1
        self.sent: list[Sent] = []
        # Basic-auth pairs Twilio accepts: (account SID, auth token) or (API key SID, secret).
        self.logins = set(logins) if logins is not None else {(ACCOUNT_SID, AUTH_TOKEN)}
        self.numbers: dict[str, dict[str, Any]] = {}
        # Video rooms and participants, from the room callbacks the tests report (``observe``).
        self.video = VideoRooms()
        # What a Video request about a room answers instead, by RoomSid or room name.
        self.room_answers: dict[str, Error | Network] = {}
        # What placing a call (POST Calls.json) answers: None for success.
        self.call_outcome: Error | Network | None = None
        # What updating a live call answers, by CallSid (a CallSid ending in "dead": 404).
        self.call_answers: dict[str, Error] = {}
        # Twilio's per-account limit on concurrent requests: above it, 429 (20429) at once.
        # Each accepted request takes ``answer_seconds``, so requests overlap as on Twilio.
        self.concurrency: int | None = None
        self.answer_seconds = 0.0
        self.peak = 0  # the most requests in flight at once
        self.throttled = 0  # requests answered 429 for the limit
        self._in_flight = 0
        self._lock = threading.Lock()
        # Raised by the in-process client instead of sending: a bug in the HTTP layer.
        self.fault: Exception | None = None
        self.url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # The server

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # serve_forever notices a stop within poll_interval: each test's stop takes that long.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # a SILENT answer stops waiting
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        host = handler.headers.get("Host", "")
        base = self.url if f"http://{host}" == self.url else f"https://{host}"
        target = urlsplit(handler.path)
        sent = Sent(
            handler.command,
            base + target.path,
            form(target.query),
            form(body.decode()),
            basic_auth(handler.headers.get("Authorization")),
            CaseInsensitiveDict(handler.headers.items()),
            body,
        )
        self.sent.append(sent)
        answer = self._paced(sent)
        if answer is SILENT:
            self._stopping.wait(timeout=30)
        if isinstance(answer, Network):
            handler.close_connection = True
            return
        status, content_type, data = answer
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _paced(self, sent: Sent) -> Answer | Network:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            over = self.concurrency is not None and self._in_flight > self.concurrency
            self.throttled += over
        try:
            if over:  # refused at once, as Twilio does
                return Error(*TOO_MANY).answer()
            if self.answer_seconds:
                self._stopping.wait(timeout=self.answer_seconds)
            return self.answer(sent)
        finally:
            with self._lock:
                self._in_flight -= 1

    # Twilio's answers

    def answer(self, sent: Sent) -> Answer | Network:
        if sent.auth not in self.logins:
            return Error(401, 20003, "Authenticate").answer()
        path, method = sent.path, sent.method
        if method == "POST" and CALLS.fullmatch(path):
            return self._create_call(sent)
        call = CALL.fullmatch(path)
        if method == "POST" and call:
            return self._update_call(call.group(1), call.group(2))
        if method == "GET" and NUMBERS.fullmatch(path):
            return self._list_numbers(sent)
        number = NUMBER.fullmatch(path)
        if method == "POST" and number:
            return self._update_number(number.group(2), sent)
        if method == "GET" and ROOMS.fullmatch(path):
            return self._video(sent)
        return Error(*NOT_FOUND).answer()

    def _video(self, sent: Sent) -> Answer | Network:
        about = ROOMS.fullmatch(sent.path)
        named = (
            unquote(about.group(1)) if about and about.group(1) else str(sent.params.get("UniqueName", ""))
        )
        refused = self.room_answers.get(named)
        if isinstance(refused, Error):
            return refused.answer()
        if refused is not None:
            return refused
        params = {k: str(v) for k, v in sent.params.items()}
        answered = self.video.answer(sent.method, sent.path, params, sent.auth[0] if sent.auth else "")
        return ok(*answered) if answered else Error(*NOT_FOUND).answer()

    def _create_call(self, sent: Sent) -> Answer | Network:
        outcome = self.call_outcome
        if isinstance(outcome, Error):
            return outcome.answer()
        if isinstance(outcome, Network):
            return outcome
        return ok(
            201, {"sid": CALL_SID, "status": "queued", "to": sent.data.get("To"), "direction": "outbound-api"}
        )

    def _update_call(self, account: str, sid: str) -> Answer:
        if sid in self.call_answers:
            return self.call_answers[sid].answer()
        if sid.endswith("dead"):
            return Error(*NOT_FOUND).answer()
        return ok(200, {"sid": sid, "status": "in-progress", "account_sid": account})

    def _list_numbers(self, sent: Sent) -> Answer:
        # Twilio's PhoneNumber filter matches partial numbers.
        wanted = str(sent.params.get("PhoneNumber", "")).lstrip("+")
        found = [n for n in self.numbers.values() if wanted in n["phone_number"]]
        page = {
            "incoming_phone_numbers": found,
            "end": max(len(found) - 1, 0),
            "first_page_uri": sent.path,
            "next_page_uri": None,
            "page": 0,
            "page_size": int(sent.params.get("PageSize", 50)),
            "previous_page_uri": None,
            "start": 0,
            "uri": sent.path,
        }
        return ok(200, page)

    def _update_number(self, sid: str, sent: Sent) -> Answer:
        if sid not in self.numbers:
            return Error(*NOT_FOUND).answer()
        resource = self.numbers[sid]
        for name, value in sent.data.items():
            key = snake(name)
            if key not in resource:
                return Error(400, 21000, f"unexpected parameter {name}").answer()
            resource[key] = value
        return ok(200, resource)

    # What the tests set up and read

    def add_number(self, phone_number: str, **fields: Any) -> str:
        sid = f"PN{len(self.numbers) + 1:032x}"
        resource = {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "phone_number": phone_number,
            "voice_url": "https://demo.twilio.com/welcome/voice/",
            "voice_method": "POST",
            "voice_fallback_url": "",
            "voice_fallback_method": "POST",
            "status_callback": "",
            "status_callback_method": "POST",
            "voice_application_sid": "",
            "trunk_sid": None,
            "voice_receive_mode": "voice",
        }
        resource.update(fields)
        self.numbers[sid] = resource
        return sid

    def writes(self) -> list[Sent]:
        return [s for s in self.sent if s.method != "GET"]

    @property
    def received(self) -> list[Sent]:
        """Every request, in the order they arrived (the name room tests read)."""
        return self.sent

    def updates(self) -> list[tuple[str, str]]:
        """The live-call updates: one (CallSid, TwiML) per update, in order."""
        found = ((CALL.fullmatch(s.path), s) for s in self.sent if s.method == "POST")
        return [(match.group(2), s.data.get("Twiml", "")) for match, s in found if match]

    def video_reads(self) -> list[Sent]:
        """The Video REST requests (rooms, participants), in order."""
        return [s for s in self.sent if s.method == "GET" and ROOMS.fullmatch(s.path)]

    # The in-process client (twilio's HttpClient)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Twilio's client asks for ``url`` (``https://api.twilio.com/...``): sent to this
        server instead, with that URL's Host, by twilio's own HTTP client."""
        if not self.url:
            raise RuntimeError("FakeTwilio is not running: use `with FakeTwilio() as twilio` or the fixture")
        if self.fault is not None:
            raise self.fault
        parts = urlsplit(url)
        local = self.url + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {**(headers or {}), "Host": parts.netloc}
        return super().request(method, local, params, data, headers, auth, timeout, allow_redirects)
