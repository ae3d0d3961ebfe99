"""`make crowd`'s Twilio: a stand-in for the REST API the bridge calls, with Twilio's limit on
an account's concurrent requests, and the crowd's signed webhooks.

The stand-in (``StandIn``, on 127.0.0.1, a free port) answers a Calls API update
(``POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json``) after ``seconds``, or at once with 429
(20429) while ``concurrency`` requests are already in flight; it hands each accepted update's
TwiML to ``on_update``. The Video API's reads (``GET /v1/Rooms...``) are answered from the room
callbacks the crowd sent (``dialin_tools.lib.video_rooms``), as Twilio knows who is in a room.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from dialin_tools.lib.apigw import FORM, twilio_signature
from dialin_tools.lib.video_rooms import VideoRooms

CALL = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Calls/(CA\w+)\.json")
HOLD_MUSIC_SECONDS = 0.0  # the crowd's numbers play no hold music: only <Pause> counts


def seconds_of(root: ET.Element) -> float:
    """How long a hold document keeps a caller before its <Redirect> (speech not counted)."""
    pauses = sum(float(p.get("length") or 1) for p in root.iter("Pause"))
    music = sum(float(p.get("loop") or 1) * HOLD_MUSIC_SECONDS for p in root.iter("Play"))
    return pauses + music


def post(url: str, params: dict[str, str], token: str) -> tuple[int, str]:
    """A webhook as Twilio sends it: form-encoded, signed for ``url``; (status, body)."""
    headers = {"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(url, params, token)}
    request = urllib.request.Request(url, data=urlencode(params).encode(), headers=headers, method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}"


class StandIn:
    def __init__(self, concurrency: int, seconds: float) -> None:
        self.concurrency, self.seconds = concurrency, seconds
        self.video = VideoRooms()
        self.on_update: Callable[[str, str], None] = lambda sid, twiml: None
        self._lock = threading.Lock()
        self._in_flight = self.peak = self.accepted = self.throttled = self.reads = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 1024
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> StandIn:
        serving = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        serving.daemon = True
        serving.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def counts(self) -> dict[str, int]:
        return {
            "updates_accepted": self.accepted,
            "answered_429": self.throttled,
            "most_in_flight": self.peak,
            "video_reads": self.reads,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                self._answer(*stand_in.update(urlsplit(self.path).path, dict(parse_qsl(body))))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                self._answer(*stand_in.read(parts.path, dict(parse_qsl(parts.query))))

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def update(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        found = CALL.fullmatch(path)
        if found is None:
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        with self._lock:
            over = self._in_flight >= self.concurrency
            self.throttled += over
            if not over:
                self._in_flight += 1
                self.peak = max(self.peak, self._in_flight)
        if over:
            return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}
        try:
            time.sleep(self.seconds)
            self.on_update(found.group(2), form.get("Twiml", ""))
        finally:
            with self._lock:
                self._in_flight -= 1
                self.accepted += 1
        return 200, {"sid": found.group(2), "account_sid": found.group(1), "status": "in-progress"}

    def read(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.reads += 1
        answered = self.video.answer("GET", path, query)
        return answered if answered is not None else (404, {"code": 20404, "status": 404})
