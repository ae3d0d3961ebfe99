"""The per-minute sweep's questions to Twilio (the room-events function's schedule): the bridge
acts on what Twilio says, not on what the callbacks let it guess.

- **Before the phone-only rule hangs anyone up** (``RoomEventsApp.end_phone_only_rooms``), one
  ``GET /v1/Rooms/{RoomSid}/Participants?Status=connected`` per room whose time is up
  (``edge.video.connected``, judged by ``checks``): only the phone legs Twilio says are
  connected are hung up, and nobody if anyone else is connected (a video participant whose
  connect callback was lost): that participant is recorded in the room's state (one
  conditional write, ordered by its start time as a callback would be) and the room unlisted.
  A check that fails (network, 429, 5xx, credentials) leaves the room listed for the next run
  (``RoomChecksFailed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..edge import video
from ..edge.observability import count, logger
from . import checks
from .state import PARTICIPANT_CONNECTED, ROOM_TTL_SECONDS, Room, RoomEvent, WaitingCall

if TYPE_CHECKING:
    from .events import RoomEventsApp


def phone_legs_to_end(
    app: RoomEventsApp, client: Any, room: Room, calls: list[WaitingCall], listed_since: int
) -> list[str]:
    """The CallSids of a phone-only room to hang up, as Twilio confirms them. None to hang up
    now when the check failed (the room stays listed), when someone else is connected (the
    state is corrected and the room unlisted), or when nobody is (unlisted)."""
    try:
        connected = video.connected(client, room.room_sid)
    except video.CheckFailed as exc:
        count("RoomChecksFailed")
        logger.warning("phone-only room not checked", extra={"room": room.name, "reason": exc.reason})
        return []
    verdict = checks.judge(room, calls, connected)
    if verdict.others:
        _correct(app, room, verdict.others)
        return []
    if not verdict.hang_up:
        app.table.unlist_phone_only(room.account, room.name, listed_since)
        logger.info("phone-only room unlisted: nobody is connected", extra={"room": room.name})
    return list(verdict.hang_up)


def _correct(app: RoomEventsApp, room: Room, others: tuple[video.Participant, ...]) -> None:
    """Record the participants Twilio says are connected and the callbacks missed (each as its
    own participant-connected), and clear the phone-only mark, which unlists the room. A
    correction the state already has newer facts about is stale: the room stays listed and
    the next run asks again."""
    now = app.clock()
    latest, corrected = room, 0
    for participant in others:
        at_ms = participant.since_ms or int(now * 1000)
        event = RoomEvent(PARTICIPANT_CONNECTED, room.room_sid, at_ms, participant.identity)
        _, change = app.table.record(room.account, room.name, event, int(now) + ROOM_TTL_SECONDS)
        if not change.stale:
            latest, corrected = change.room, corrected + 1
    if corrected:
        app.table.clear_phone_only(latest)
    count("PhoneOnlyCorrected")
    extra = {"room": room.name, "others": len(others), "corrected": corrected}
    logger.warning("phone-only room not ended: Twilio says someone else is connected", extra=extra)
