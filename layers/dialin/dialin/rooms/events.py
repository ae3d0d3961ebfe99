"""The room-events app: Twilio Video room status callbacks (POST /video/status) keep each
room's state in the table, and waiting calls are moved into a room through the Calls API the
moment it starts or a phone place frees up. A per-minute schedule ends the calls of rooms
where only phone legs have remained for ``PHONE_ONLY_SECONDS``, once Twilio confirms who is
connected (``sweep``).

The only code besides dial-out that calls Twilio's REST API (``edge.rest``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ..calls import verbs
from ..calls.steps import Speech, Urls, WaitState
from ..core.config import Settings, api_base_url_setting
from ..core.validation import is_account_sid, name_problem
from ..edge import faults
from ..edge.apigateway import FormParams, public_base_url, route_path
from ..edge.credentials import Credentials
from ..edge.http import forbidden, not_found, twiml
from ..edge.observability import count, logger, timings
from ..edge.pacing import SKIPPED, Pace
from ..edge.rest import GONE, MOVED, ClientCache, update_call
from ..edge.signature import signed_params
from ..speech import messages
from . import state as rooms
from . import writes
from .pins import pin_revoker
from .store import RoomStore
from .sweep import phone_legs_to_end, rotated, scheduled
from .table import Conflict

ROUTE = "/video/status"
# Twilio's limit for inline TwiML (as dial-out). The longest names give about 3,650.
MAX_TWIML_CHARS = 4000
# Calls moved at once per room; Twilio limits an account's concurrent REST requests (20429),
# and ``edge.pacing`` backs off when it says so.
MOVE_WORKERS = 10
# How a caller joined, the JoinDelay metric's ``Joined`` dimension (``voice.room_aware`` times the
# joins of the hold loop: ``hold``).
JOINED_BY_MOVE = "moved"
# A chosen call this callback did not claim: another claimed it, or Twilio had said slow down.
UNTOUCHED = "untouched"
DEFERRED = "deferred"  # why: not begun, for Twilio's pace (the calls' hold loops join them)
SERVICE_FAULTS = (*faults.SERVICE_FAULTS, Conflict)
# What a hook for the first room-ended of a room gets: (AccountSid, room name, when it
# ended in epoch seconds).
RoomEndedHook = Callable[[str, str, float], None]


@dataclass(frozen=True)
class RoomEventsSettings:
    phone_only_seconds: int = 120
    api_base_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RoomEventsSettings:
        env = os.environ if env is None else env
        raw = env.get("PHONE_ONLY_SECONDS", "").strip()
        seconds = int(raw) if raw.isdigit() else 120
        return cls(phone_only_seconds=min(max(seconds, 0), 3600), api_base_url=api_base_url_setting(env))


def parse_timestamp(text: str) -> int | None:
    """Twilio's ``Timestamp`` (ISO 8601, UTC) as epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def parse_event(params: FormParams, now_ms: int, call_sid: Callable[[str], str]) -> rooms.RoomEvent | None:
    """The callback as a RoomEvent, or None when it is not one we keep state for."""
    kind = params.get("StatusCallbackEvent")
    identity = params.get("ParticipantIdentity")
    if kind not in rooms.EVENTS or not params.get("RoomSid").startswith("RM"):
        return None
    participant = kind.startswith("participant-")
    if participant and name_problem(identity, "identity"):
        return None
    at_ms = parse_timestamp(params.get("Timestamp")) or now_ms
    sid = call_sid(identity) if kind == rooms.PARTICIPANT_CONNECTED else ""
    return rooms.RoomEvent(kind, params.get("RoomSid"), at_ms, identity if participant else "", sid)


def moved_twiml(call: rooms.WaitingCall, urls: Urls, now: float) -> str:
    """The TwiML a waiting call is moved to: <Connect> to its room, falling through to the wait step."""
    state = WaitState(
        call.room,
        call.identity,
        int(now),
        call.started or int(now),
        0,
        call.speech(),
        cap=call.cap if call.cap < rooms.MAX_PHONE_PARTICIPANTS else 0,
        aware=True,
    )
    return verbs.connect(VoiceResponse(), urls, state, now).to_xml(xml_declaration=False)


def ended_twiml(speech: Speech = verbs.DEFAULT_SPEECH) -> str:
    """What a phone caller left alone hears, spoken as the voice function spoke to them."""
    return verbs.goodbye(messages.EVERYONE_LEFT, speech).to_xml(xml_declaration=False)


@dataclass
class RoomEventsApp:
    settings: Settings
    options: RoomEventsSettings
    table: RoomStore
    credentials: Credentials
    clients: ClientCache
    clock: Callable[[], float] = field(default=time.time)
    # Called once on the first room-ended of each room: revokes the PINs tied to it.
    on_room_ended: RoomEndedHook = field(default=lambda account, room, ended_at: None)
    # A new retry budget for each batch of Calls API requests (tests give a clock of their own).
    pace: Callable[[], Pace] = field(default=Pace)

    @classmethod
    def on_table(cls, settings: Settings, client: Any, credentials: Credentials, **kw: Any) -> RoomEventsApp:
        options = kw.pop("options", None) or RoomEventsSettings.from_env()
        clients = kw.pop("clients", None) or ClientCache(credentials, options.api_base_url)
        kw.setdefault("on_room_ended", pin_revoker(client, settings.table_name, settings.twilio_accounts))
        return cls(settings, options, RoomStore(client, settings.table_name), credentials, clients, **kw)

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
            return scheduled(self)  # phone-only rooms, then held rooms (``sweep``)
        if route_path(event) != ROUTE:
            return not_found()
        try:
            params = signed_params(event, self.credentials.auth_tokens_for, self.settings.public_base_url)
        except SERVICE_FAULTS as exc:
            return self._fault("signature", exc)
        if params is None:
            return forbidden()
        try:
            self._callback(params, Urls(public_base_url(event, self.settings.public_base_url)))
        except SERVICE_FAULTS as exc:
            return self._fault("room event", exc)
        return twiml(VoiceResponse())

    def _fault(self, where: str, exc: Exception) -> dict[str, Any]:
        faults.report(where, exc)
        # Twilio does not retry a room callback; a 500 at least shows in its debugger.
        return {"statusCode": 500, "headers": {"Content-Type": "text/plain"}, "body": "Unavailable"}

    def _callback(self, params: FormParams, urls: Urls) -> None:
        count("RoomCallbacks")
        account, name = params.get("AccountSid"), params.get("RoomName")
        now = self.clock()
        if not is_account_sid(account) or name_problem(name, "room"):
            logger.warning("room callback ignored", extra={"reason": "account or room name"})
            return
        calls: list[rooms.WaitingCall] = []

        def call_sid(identity: str) -> str:
            calls.extend(self.table.calls(account, name))
            # Only legs let into the room: a waiting caller's identity joining is someone on video.
            found = [c for c in calls if c.identity == identity and c.status == rooms.JOINING]
            return max(found, key=lambda c: c.since_ms).call_sid if found else ""

        event = parse_event(params, int(now * 1000), call_sid)
        if event is None:
            logger.info("room callback ignored", extra={"event": params.get("StatusCallbackEvent")[:40]})
            return
        before, change = self._store(account, name, event, now)
        extra = {"event": event.kind, "room": name, "phone": len(change.room.phone), "stale": change.stale}
        logger.info("room event", extra=extra)
        if change.stale:
            return
        if change.ended:
            self.on_room_ended(account, name, event.at_ms / 1000)
        own_write = event.kind in (rooms.ROOM_CREATED, rooms.ROOM_ENDED) or change.started
        self._phone_only(before, change.room, now, own_write)
        if change.started or change.place_freed:
            try:
                self.move_waiting(change.room, urls, event.at_ms)
            except SERVICE_FAULTS as exc:  # the event is stored: held calls join at their hold loop
                faults.report("call moves", exc)
        self._prune(change.room, now)

    def _store(
        self, account: str, name: str, event: rooms.RoomEvent, now: float
    ) -> tuple[rooms.Room, rooms.Change]:
        """The event stored (one conditional update): the room as it was before, and the change."""
        old, change = self.table.record(account, name, event, int(now) + rooms.ROOM_TTL_SECONDS)
        # This account sends room callbacks: marked at a room's first state, and again at each
        # room start, so that a room used every day (its state never expires) keeps it alive.
        if old is None or event.kind == rooms.ROOM_CREATED:
            self.table.mark_account(account, int(now), int(now) + rooms.MARKER_TTL_SECONDS)
        return old or rooms.Room(account, name), change

    def _phone_only(self, before: rooms.Room, room: rooms.Room, now: float, own_write: bool) -> None:
        """Keep the phone-only mark (and the sweep's listing) in step with who is connected. The
        mark is a second write, conditional on the room still (or no longer) being phone-only,
        so callbacks racing it cannot leave a room phone-only unlisted."""
        if room.phone_only_since == before.phone_only_since:
            return
        if room.phone_only_since:
            due = room.phone_only_since // 1000 + self.options.phone_only_seconds
            self.table.mark_phone_only(room, due, int(now) + rooms.ROOM_TTL_SECONDS)
        elif own_write:  # a room-level write set it to 0 itself
            self.table.unlist_phone_only(room.account, room.name, before.phone_only_since)
        else:
            self.table.clear_phone_only(room)

    def _prune(self, room: rooms.Room, now: float) -> None:
        """Forget identities that left long ago: the item stays small however many come and go."""
        gone = writes.prunable(room, int(now * 1000))
        if not gone:
            return
        try:
            self.table.prune(room, gone)
        except SERVICE_FAULTS as exc:  # the event itself is stored; the next one prunes again
            faults.report("room prune", exc)

    def move_waiting(self, room: rooms.Room, urls: Urls, since_ms: int | None = None) -> int:
        """Move the waiting calls the room has places for, in arrival order, all at once, at
        Twilio's pace (``edge.pacing``); ``since_ms``: when the room started or the place freed."""
        now = self.clock()
        chosen = rooms.to_move(room, self.table.calls(room.account, room.name), int(now))
        if not chosen:
            return 0
        client = self.clients.get(room.account)
        chosen = [call for call in chosen if self._fits(call, urls, now)]
        pace = self.pace()

        def move(call: rooms.WaitingCall) -> tuple[str, str]:
            if not pace.open:  # Twilio said slow down, or the invocation's time is up: left waiting
                return UNTOUCHED, DEFERRED
            # Concurrent callbacks may choose the same calls: each is moved by whoever claims it.
            if not self.table.claim(call, int(now)):
                return UNTOUCHED, ""
            return update_call(client, call.call_sid, moved_twiml(call, urls, now), pace)

        if not chosen:
            return 0
        # Claim and move each call in one worker: N claims take the time of one, not N.
        with ThreadPoolExecutor(max_workers=min(MOVE_WORKERS, len(chosen))) as pool:
            results = list(pool.map(move, chosen))
        delays: list[float] = []
        for call, (outcome, reason) in zip(chosen, results, strict=True):
            if outcome == MOVED:
                delays.append(max(0.0, self.clock() * 1000 - (since_ms or call.since_ms)))
            elif outcome == GONE:
                self.table.drop_call(call)
            elif (
                outcome != UNTOUCHED
            ):  # released: its hold loop (or the next callback, or the sweep) joins it
                self.table.release(call)
                if outcome != SKIPPED:
                    logger.warning("call not moved", extra={"room": room.name, "reason": reason})
                    count("CallMovesFailed")
        skipped = sum(outcome == SKIPPED or reason == DEFERRED for outcome, reason in results)
        count("CallsMoved", len(delays))
        count("CallMoveRetries", pace.retries)
        count("CallMovesDeferred", skipped)
        timings("JoinDelay", "Joined", JOINED_BY_MOVE, delays)
        extra = {"room": room.name, "moved": len(delays), "chosen": len(chosen), "deferred": skipped}
        logger.info("calls moved", extra=extra)
        return len(delays)

    def _fits(self, call: rooms.WaitingCall, urls: Urls, now: float) -> bool:
        """A call whose TwiML Twilio would refuse stays waiting: its hold loop's <Connect> joins it."""
        if len(moved_twiml(call, urls, now)) <= MAX_TWIML_CHARS:
            return True
        logger.warning("call not moved", extra={"room": call.room, "reason": "twiml too long"})
        count("CallMovesFailed")
        return False

    def end_phone_only_rooms(self, deadline: float = float("inf")) -> int:
        """The scheduled check: end the calls of rooms where only phone legs have remained too
        long. A room stays listed until every one of its calls was ended (or is gone); a room
        that cannot be handled now (no credentials, a fault) is reported and tried next run, as
        are the rooms not begun by ``deadline`` (``time.monotonic()``; each run starts at a
        random place in the listing, so every room gets its turn)."""
        now = int(self.clock())
        ended = 0
        due = rotated(self.table.phone_only_due(now))
        for n, (sk, _due, since) in enumerate(due):
            if time.monotonic() >= deadline:
                logger.info("phone-only sweep: the rest next run", extra={"left": len(due) - n})
                break
            account, name = rooms.split_phone_only(sk)
            try:
                ended += self._end_phone_only(account, name, since, now)
            except SERVICE_FAULTS as exc:  # this room stays listed; the others go on
                faults.report("phone-only sweep", exc)
        return ended

    def _end_phone_only(self, account: str, name: str, listed_since: int, now: int) -> int:
        room = self.table.room(account, name, consistent=True)
        if room is None or not writes.is_phone_only(room) or not room.phone_only_since:
            self.table.unlist_phone_only(account, name, listed_since)
            return 0
        due = room.phone_only_since // 1000 + self.options.phone_only_seconds
        if due > now:  # listed by an older stretch: the state's own is later
            self.table.list_phone_only(
                account, name, due, room.phone_only_since, now + rooms.ROOM_TTL_SECONDS
            )
            return 0
        client = self.clients.get(account)
        calls = self.table.calls(account, name)
        sids = phone_legs_to_end(self, client, room, calls, listed_since)  # as Twilio confirms them
        if not sids:
            return 0
        speech = {call.call_sid: call.speech() for call in calls}
        with ThreadPoolExecutor(max_workers=min(MOVE_WORKERS, len(sids))) as pool:
            outcomes = list(
                pool.map(
                    lambda sid: update_call(client, sid, ended_twiml(speech.get(sid, verbs.DEFAULT_SPEECH))),
                    sids,
                )
            )
        failed = [reason for outcome, reason in outcomes if outcome not in (MOVED, GONE)]
        if failed:  # stays listed: the next run ends the rest (an ended call answers "gone")
            count("PhoneOnlyHangupsFailed", len(failed))
            logger.warning(
                "phone-only room not ended", extra={"room": name, "failed": len(failed), "reason": failed[0]}
            )
            return 0
        self.table.unlist_phone_only(account, name, listed_since)
        count("PhoneOnlyRoomsEnded")
        logger.info("phone-only room ended", extra={"room": name, "calls": len(sids)})
        return 1
