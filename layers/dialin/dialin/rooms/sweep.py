"""The per-minute sweep's questions to Twilio (the room-events function's schedule): the bridge
acts on what Twilio says, not on what the callbacks let it guess.

- **Before the phone-only rule hangs anyone up** (``RoomEventsApp.end_phone_only_rooms``), one
  ``GET /v1/Rooms/{RoomSid}/Participants?Status=connected`` per room whose time is up
  (``edge.video.connected``, judged by ``checks``): only the phone legs Twilio says are
  connected are hung up, and nobody if anyone else is connected (a video participant whose
  connect callback was lost): that participant is recorded in the room's state (one
  conditional write, ordered by its start time as a callback would be) and the room unlisted.
  A check that fails (network, 429, 5xx, credentials) leaves the room listed for the next run
  (``RoomChecksFailed``), as does every room not begun by PHONE_ONLY_SWEEP_SECONDS (rooms are
  taken from a random place in the listing).
- **Against a lost room-created** (``join_held_rooms``): the voice function lists each room it
  holds callers for before it started (``CALLS#HELD#``, until MaxWaitSeconds after the last
  one). A listed room whose state says it is running is unlisted (the callbacks have it);
  any other is asked about, one ``GET /v1/Rooms?UniqueName={room}&Status=in-progress`` each
  (``edge.video.in_progress``), up to CHECK_WORKERS at once. Running: it is recorded as
  room-created would have (Twilio's RoomSid and creation time), its held callers are moved
  in as on room-created (``RoomEventsApp.move_waiting``) and it is unlisted
  (``HeldRoomsStarted``). Not running, or the check failed: it stays listed for the next run.
  Rooms are taken in chunks from a random place in the listing, and no chunk is begun after
  SWEEP_SECONDS, so a request's 6 s timeout still ends inside the function's 10 s.

A room that cannot be handled (its account has no credentials, a table fault) is reported
(``service fault``) and the sweep goes on with the others.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ..calls.steps import Urls
from ..edge import faults, video
from ..edge.observability import count, logger
from . import checks
from .state import (
    MARKER_TTL_SECONDS,
    PARTICIPANT_CONNECTED,
    ROOM_CREATED,
    ROOM_TTL_SECONDS,
    Room,
    RoomEvent,
    WaitingCall,
)
from .table import Conflict, Held

if TYPE_CHECKING:
    from .events import RoomEventsApp

T = TypeVar("T")

SERVICE_FAULTS = (*faults.SERVICE_FAULTS, Conflict)
# Held rooms asked about at once (Twilio's Video REST allows about 80 reads a second).
CHECK_WORKERS = 10
# No phone-only room is begun after this many seconds of the run, nor a chunk of held rooms
# after SWEEP_SECONDS (a request's 6 s timeout still ends inside the function's 10 s).
PHONE_ONLY_SWEEP_SECONDS = 2.0
SWEEP_SECONDS = 3.0


def scheduled(app: RoomEventsApp) -> dict[str, Any]:
    """The per-minute run: the phone-only rooms due, then the held rooms. A listing that cannot
    be read ends the run, reported (the next run retries)."""
    started = time.monotonic()
    try:
        result: dict[str, Any] = {"ended": app.end_phone_only_rooms(started + PHONE_ONLY_SWEEP_SECONDS)}
    except SERVICE_FAULTS as exc:
        return {"ended": 0, "fault": faults.report("phone-only sweep", exc)}
    try:  # the held rooms get their own second at least, however long the phone-only ones took
        joined = join_held_rooms(app, max(started + SWEEP_SECONDS, time.monotonic() + 1.0))
    except SERVICE_FAULTS as exc:
        return {**result, "fault": faults.report("held-room sweep", exc)}
    return {**result, "joined": joined} if joined else result


def rotated(listed: list[T]) -> list[T]:
    """The listing from a random place: a run that stops at its deadline leaves different rooms
    for the next run, so every room gets its turn, however many there are."""
    start = secrets.randbelow(len(listed)) if listed else 0
    return listed[start:] + listed[:start]


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


def join_held_rooms(app: RoomEventsApp, deadline: float) -> int:
    """Ask Twilio about the rooms with held callers and no running state; move the callers of
    those running. The calls moved."""
    listed = rotated(app.table.held_rooms(int(app.clock())))
    joined = 0
    for first in range(0, len(listed), CHECK_WORKERS):
        if time.monotonic() >= deadline:
            logger.info("held-room sweep: the rest next run", extra={"left": len(listed) - first})
            break
        joined += _check_chunk(app, listed[first : first + CHECK_WORKERS])
    return joined


def _check_chunk(app: RoomEventsApp, chunk: list[Held]) -> int:
    asking: list[tuple[Held, Any]] = []
    for held in chunk:
        try:
            room = app.table.room(held.account, held.room)
            if room is not None and room.in_progress:
                app.table.unlist_held(held)  # the callbacks have it: room-created moved the callers
                continue
            asking.append((held, app.clients.get(held.account)))
        except SERVICE_FAULTS as exc:  # this room stays listed; the others go on
            faults.report("held-room sweep", exc)
    if not asking:
        return 0
    with ThreadPoolExecutor(max_workers=len(asking)) as pool:
        answers = list(pool.map(lambda pair: _running(pair[1], pair[0].room), asking))
    joined = 0
    for (held, _), answer in zip(asking, answers, strict=True):
        if isinstance(answer, video.CheckFailed):
            count("RoomChecksFailed")
            logger.warning("held room not checked", extra={"room": held.room, "reason": answer.reason})
        elif answer is not None:
            try:
                joined += _start(app, held, answer)
            except SERVICE_FAULTS as exc:
                faults.report("held-room sweep", exc)
    return joined


def _running(client: Any, name: str) -> video.LiveRoom | video.CheckFailed | None:
    try:
        return video.in_progress(client, name)
    except video.CheckFailed as exc:
        return exc


def _start(app: RoomEventsApp, held: Held, live: video.LiveRoom) -> int:
    """Twilio says the room runs: record it as its room-created would have, move its held
    callers in, and unlist it. The calls moved."""
    now = app.clock()
    event = RoomEvent(ROOM_CREATED, live.sid, live.started_ms or int(now * 1000))
    old, change = app.table.record(held.account, held.room, event, int(now) + ROOM_TTL_SECONDS)
    if old is None:  # the room's first state, as RoomEventsApp stores a callback's
        app.table.mark_account(held.account, int(now), int(now) + MARKER_TTL_SECONDS)
    moved = 0
    if change.started:
        count("HeldRoomsStarted")
        logger.warning("room running without its room-created: held callers moved", extra={"room": held.room})
        base = held.base or app.settings.public_base_url
        if base:  # else their hold loop joins them, now that the state says it is running
            moved = app.move_waiting(change.room, Urls(base.rstrip("/")), event.at_ms)
    app.table.unlist_held(held)
    return moved
