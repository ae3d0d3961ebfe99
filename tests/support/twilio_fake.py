"""Twilio's REST API at the HTTP layer, in-process.

The twilio client takes an ``http_client``; this one records every request exactly as the
client hands it over (method, URL, query, form data, basic auth) and answers like Twilio:
the Calls and IncomingPhoneNumbers resources, and Twilio's JSON error bodies. Nothing
leaves the process.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-auth-token-for-tests"
API = "https://api.twilio.com/2010-04-01"
CALL_SID = "CA" + "2" * 32

CALLS = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Calls\.json")
NUMBERS = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers\.json")
NUMBER = re.compile(r"/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers/(PN\w+)\.json")


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class Sent:
    method: str
    url: str
    params: dict[str, Any]
    data: dict[str, Any]
    auth: tuple[str, str] | None
    headers: dict[str, str]

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

    def response(self) -> Response:
        if self.text is not None:
            return Response(self.status, self.text)
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return Response(self.status, json.dumps(body))


@dataclass
class FakeTwilio(HttpClient):
    sent: list[Sent] = field(default_factory=list)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What POST Calls.json answers: an Error, an exception to raise, or None for success.
    call_outcome: Error | Exception | None = None
    # Basic-auth pairs Twilio accepts: (account SID, auth token) or (API key SID, secret).
    logins: set[tuple[str, str]] = field(default_factory=lambda: {(ACCOUNT_SID, AUTH_TOKEN)})

    def __post_init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)

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
        sent = Sent(method, uri, dict(params or {}), dict(data or {}), auth, dict(headers or {}))
        self.sent.append(sent)
        if auth not in self.logins:
            return Error(401, 20003, "Authenticate").response()
        path = sent.path
        if method == "POST" and CALLS.fullmatch(path):
            return self._create_call(sent)
        if method == "GET" and NUMBERS.fullmatch(path):
            return self._list_numbers(sent)
        match = NUMBER.fullmatch(path)
        if method == "POST" and match:
            return self._update_number(match.group(2), sent)
        return Error(404, 20404, "The requested resource was not found").response()

    def _create_call(self, sent: Sent) -> Response:
        outcome = self.call_outcome
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, Error):
            return outcome.response()
        body = {"sid": CALL_SID, "status": "queued", "to": sent.data.get("To"), "direction": "outbound-api"}
        return Response(201, json.dumps(body))

    def _list_numbers(self, sent: Sent) -> Response:
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
        return Response(200, json.dumps(page))

    def _update_number(self, sid: str, sent: Sent) -> Response:
        if sid not in self.numbers:
            return Error(404, 20404, "The requested resource was not found").response()
        resource = self.numbers[sid]
        for name, value in sent.data.items():
            key = snake(name)
            if key not in resource:
                return Error(400, 21000, f"unexpected parameter {name}").response()
            resource[key] = value
        return Response(200, json.dumps(resource))
