"""Requests to a stack deployed on MiniStack, as Twilio and an app backend send them: Twilio's
signed form posts (``RequestValidator``, via ``twilio_signature``) and SigV4-signed admin
calls (botocore's ``SigV4Auth``, fake credentials). Each goes to the emulator's loopback port
with the ``Host`` of the execute-api URL it is signed for (see ``support.ministack``).

And the Calls API stand-in the deployed functions reach through ``TwilioApiBaseUrl``:
`dialin serve`'s own (``CallsStandIn``), on a free loopback port of its own."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dialin_tools.commands.call.phone import FAKE_ACCOUNT_SID
from dialin_tools.commands.serve.twilio_standin import PREFIX, CallsStandIn
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, FORM, twilio_signature
from support.ministack import FAKE_KEY_ID, FAKE_SECRET, REGION, MiniStack

# What the deploy tier seeds (through `dialin route add` and `dialin pin add --stack`).
DIRECT_NUMBER = "+15555550100"  # joins DirectRoom at once
PIN_NUMBER = "+15555550101"  # asks for a PIN
HELD_NUMBER = "+15555550102"  # joins HeldRoom, which starts late
PIN = "2468101214"  # alice's PIN to PinRoom
TIMEOUT = 60.0  # a cold start of a function on 2 busy cores takes seconds


@dataclass(frozen=True)
class StackApi:
    """The deployed API: ``base`` is the URL requests are signed for (stage included)."""

    base: str
    port: int

    @classmethod
    def of(cls, api_base_url: str, port: int) -> StackApi:
        """From the ``ApiBaseUrl`` output (``https://{id}.execute-api.{region}.amazonaws.com/Prod``)."""
        parts = urlsplit(api_base_url)
        api_id = (parts.hostname or "").split(".")[0]
        return cls(f"https://{api_id}.execute-api.localhost:{port}{parts.path}".rstrip("/"), port)

    def transport(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
    ) -> tuple[int, bytes]:
        """A ``Phone`` transport: ``url`` (signed as is) sent to the emulator's port."""
        parts = urlsplit(url)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=max(timeout, TIMEOUT))
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target, body=body, headers={**headers, "Host": parts.netloc})
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def twilio_post(self, route: str, params: dict[str, str], token: str = DEV_AUTH_TOKEN) -> tuple[int, str]:
        """A form post signed as Twilio signs it."""
        url = self.base + route
        headers = {"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(url, params, token)}
        status, body = self.transport("POST", url, headers, urlencode(params).encode(), TIMEOUT)
        return status, body.decode("utf-8", "replace")

    def signed_headers(self, method: str, route: str, data: bytes | None) -> dict[str, str]:
        """SigV4 headers (botocore's ``SigV4Auth``, fake credentials) for ``route``."""
        headers = {"Content-Type": "application/json"}
        request = AWSRequest(method, self.base + route, data=data, headers=headers)
        SigV4Auth(Credentials(FAKE_KEY_ID, FAKE_SECRET), "execute-api", REGION).add_auth(request)
        return dict(request.headers.items())

    def admin(self, method: str, route: str, body: dict[str, Any] | None = None, signed: bool = True) -> Any:
        """(status, JSON body) of an admin API call, SigV4-signed unless ``signed`` is false."""
        data = json.dumps(body).encode() if body is not None else None
        headers = self.signed_headers(method, route, data) if signed else {"Content-Type": "application/json"}
        return self.send(method, route, headers, data)

    def send(self, method: str, route: str, headers: dict[str, str], data: bytes | None) -> tuple[int, Any]:
        status, raw = self.transport(method, self.base + route, headers, data, TIMEOUT)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode("utf-8", "replace")


@dataclass(frozen=True)
class StandIn:
    calls: CallsStandIn
    url: str  # what TwilioApiBaseUrl is set to


@contextmanager
def calls_standin() -> Iterator[StandIn]:
    """The Calls API stand-in on 127.0.0.1, a free port; stopped (and joined) on exit."""
    calls = CallsStandIn(log=lambda line: None)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, payload = calls.handle(self.command, parts.path, parts.query, body)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StandIn(calls, f"http://127.0.0.1:{server.server_address[1]}{PREFIX}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Deployed:
    """The stack the deploy tier deployed, and what it needs to reach it."""

    emulator: MiniStack
    api: StackApi
    standin: StandIn
    outputs: dict[str, str]
    template: Path  # the template deployed (the built one, with the emulator's one change)
    parameters: dict[str, str]
    replaced_alarms: list[str]
    workdir: Path
    timings: dict[str, float] = field(default_factory=dict)


def twilio_secret() -> str:
    """What the tier puts in the stack's Twilio secret: the documented dev token, a fake account."""
    return json.dumps({"accountSid": FAKE_ACCOUNT_SID, "authToken": DEV_AUTH_TOKEN})
