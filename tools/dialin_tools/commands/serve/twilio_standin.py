"""`dialin serve`'s stand-in for Twilio's REST API, under /_twilio on the same port: the
room-events and dial-out functions reach it through TWILIO_API_BASE_URL. It answers a Calls
API update as Twilio would, logs where the call was moved, keeps the TwiML, and calls nobody."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import parse_qs

PREFIX = "/_twilio"
CALL_UPDATE = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-zA-Z]{32})/Calls/(CA[0-9a-zA-Z]{32})\.json$")
Answer = tuple[int, list[tuple[str, str]], bytes]


def _json(status: int, body: dict[str, object]) -> Answer:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def describe(twiml: str) -> str:
    """One line for the log: where the TwiML takes the call."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - our own functions' TwiML
    except ET.ParseError:
        return "unreadable TwiML"
    room = root.find("Connect/Room")
    if room is not None:
        return f"<Connect> to room {room.text} as {room.get('participantIdentity')}"
    return " + ".join(f"<{child.tag}>" for child in root) or "empty TwiML"


class CallsStandIn:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.updates: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, body: bytes) -> Answer:
        match = CALL_UPDATE.match(path.removeprefix(PREFIX))
        if method != "POST" or match is None:
            return _json(
                404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            )
        form = parse_qs(body.decode("utf-8", "replace"))
        twiml = (form.get("Twiml") or [""])[0]
        call_sid = match.group(2)
        with self.lock:
            self.updates.setdefault(call_sid, []).append(twiml)
        self.log(f"Calls API (stand-in): {call_sid[:8]}… moved: {describe(twiml)}")
        return _json(200, {"sid": call_sid, "account_sid": match.group(1), "status": "in-progress"})
