"""`dialin serve`'s stand-in for Twilio, under /_twilio on the same port.

- Twilio's REST API, reached by the room-events and dial-out functions through
  TWILIO_API_BASE_URL: a Calls API update is answered as Twilio would, logged, kept for the
  call, and calls nobody; the Video API's rooms and participants (``GET /v1/Rooms...``, what
  the per-minute sweep asks) are answered from the room callbacks the stack accepted
  (`dialin room start|join|leave|end`, and the joins this stand-in reports for `dialin call`),
  by ``dialin_tools.lib.video_rooms``.
- For `dialin call`, what Twilio's media side would do to a call: ``GET
  /_twilio/local/Calls/{CallSid}/next?wait=S`` answers the call's next change within S
  seconds (new TwiML from a Calls API update, or ``left``: its room session ended), or 204;
  ``POST /_twilio/local/Calls/{CallSid}/joined`` (room, identity) tells it the call joined a
  room, and it sends the room's ``participant-connected`` callback, as Twilio would, once the
  stack has received room callbacks at all.
"""

from __future__ import annotations

import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, parse_qsl

from dialin_tools.lib.video_rooms import VideoRooms

PREFIX = "/_twilio"
SID = r"(CA[0-9a-zA-Z]{32})"
CALL_UPDATE = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-zA-Z]{32})/Calls/" + SID + r"\.json$")
NEXT = re.compile(r"^/local/Calls/" + SID + r"/next$")
JOINED = re.compile(r"^/local/Calls/" + SID + r"/joined$")
NOT_FOUND = {"code": 20404, "message": "The requested resource was not found", "status": 404}
MAX_WAIT_SECONDS = 120.0
Answer = tuple[int, list[tuple[str, str]], bytes]
# Sends a room status callback (its form parameters) to the local API, signed.
Notify = Callable[[dict[str, str]], None]


def _json(status: int, body: Mapping[str, object]) -> Answer:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


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
    def __init__(self, log: Callable[[str], None], notify: Notify | None = None) -> None:
        self.log = log
        self.notify = notify
        self.updates: dict[str, list[str]] = {}  # every Calls API update, by CallSid
        self.pending: dict[str, list[dict[str, str]]] = {}  # changes not yet fetched by the call
        self.joined: dict[str, tuple[str, str]] = {}  # CallSid -> (room, identity)
        self.callbacks_seen = False
        self.video = VideoRooms()  # Twilio's view of the rooms, from the callbacks seen
        self.changed = threading.Condition()

    def handle(self, method: str, path: str, query: str, body: bytes) -> Answer:
        local = path.removeprefix(PREFIX)
        update, waiting, joined = CALL_UPDATE.match(local), NEXT.match(local), JOINED.match(local)
        if method == "POST" and update:
            return self._update(update.group(1), update.group(2), _form(body))
        if method == "GET" and waiting:
            return self._next(waiting.group(1), query)
        if method == "POST" and joined:
            return self._joined(joined.group(1), _form(body))
        video = self.video.answer(method, local, dict(parse_qsl(query, keep_blank_values=True)))
        if video is not None:
            return _json(*video)
        return _json(404, NOT_FOUND)

    def _push(self, call_sid: str, change: dict[str, str]) -> None:
        with self.changed:
            self.pending.setdefault(call_sid, []).append(change)
            self.changed.notify_all()

    def _update(self, account: str, call_sid: str, form: dict[str, str]) -> Answer:
        twiml = form.get("Twiml", "")
        self.updates.setdefault(call_sid, []).append(twiml)
        was = self.joined.pop(call_sid, None)  # new TwiML ends whatever the call was doing
        if was is not None and self.notify is not None and self.callbacks_seen:
            # As Twilio: the participant leaves the room the call was in (a move or a removal),
            # its callback sent after this answer (the function that asked may be the same
            # process the callback runs in).
            event = {"StatusCallbackEvent": "participant-disconnected", "RoomName": was[0]}
            left = {**event, "ParticipantIdentity": was[1]}
            threading.Thread(target=self.notify, args=(left,), daemon=True).start()
        self._push(call_sid, {"kind": "twiml", "twiml": twiml})
        self.log(f"Calls API (stand-in): {call_sid[:8]}… moved: {describe(twiml)}")
        return _json(200, {"sid": call_sid, "account_sid": account, "status": "in-progress"})

    def _next(self, call_sid: str, query: str) -> Answer:
        try:
            wait = min(max(float((parse_qs(query).get("wait") or ["0"])[0]), 0.0), MAX_WAIT_SECONDS)
        except ValueError:
            wait = 0.0
        deadline = time.monotonic() + wait
        with self.changed:
            while not self.pending.get(call_sid) and time.monotonic() < deadline:
                self.changed.wait(timeout=deadline - time.monotonic())
            changes = self.pending.get(call_sid) or []
            if not changes:
                return 204, [], b""
            return _json(200, changes.pop(0))

    def _joined(self, call_sid: str, form: dict[str, str]) -> Answer:
        room, identity = form.get("room", ""), form.get("identity", "")
        self.joined[call_sid] = (room, identity)
        if self.notify is not None and self.callbacks_seen:
            self.notify(
                {
                    "StatusCallbackEvent": "participant-connected",
                    "RoomName": room,
                    "ParticipantIdentity": identity,
                }
            )
        return _json(200, {"sid": call_sid, "room": room})

    def observe(self, form: dict[str, str]) -> None:
        """A room callback the local API accepted: a participant who left, or a room that
        ended, takes its phone calls out of the room (Twilio moves on past their <Connect>)."""
        self.callbacks_seen = True
        self.video.observe(form)
        event, room = form.get("StatusCallbackEvent", ""), form.get("RoomName", "")
        identity = form.get("ParticipantIdentity", "")
        for call_sid, (joined_room, joined_identity) in list(self.joined.items()):
            gone = event == "room-ended" or (
                event == "participant-disconnected" and joined_identity == identity
            )
            if joined_room == room and gone:
                del self.joined[call_sid]
                self._push(call_sid, {"kind": "left"})
