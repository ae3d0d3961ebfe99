"""The voice function's room-aware steps: read what the room callbacks said (one request),
decide before connecting, and record each leg let at a room (a ``CALLS#`` item, its only
new write) so the room-events function can recognise it and move it when the room starts; a
room it holds callers for before the room started is listed too (``CALLS#HELD#``), for the
per-minute sweep's check against a lost room-created.

An account that never sent a room callback has no marker item: its calls take the timer
path of ``flow``, exactly as without this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from botocore.exceptions import BotoCoreError, ClientError
from twilio.twiml.voice_response import VoiceResponse

from ..calls.call import Call, Limits
from ..calls.steps import Urls, WaitState
from ..core.records import MalformedRecord
from ..core.validation import is_account_sid
from ..edge import faults
from ..edge.observability import count, logger, timings
from ..rooms import flow as room_flow
from ..rooms import state as rooms
from ..rooms.table import RoomTable
from ..speech import messages
from .directory import Directory

# Call items outlive the longest wait by this much.
CALL_TTL_MARGIN_SECONDS = 3600
# A held caller back from its hold, in a running room with a place: whether it joins by itself.
CLAIMED, JOIN, HOLD = "claimed", "join", "hold"
# The JoinDelay metric's ``Joined`` dimension for a caller its own hold loop joins
# (rooms.events times the moves: ``moved``).
JOINED_BY_HOLD = "hold"


@dataclass
class RoomSteps:
    directory: Directory  # the table is reached through its client, on first use
    limits: Limits
    music: str = ""

    @cached_property
    def table(self) -> RoomTable:
        return RoomTable(self.directory.client, self.directory.table_name)

    def room(self, account: str, room: str) -> rooms.Room | None:
        """The room's state: the step's one more read (only for accounts that send callbacks)."""
        return self.table.room(account, room) if is_account_sid(account) else None

    def join(
        self, call: Call, state: WaitState, aware: bool, urls: Urls, now: float, lead: str
    ) -> VoiceResponse:
        """A caller about to join ``state.room`` (first time): decide, record, answer."""
        room = self.room(call.account, state.room) if aware else None
        decision = rooms.decide(aware, room, state.identity, state.cap or rooms.MAX_PHONE_PARTICIPANTS)
        if decision == rooms.CONNECT and room is not None and not self._place_for_new(call, state, room, now):
            decision = rooms.FULL
        waiting = self.record(call, state, decision, now, new=True)
        if waiting is not None:
            decision = self._recheck(waiting, decision, now)
            if decision == rooms.NOT_STARTED:
                self.list_held(call, state, urls, now)
        if decision in (rooms.CONNECT, rooms.TIMER):
            count("Connects")
        return room_flow.attempt(state, decision, urls, now, self.limits, self.music, lead)

    def early(self, call: Call, state: WaitState, aware: bool, urls: Urls, now: float) -> VoiceResponse:
        """An early PIN: the caller waits for its window, recorded as waiting when the account is aware."""
        if aware:
            self.record(call, state, rooms.NOT_STARTED, now, new=True)
            self.list_held(call, state, urls, now)
        count("EarlyPins")
        return room_flow.early_pin(state, urls, now, self.limits, self.music)

    def wait(self, call: Call, state: WaitState, urls: Urls, now: float) -> VoiceResponse:
        aware = state.aware
        room = self.room(call.account, state.room) if aware else None
        claimed = False
        if state.held:
            response, outcome = room_flow.held(state, aware, room, urls, now, self.limits, self.music)
            if outcome == rooms.CONNECT and room is not None:
                turn = self._turn_of_held(call, state, room, now)
                claimed = turn == CLAIMED
                if turn != HOLD:  # timed from when it could first join: room start, or its greeting's end
                    could_ms = max(room.status_at, state.since * 1000)
                    timings("JoinDelay", "Joined", JOINED_BY_HOLD, [max(0.0, now * 1000 - could_ms)])
                if turn == HOLD:  # others waited longer, or the room-events function is moving it
                    outcome = rooms.FULL
                    response = room_flow.attempt(state, outcome, urls, now, self.limits, self.music)
        else:
            response, outcome = room_flow.fell_through(state, aware, room, urls, now, self.limits, self.music)
            count("SessionsEnded" if outcome == room_flow.SESSION_ENDED else "RoomNotStarted")
        if aware and not claimed:
            self.record(call, state, outcome, now, new=not state.held)
        if aware and not state.held and outcome == rooms.NOT_STARTED:
            self.list_held(call, state, urls, now)  # fell through: the room is not running yet
        log = {"step": "wait", "held": state.held, "outcome": outcome, "loops": state.loops, "aware": aware}
        logger.info("wait step", extra=log)
        return response

    def list_held(self, call: Call, state: WaitState, urls: Urls, now: float) -> None:
        """List the room for the per-minute sweep, which asks Twilio whether it is running (its
        room-created may be lost) and moves the held callers in. Until no caller held for it
        can still wait (MaxWaitSeconds). A failed write is reported; the caller still waits
        for room-created."""
        if not is_account_sid(call.account):
            return
        expires = max(int(now), state.since) + self.limits.max_wait_seconds
        try:
            self.table.list_held(call.account, state.room, urls.base, int(now * 1000), expires)
        except (BotoCoreError, ClientError) as exc:
            faults.report("held listing", exc)

    def _place_for_new(self, call: Call, state: WaitState, room: rooms.Room, now: float) -> bool:
        """The room's phone callers counted as the room-events function counts them: those
        connected, those just let in, and those waiting (they came first). A failed read lets
        the caller in, as the stored count says."""
        try:
            calls = self.table.calls(call.account, state.room)
        except (BotoCoreError, ClientError, MalformedRecord) as exc:
            faults.report("room places", exc)
            return True
        return rooms.has_place(
            room, calls, state.cap or rooms.MAX_PHONE_PARTICIPANTS, int(now), state.identity
        )

    def _turn_of_held(self, call: Call, state: WaitState, room: rooms.Room, now: float) -> str:
        """A held caller joins by itself only in its turn (arrival order, places counted as the
        room-events function counts them), claiming its own item so that a move of the same
        call at the same moment is not a second join: CLAIMED, or HOLD. Its item missing (it
        expired): JOIN as a new caller would, if there is a place, recorded as one."""
        try:
            calls = self.table.calls(call.account, state.room)
            mine = next((c for c in calls if c.call_sid == call.sid), None)
            cap = state.cap or rooms.MAX_PHONE_PARTICIPANTS
            if mine is None:
                return JOIN if rooms.has_place(room, calls, cap, int(now), state.identity) else HOLD
            if not rooms.my_turn(room, calls, call.sid, int(now)):
                return HOLD
            joining = replace(mine, status=rooms.JOINING, moved_at=int(now))
            return CLAIMED if self.table.claim_waiting(joining, self._expires(now, mine.started)) else HOLD
        except (BotoCoreError, ClientError, MalformedRecord) as exc:
            faults.report("room turn", exc)  # held again: moved by the next callback or hold loop
            return HOLD

    def _recheck(self, waiting: rooms.WaitingCall, held: str, now: float) -> str:
        """The room may have started (or freed a place) between our read and our write, its
        callback finding no call to move: read again, consistently, and join now rather than at
        the next hold loop, if the room-events function has not claimed the call meanwhile."""
        try:
            room = self.table.room(waiting.account, waiting.room, consistent=True)
            if room is None or rooms.decide(True, room, waiting.identity, waiting.cap) != rooms.CONNECT:
                return held
            # In its turn only: calls just let in count, and those that waited longer go first.
            if not rooms.my_turn(
                room, self.table.calls(waiting.account, waiting.room), waiting.call_sid, int(now)
            ):
                return held
            joining = replace(waiting, status=rooms.JOINING, moved_at=int(now))
            claimed = self.table.claim_waiting(joining, self._expires(now, waiting.started))
        except (BotoCoreError, ClientError, MalformedRecord) as exc:
            faults.report("room recheck", exc)  # the caller waits, to be moved or joined at a hold loop
            return held
        return rooms.CONNECT if claimed else held

    def _expires(self, now: float, since: int) -> int:
        return max(int(now), since) + self.limits.max_wait_seconds + CALL_TTL_MARGIN_SECONDS

    def record(
        self, call: Call, state: WaitState, decision: str, now: float, new: bool
    ) -> rooms.WaitingCall | None:
        """Write the leg's call item: joining on CONNECT; waiting when it starts to wait (returned)."""
        if decision == rooms.FULL and new:  # once per caller, not at each hold document
            count("FullRoomRefusals")
        if not is_account_sid(call.account) or not rooms.is_call_sid(call.sid):
            return None
        if decision == rooms.CONNECT:
            status = rooms.JOINING
        elif decision in (rooms.NOT_STARTED, rooms.FULL) and new:
            status = rooms.WAITING
        else:
            return None
        item = rooms.WaitingCall(
            account=call.account,
            room=state.room,
            call_sid=call.sid,
            identity=state.identity,
            since_ms=int(now * 1000),
            status=status,
            voice=state.speech.voice,
            language=state.speech.language,
            cap=state.cap or rooms.MAX_PHONE_PARTICIPANTS,
            not_before=state.not_before,
            moved_at=int(now) if status == rooms.JOINING else 0,
            started=state.since,
            custom=state.speech.custom,
            farewell=state.speech.prompts.get(messages.EVERYONE_LEFT.key, ""),
        )
        try:
            self.table.add_call(item, self._expires(now, state.since))
        except (BotoCoreError, ClientError) as exc:
            if status == rooms.WAITING:
                raise  # a waiting caller nobody can move: the step answers "unavailable"
            faults.report("record call", exc)  # joining needs no write: connect anyway
        return item if status == rooms.WAITING else None
