"""Twilio Video's rooms and participants as its REST API reports them, kept from the room
status callbacks Twilio sends (Twilio knows who is connected whether or not a callback
reached the stack). `dialin serve`'s stand-in and the test suite's Twilio fake both answer
the Video requests with it:

- ``GET /v1/Rooms?UniqueName=&Status=&PageSize=``: the rooms, newest first;
- ``GET /v1/Rooms/{RoomNameOrSid}``: one room (a name finds only a room in progress: 404
  otherwise, as on Twilio);
- ``GET /v1/Rooms/{RoomNameOrSid}/Participants?Status=&Identity=``: its participants; the
  default status is ``connected`` for a room in progress, and a completed room has only
  ``disconnected`` ones.

Answers are (HTTP status, JSON body) in Twilio's shapes: resources with ``sid``,
``status``, ``date_created`` (ISO 8601, seconds), pages with ``meta.key``, errors with
``code`` and ``message``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode

HOST = "https://video.twilio.com"
ROOMS = re.compile(r"/v1/Rooms(?:/([^/]+)(/Participants)?)?/?")
IN_PROGRESS = "in-progress"
COMPLETED = "completed"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
Answer = tuple[int, dict[str, Any]]


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def moment(params: Mapping[str, str]) -> float:
    """A callback's ``Timestamp`` in epoch seconds (now when it has none)."""
    text = params.get("Timestamp", "").strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return time.time()


def not_found(what: str) -> Answer:
    body = {"code": 20404, "message": f"The requested resource {what} was not found", "status": 404}
    return 404, {**body, "more_info": "https://www.twilio.com/docs/errors/20404"}


@dataclass
class VideoParticipant:
    sid: str
    identity: str
    status: str
    start: float
    end: float | None = None


@dataclass
class VideoRoom:
    sid: str
    account: str
    name: str
    created: float
    status: str = IN_PROGRESS
    ended: float | None = None
    participants: list[VideoParticipant] = field(default_factory=list)

    def resource(self) -> dict[str, Any]:
        url = f"{HOST}/v1/Rooms/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": self.account,
            "unique_name": self.name,
            "status": self.status,
            "type": "group",
            "date_created": stamp(self.created),
            "date_updated": stamp(self.ended or self.created),
            "end_time": stamp(self.ended) if self.ended else None,
            "duration": int(self.ended - self.created) if self.ended else None,
            "max_participants": 50,
            "url": url,
            "links": {"participants": f"{url}/Participants", "recordings": f"{url}/Recordings"},
        }

    def participant(self, p: VideoParticipant) -> dict[str, Any]:
        return {
            "sid": p.sid,
            "room_sid": self.sid,
            "account_sid": self.account,
            "status": p.status,
            "identity": p.identity,
            "date_created": stamp(p.start),
            "date_updated": stamp(p.end or p.start),
            "start_time": stamp(p.start),
            "end_time": stamp(p.end) if p.end else None,
            "duration": int(p.end - p.start) if p.end else None,
            "url": f"{HOST}/v1/Rooms/{self.sid}/Participants/{p.sid}",
        }


def page(key: str, records: list[dict[str, Any]], path: str, query: Mapping[str, str]) -> dict[str, Any]:
    url = f"{HOST}{path}" + (f"?{urlencode(dict(query))}" if query else "")
    asked = str(query.get("PageSize") or "")
    size = min(int(asked), 1000) if asked.isdigit() and int(asked) > 0 else 50
    meta = {"page": 0, "page_size": size, "first_page_url": url, "previous_page_url": None, "url": url}
    return {key: records[:size], "meta": {**meta, "next_page_url": None, "key": key}}


class VideoRooms:
    """Rooms by RoomSid, as the callbacks told; thread-safe (the servers answer in threads)."""

    def __init__(self) -> None:
        self.rooms: dict[str, VideoRoom] = {}
        self._lock = threading.Lock()

    def observe(self, params: Mapping[str, str]) -> None:
        """What one room status callback says happened (any order; a participant event of an
        unknown RoomSid starts that room, as its room-created would have)."""
        kind, sid = params.get("StatusCallbackEvent", ""), params.get("RoomSid", "")
        if not sid.startswith("RM"):
            return
        at = moment(params)
        with self._lock:
            room = self.rooms.get(sid)
            # `dialin room` keeps one RoomSid per name: a room-created after its end is a new
            # room of that name (Twilio would give it a RoomSid of its own).
            if room is None or (kind == "room-created" and room.status == COMPLETED):
                room = VideoRoom(sid, params.get("AccountSid", ""), params.get("RoomName", ""), at)
                self.rooms[sid] = room
            if kind == "room-ended":
                room.status, room.ended = COMPLETED, at
                for p in room.participants:
                    if p.status == CONNECTED:
                        p.status, p.end = DISCONNECTED, at
            elif kind in ("participant-connected", "participant-disconnected"):
                self._participant(room, kind, params.get("ParticipantIdentity", ""), at)

    @staticmethod
    def _participant(room: VideoRoom, kind: str, identity: str, at: float) -> None:
        live = [p for p in room.participants if p.identity == identity and p.status == CONNECTED]
        if kind == "participant-disconnected":
            for p in live:
                p.status, p.end = DISCONNECTED, at
        elif not live and room.status == IN_PROGRESS:
            digest = hashlib.sha256(f"{room.sid}#{identity}#{len(room.participants)}".encode()).hexdigest()
            room.participants.append(VideoParticipant("PA" + digest[:32], identity, CONNECTED, at))

    def answer(self, method: str, path: str, query: Mapping[str, str], account: str = "") -> Answer | None:
        """Twilio's answer to a Video request, or None when ``path`` is not one (``account``:
        the Basic-auth login; empty: any account's rooms)."""
        match = ROOMS.fullmatch(path)
        if method != "GET" or match is None:
            return None
        with self._lock:
            if match.group(1) is None:
                return 200, page("rooms", self._rooms(account, query), path, query)
            room = self._find(unquote(match.group(1)), account)
            if room is None:
                return not_found(path.removeprefix("/v1"))
            if match.group(2) is None:
                return 200, room.resource()
            return 200, page("participants", self._participants(room, query), path, query)

    def _mine(self, account: str) -> list[VideoRoom]:
        found = [r for r in self.rooms.values() if not account or r.account == account]
        return sorted(found, key=lambda r: r.created, reverse=True)

    def _find(self, name_or_sid: str, account: str) -> VideoRoom | None:
        for room in self._mine(account):
            if room.sid == name_or_sid or (room.name == name_or_sid and room.status == IN_PROGRESS):
                return room
        return None

    def _rooms(self, account: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        status, name = query.get("Status", ""), query.get("UniqueName", "")
        return [
            room.resource()
            for room in self._mine(account)
            if (not status or room.status == status) and (not name or room.name == name)
        ]

    @staticmethod
    def _participants(room: VideoRoom, query: Mapping[str, str]) -> list[dict[str, Any]]:
        status = query.get("Status") or (CONNECTED if room.status == IN_PROGRESS else DISCONNECTED)
        if room.status != IN_PROGRESS:
            status = DISCONNECTED if status == DISCONNECTED else "none"
        identity = query.get("Identity", "")
        return [
            room.participant(p)
            for p in room.participants
            if p.status == status and (not identity or p.identity == identity)
        ]
