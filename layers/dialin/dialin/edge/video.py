"""What the bridge asks Twilio's Video REST API (``https://video.twilio.com``, or
``TWILIO_API_BASE_URL`` in its place: ``rest``), through the account's REST client. Reads only,
each one request:

- ``connected(client, room_sid)``: ``GET /v1/Rooms/{RoomSid}/Participants?Status=connected
  &PageSize=50`` (a room holds at most 50 participants: one page), who is in the room now;
- ``in_progress(client, name)``: ``GET /v1/Rooms?UniqueName={name}&Status=in-progress
  &PageSize=1``, the room of that name if it is running (a name in the query string, not the
  path: any room name is one Twilio accepts there, reserved characters included).

Anything but Twilio's answer (an error status, 429 included; a network failure; a body that is
not a page of records) raises ``CheckFailed``: the caller acts on nothing it did not hear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

# Twilio's cap on participants in one room, so one page holds them all.
PAGE_SIZE = 50
CONNECTED = "connected"
IN_PROGRESS = "in-progress"


class CheckFailed(Exception):
    """Twilio did not say: ``reason`` is what went wrong (``twilio 429 20429``, ``ReadTimeout``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Participant:
    identity: str
    since_ms: int  # when it connected (Twilio's start_time); 0 when Twilio gave none


@dataclass(frozen=True)
class LiveRoom:
    sid: str
    started_ms: int  # when Twilio created the room (date_created); 0 when it gave none


def _ms(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if isinstance(moment, datetime) else 0


def _reason(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        return f"twilio {exc.status} {exc.code}"
    response = exc.args[1] if isinstance(exc, TwilioException) and len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    return f"twilio {status}" if status is not None else type(exc).__name__


def _asked(request: Any) -> list[Any]:
    """The records ``request()`` reads; CheckFailed for anything but Twilio's page of them."""
    try:
        return list(request())
    except (TwilioException, RequestException, ValueError, KeyError, TypeError) as exc:
        raise CheckFailed(_reason(exc)) from None


def connected(client: Any, room_sid: str) -> list[Participant]:
    """The participants connected to the room ``room_sid`` now (none once it has ended)."""
    records = _asked(
        lambda: client.video.v1.rooms(room_sid).participants.list(status=CONNECTED, page_size=PAGE_SIZE)
    )
    return [
        Participant(str(p.identity), _ms(p.start_time) or _ms(p.date_created))
        for p in records
        if p.identity and p.status == CONNECTED
    ]


def in_progress(client: Any, name: str) -> LiveRoom | None:
    """The room named ``name`` if Twilio says it is in progress, else None."""
    records = _asked(lambda: client.video.v1.rooms.list(unique_name=name, status=IN_PROGRESS, limit=1))
    for room in records:
        if room.unique_name == name and room.status == IN_PROGRESS and room.sid:
            return LiveRoom(str(room.sid), _ms(room.date_created))
    return None
