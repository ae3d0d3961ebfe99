"""A room's phone callers under the admin API: remove one, move one or all to another room.

Through Twilio's Calls API (``calls(sid).update(twiml=...)``): the new TwiML replaces the
call's ``<Connect>``, so no fall-through reaches the wait step and no hold loop puts a removed
caller back (and a stray fall-through meets the removed-participant rule,
``rooms.state.was_connected``: the identity was seen in the room). The bridge's own records
follow at once: the call's item leaves the room it left; a move into a running room adds one
(joining) under the new room, so its ``participant-connected`` callback names the call as a
phone leg; a move into a room not in progress sends the call to the wait step held for that
room (the voice function's hold machinery lists it). Who is connected comes, as always, from
the room callbacks (``participant-disconnected`` from one, ``participant-connected`` in the
other).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ..calls import verbs
from ..calls.steps import Speech, Urls, WaitState
from ..core.errors import Conflict, DialinError, Invalid, NotFound
from ..core.validation import name_problem
from ..edge.observability import count, logger
from ..rooms import state as rooms
from ..rooms.table import RoomTable
from ..speech import messages

CALL_TTL_SECONDS = 4 * 3600  # a moved call's item: as long as a call can last


class Unavailable(DialinError):
    """Twilio did not take the change: nothing changed, retry."""

    status = 503


@dataclass(frozen=True)
class PhoneCaller:
    """One phone leg of a room: connected (in the callbacks' state) or held for it."""

    identity: str
    call_sid: str
    connected: bool
    item: rooms.WaitingCall | None  # the bridge's record of the leg, when it has one
    spoken: Speech | None = None  # how to speak to the caller, when known better than the item

    def speech(self) -> Speech:
        """As the voice function spoke to the caller (the call's language and voice, from its
        item), else the default. A route's own texts are not on the item (but EVERYONE_LEFT):
        REMOVED and MOVING are the catalogue's, in the call's language."""
        if self.spoken is not None:
            return self.spoken
        return self.item.speech() if self.item is not None else verbs.DEFAULT_SPEECH


def checked(value: str, what: str, field_name: str) -> str:
    problem = name_problem(value, what)
    if problem:
        raise Invalid(problem, field_name)
    return value


def phone_callers(room: rooms.Room | None, calls: list[rooms.WaitingCall], now: int) -> list[PhoneCaller]:
    """The room's phone callers: connected legs, then legs held for it or being let in."""
    state = room or rooms.Room("", "")
    latest: dict[str, rooms.WaitingCall] = {}
    for call in sorted(calls, key=lambda c: c.since_ms):
        latest[call.identity] = call
    by_sid = {call.call_sid: call for call in calls}
    found = [PhoneCaller(i, sid, True, by_sid.get(sid)) for i, sid in state.phone.items()]
    for identity, call in latest.items():
        pending = call.status == rooms.WAITING or (
            call.status == rooms.JOINING
            and identity not in state.seen
            and not rooms.is_stale_joining(state, call, now)
        )
        if identity not in state.phone and pending:
            found.append(PhoneCaller(identity, call.call_sid, False, call))
    return found


def mid_move(caller: PhoneCaller) -> bool:
    """Let into the room (a move or a hold loop's join) and not yet connected: moving it again
    now would race the first move."""
    return not caller.connected and caller.item is not None and caller.item.status == rooms.JOINING


def removed_twiml(caller: PhoneCaller) -> str:
    return verbs.goodbye(messages.REMOVED, caller.speech()).to_xml(xml_declaration=False)


def moved_twiml(caller: PhoneCaller, to: rooms.Room | None, name: str, urls: Urls, now: float) -> str:
    """ "Moving you to <room>", then <Connect> to a running room (falling through to the wait
    step), or the wait step held for a room not in progress (its hold loop joins it)."""
    speech = caller.speech()
    state = WaitState(name, caller.identity, int(now), int(now), 0, speech, aware=True)
    response = VoiceResponse()
    if to is not None and to.in_progress:
        return verbs.connect(
            response, urls, state, now, verbs.localized(messages.MOVING, speech, room=name)
        ).to_xml(xml_declaration=False)
    verbs.say(response, messages.MOVING, speech, room=name)
    held = replace(state, connected_at=int(now) + verbs.heard_seconds(messages.MOVING, speech), held=True)
    response.redirect(urls.wait(held), method="POST")
    return response.to_xml(xml_declaration=False)


@dataclass
class Callers:
    """The admin's side of a room's phone legs; ``client`` gives an account's Twilio client."""

    table: RoomTable
    client: Callable[[str], Any]
    # The Twilio secret's own account: a room operation that names none acts on it.
    default_account: Callable[[], str]
    # Every account the stack serves (TwilioAccounts, and the secret's own): a room is one's.
    accounts: tuple[str, ...] = ()
    clock: Callable[[], float] = field(default=time.time)

    def _of(self, account: str) -> str:
        return account or self.default_account()

    def _room(self, account: str, room: str) -> tuple[rooms.Room | None, list[rooms.WaitingCall]]:
        account = self._of(account)
        return self.table.room(account, room, consistent=True), self.table.calls(account, room)

    def _one(self, account: str, room: str, identity: str) -> PhoneCaller:
        state, calls = self._room(account, room)
        if state is None and not calls:
            raise NotFound(f"no room {room!r} (no callbacks or phone callers for it)", "room")
        for caller in phone_callers(state, calls, int(self.clock())):
            if caller.identity == identity:
                return caller
        raise NotFound(f"no phone caller {identity!r} in room {room!r} (or they already left)", "identity")

    def _update(self, account: str, caller: PhoneCaller, twiml: str, what: str) -> None:
        from ..edge.rest import GONE, MOVED, update_call  # twilio.rest: not at cold start

        outcome, reason = update_call(self.client(self._of(account)), caller.call_sid, twiml)
        if outcome == GONE:
            if caller.item is not None:
                self.table.drop_call(caller.item)
            raise NotFound(f"phone caller {caller.identity!r} already left", "identity")
        if outcome != MOVED:
            logger.warning(f"caller not {what}", extra={"reason": reason})
            raise Unavailable(
                f"Twilio did not {what.rstrip('d')} the call ({reason}); nothing changed; retry"
            )

    def remove(self, account: str, room: str, identity: str) -> dict[str, Any]:
        caller = self._one(account, room, identity)
        self._update(account, caller, removed_twiml(caller), "removed")
        if caller.item is not None:
            self.table.drop_call(caller.item)
        count("CallersRemoved")
        logger.info("caller removed", extra={"room": room, "connected": caller.connected})
        return {"removed": identity, "room": room, "was": "connected" if caller.connected else "waiting"}

    def move(self, account: str, room: str, identity: str, to: str, urls: Urls) -> dict[str, Any]:
        caller = self._one(account, room, identity)
        if mid_move(caller):
            raise Conflict(
                f"{identity!r} is being let into room {room!r} right now; retry in a moment", "identity"
            )
        target, _ = self._target(account, room, to, 1, [identity])
        return {"moved": self._move(account, caller, to, target, urls), "room": room, "to": to}

    def move_all(self, account: str, room: str, to: str, urls: Urls) -> dict[str, Any]:
        state, calls = self._room(account, room)
        if state is None and not calls:
            raise NotFound(f"no room {room!r} (no callbacks or phone callers for it)", "room")
        callers = phone_callers(state, calls, int(self.clock()))
        target, _ = self._target(account, room, to, len(callers), [c.identity for c in callers])
        moved, failed = [], []
        for caller in callers:
            if mid_move(caller):
                failed.append({"identity": caller.identity, "reason": "being let into the room right now"})
                continue
            try:
                moved.append(self._move(account, caller, to, target, urls))
            except (NotFound, Unavailable) as exc:
                failed.append({"identity": caller.identity, "reason": str(exc)})
        return {"moved": moved, "failed": failed, "room": room, "to": to}

    def _target(
        self, account: str, room: str, to: str, arriving: int, identities: list[str]
    ) -> tuple[rooms.Room | None, list[rooms.WaitingCall]]:
        """The room callers move to, refused when it is this room, has their identities
        connected already (Twilio would drop that leg), or has no places for them."""
        if to == room:
            raise Invalid(f"the callers are in room {room!r} already", "to")
        target, calls = self._room(account, to)
        if target is None and not calls:
            self._not_anothers(account, to)
        if target is None or not target.in_progress:
            return target, calls  # held for it, as any caller of a room not started
        clash = [i for i in identities if i in target.phone]
        if clash:
            raise Conflict(f"{clash[0]!r} is connected to room {to!r} already", "to")
        if rooms.places(target, calls, int(self.clock())) < arriving:
            raise Conflict(f"room {to!r} is full: at most {rooms.MAX_PHONE_PARTICIPANTS} phone callers", "to")
        return target, calls

    def _not_anothers(self, account: str, to: str) -> None:
        """A room this account knows nothing of, that another account of the stack runs: the
        callers cannot follow (a call stays on its own account); refused."""
        mine = self._of(account)
        for other in self.accounts:
            if other != mine and self.table.room(other, to, consistent=True) is not None:
                raise Conflict(f"room {to!r} is another account's: callers move within their account", "to")

    def _move(
        self,
        account: str,
        caller: PhoneCaller,
        to: str,
        target: rooms.Room | None,
        urls: Urls,
    ) -> str:
        now = self.clock()
        running = target is not None and target.in_progress
        # Recorded first: a running room's participant-connected callback must find the call a
        # phone leg (joining); a room not started moves it in when it starts (waiting, listed
        # for the sweep as the voice function lists the rooms it holds callers for).
        base = caller.item or rooms.WaitingCall(self._of(account), to, caller.call_sid, caller.identity, 0)
        record = replace(
            base,
            room=to,
            status=rooms.JOINING if running else rooms.WAITING,
            since_ms=int(now * 1000),
            cap=rooms.MAX_PHONE_PARTICIPANTS,
            not_before=0,
            moved_at=int(now) if running else 0,
            started=int(now),
        )
        self.table.add_call(record, int(now) + CALL_TTL_SECONDS)
        if not running:
            self.table.list_held(
                self._of(account), to, urls.base, int(now * 1000), int(now) + CALL_TTL_SECONDS
            )
        try:
            self._update(account, caller, moved_twiml(caller, target, to, urls, now), "moved")
        except DialinError:
            self.table.drop_call(record)
            raise
        if caller.item is not None:
            self.table.drop_call(caller.item)
        count("CallersMoved")
        logger.info("caller moved", extra={"room": caller.item.room if caller.item else "", "to": to})
        return caller.identity
