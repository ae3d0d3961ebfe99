"""Room state from Twilio's room status callbacks, the calls waiting for a room, and the pure
decisions made on them. No table, no clock: callers pass both in.

Items (all carry ``expires_at``, the table's TTL; room names are unique per account only;
keys built by ``core.keys``):
  account marker  pk = ROOMS#<AccountSid>, sk = ACCOUNT         this account sends room callbacks
  room state      pk = ROOM#<AccountSid>#<room>, sk = STATE     in progress, who is connected
  call            pk = CALLS#<AccountSid>#<room>, sk = <CallSid> a phone leg the bridge let at the room
  phone-only      pk = PHONEONLY, sk = <AccountSid>#<room>      a room where only phone legs remain

An AccountSid has a fixed length, so ``<AccountSid>#<room>`` is unambiguous whatever the room name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..calls.steps import Speech
from ..core.keys import CALLS, ROOM, call_key, room_key
from ..core.keys import account_key as account_key  # re-exported, as are the next two
from ..core.keys import calls_pk as calls_pk
from ..core.keys import split_phone_only as split_phone_only
from ..core.records import MalformedRecord, number_attribute
from ..core.validation import is_account_sid, name_problem
from ..speech import messages

# Twilio's cap on PSTN participants in one room.
MAX_PHONE_PARTICIPANTS = 35
# How long the table keeps what the callbacks told us.
MARKER_TTL_SECONDS = 30 * 86_400
ROOM_TTL_SECONDS = 2 * 86_400
# A moved call counts towards the room's phone places until it connects, or for this long.
JOINING_SECONDS = 30
# A departed identity's ``times`` and ``seen`` entries are dropped this long after its last
# event (Twilio delivers a room's callbacks within seconds; a fall-through follows at once).
PRUNE_AFTER_MS = 10 * 60 * 1000

IN_PROGRESS = "in-progress"
ENDED = "ended"
WAITING = "waiting"
JOINING = "joining"

# Decisions for a caller about to join.
TIMER = "timer"  # no room callbacks for this account: join and time the fall-through, as before
CONNECT = "connect"
NOT_STARTED = "not-started"
FULL = "full"


def is_call_sid(value: str) -> bool:
    return len(value) == 34 and value.startswith("CA") and value[2:].isalnum() and value.isascii()


def _strings(item: Mapping[str, Any], name: str) -> dict[str, str]:
    value = item.get(name, {"M": {}})
    if not isinstance(value, dict) or not isinstance(value.get("M"), dict):
        raise MalformedRecord(f"attribute {name} is not a map")
    out = {}
    for key, inner in value["M"].items():
        if not isinstance(inner, dict) or not isinstance(inner.get("S"), str):
            raise MalformedRecord(f"attribute {name} holds a value that is not a string")
        out[str(key)] = inner["S"]
    return out


def _numbers(item: Mapping[str, Any], name: str) -> dict[str, int]:
    value = item.get(name, {"M": {}})
    if not isinstance(value, dict) or not isinstance(value.get("M"), dict):
        raise MalformedRecord(f"attribute {name} is not a map")
    out = {}
    for key, inner in value["M"].items():
        text = inner.get("N") if isinstance(inner, dict) else None
        if not isinstance(text, str) or not text.isdigit():
            raise MalformedRecord(f"attribute {name} holds a value that is not a whole number")
        out[str(key)] = int(text)
    return out


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name, {"S": ""})
    if not isinstance(value, dict) or not isinstance(value.get("S"), str):
        raise MalformedRecord(f"attribute {name} is not a string")
    return value["S"]


def _string_map(values: Mapping[str, str]) -> dict[str, Any]:
    return {"M": {key: {"S": value} for key, value in values.items()}}


@dataclass(frozen=True)
class Room:
    """What the callbacks said about one room. Identities map to a CallSid (phone legs) or
    to the RoomSid they were seen in (everyone else)."""

    account: str
    name: str
    status: str = ""  # in-progress, ended, or "" before room-created
    room_sid: str = ""
    status_at: int = 0  # ms of the event that set ``status`` (room events; a new RoomSid's first event)
    phone: dict[str, str] = field(default_factory=dict)  # phone identities connected -> CallSid
    others: dict[str, str] = field(default_factory=dict)  # other identities connected
    seen: dict[str, str] = field(default_factory=dict)  # phone identities ever connected -> CallSid
    times: dict[str, int] = field(default_factory=dict)  # identity -> ms of its latest event (this RoomSid)
    phone_only_since: int = 0  # ms; 0 while someone else is connected
    version: int = 0  # counts the writes (ADD by each event)
    # ms: identities gone longer than PRUNE_AFTER_MS are forgotten (``times`` and ``seen`` stay
    # small); an event older than this for an identity no longer in ``times`` is stale.
    pruned_before: int = 0

    @property
    def in_progress(self) -> bool:
        return self.status == IN_PROGRESS

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Room:
        pk = _text(item, "pk")
        account, _, name = pk.removeprefix(ROOM).partition("#")
        if not pk.startswith(ROOM) or not is_account_sid(account) or name_problem(name, "room"):
            raise MalformedRecord("room state key is malformed")
        return cls(
            account=account,
            name=name,
            status=_text(item, "status"),
            room_sid=_text(item, "room_sid"),
            status_at=number_attribute(item, "status_at") or 0,
            phone=_strings(item, "phone"),
            others=_strings(item, "others"),
            seen=_strings(item, "seen"),
            times=_numbers(item, "times"),
            phone_only_since=number_attribute(item, "phone_only_since") or 0,
            version=number_attribute(item, "version") or 0,
            pruned_before=number_attribute(item, "pruned_before") or 0,
        )

    def to_item(self, expires_at: int) -> dict[str, Any]:
        return {
            **room_key(self.account, self.name),
            "type": {"S": "room"},
            "status": {"S": self.status},
            "room_sid": {"S": self.room_sid},
            "status_at": {"N": str(self.status_at)},
            "phone": _string_map(self.phone),
            "others": _string_map(self.others),
            "seen": _string_map(self.seen),
            "times": {"M": {key: {"N": str(value)} for key, value in self.times.items()}},
            "phone_only_since": {"N": str(self.phone_only_since)},
            "version": {"N": str(self.version)},
            "pruned_before": {"N": str(self.pruned_before)},
            "expires_at": {"N": str(expires_at)},
        }


@dataclass(frozen=True)
class WaitingCall:
    """A phone leg the bridge let at a room: waiting for it, or moved/connected into it."""

    account: str
    room: str
    call_sid: str
    identity: str
    since_ms: int  # arrival order
    status: str = WAITING
    voice: str = ""
    language: str = ""
    cap: int = MAX_PHONE_PARTICIPANTS
    not_before: int = 0  # epoch seconds: an early PIN's window opens then
    moved_at: int = 0
    started: int = 0  # epoch seconds: when the caller first tried to join (the wait's start)
    custom: bool = False  # the route has texts of its own (the voice steps read them again)
    farewell: str = ""  # the route's own text for EVERYONE_LEFT: this function cannot read routes

    def speech(self) -> Speech:
        """How this caller is spoken to, as the voice function spoke to them."""
        prompts = {messages.EVERYONE_LEFT.key: self.farewell} if self.farewell else {}
        return Speech(self.voice, self.language, self.custom, prompts)

    def to_item(self, expires_at: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            **call_key(self.account, self.room, self.call_sid),
            "type": {"S": "call"},
            "identity": {"S": self.identity},
            "status": {"S": self.status},
            "since_ms": {"N": str(self.since_ms)},
            "cap": {"N": str(self.cap)},
            "expires_at": {"N": str(expires_at)},
        }
        for name in ("voice", "language", "farewell"):
            if getattr(self, name):
                item[name] = {"S": getattr(self, name)}
        for name in ("not_before", "moved_at", "started", "custom"):
            if getattr(self, name):
                item[name] = {"N": str(int(getattr(self, name)))}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> WaitingCall:
        pk, sid = _text(item, "pk"), _text(item, "sk")
        account, _, room = pk.removeprefix(CALLS).partition("#")
        identity = _text(item, "identity")
        if not pk.startswith(CALLS) or not is_call_sid(sid) or name_problem(identity, "identity"):
            raise MalformedRecord("call item is malformed")
        return cls(
            account=account,
            room=room,
            call_sid=sid,
            identity=identity,
            since_ms=number_attribute(item, "since_ms") or 0,
            status=_text(item, "status") or WAITING,
            voice=_text(item, "voice"),
            language=_text(item, "language"),
            cap=number_attribute(item, "cap") or MAX_PHONE_PARTICIPANTS,
            not_before=number_attribute(item, "not_before") or 0,
            moved_at=number_attribute(item, "moved_at") or 0,
            started=number_attribute(item, "started") or 0,
            custom=bool(number_attribute(item, "custom")),
            farewell=_text(item, "farewell"),
        )


def decide(aware: bool, room: Room | None, identity: str, cap: int) -> str:
    """What a caller about to join meets: TIMER (no callbacks for this account), CONNECT,
    NOT_STARTED or FULL. A caller whose identity is already connected (a replaced leg) is
    no extra place."""
    if not aware:
        return TIMER
    if room is None or not room.in_progress:
        return NOT_STARTED
    if identity not in room.phone and len(room.phone) >= min(cap, MAX_PHONE_PARTICIPANTS):
        return FULL
    return CONNECT


def was_connected(room: Room | None, identity: str) -> bool:
    """The caller's identity was seen in the room: a fall-through means they left or were removed."""
    return room is not None and identity in room.seen


@dataclass(frozen=True)
class RoomEvent:
    kind: str  # room-created, room-ended, participant-connected, participant-disconnected
    room_sid: str
    at_ms: int
    identity: str = ""
    call_sid: str = ""  # the phone leg's CallSid, when the bridge recorded this identity


ROOM_CREATED = "room-created"
ROOM_ENDED = "room-ended"
PARTICIPANT_CONNECTED = "participant-connected"
PARTICIPANT_DISCONNECTED = "participant-disconnected"
EVENTS = (ROOM_CREATED, ROOM_ENDED, PARTICIPANT_CONNECTED, PARTICIPANT_DISCONNECTED)


@dataclass(frozen=True)
class Change:
    """What applying an event did, for the app to act on."""

    room: Room
    started: bool = False  # the room went in progress: move the waiting calls
    ended: bool = False  # the first room-ended of this room
    place_freed: bool = False  # a phone leg left a running room
    stale: bool = False  # an older event than the state already holds: nothing changed


def _new_room(room: Room, event: RoomEvent, status: str) -> Room:
    same = event.room_sid == room.room_sid
    return replace(
        room,
        status=status,
        room_sid=event.room_sid,
        status_at=event.at_ms,
        phone={},
        others={},
        seen=room.seen if same else {},
        times=room.times if same else {},
        phone_only_since=0,
        pruned_before=room.pruned_before if same else 0,
    )


def _older_room(room: Room, event: RoomEvent) -> bool:
    """``event`` is of a RoomSid before the current one (room names are reused)."""
    return bool(room.room_sid) and event.room_sid != room.room_sid and event.at_ms < room.status_at


def apply(room: Room, event: RoomEvent) -> Change:
    """The room after ``event``, whatever the arrival order: a room event is judged by its
    RoomSid and its own Timestamp, a participant event by the latest Timestamp seen for that
    identity. An event of an older room (another RoomSid with the same name) changes nothing."""
    if event.kind == ROOM_CREATED:
        same = room.room_sid == event.room_sid
        if (same and (room.in_progress or event.at_ms < room.status_at)) or _older_room(room, event):
            return Change(room, stale=True)  # a duplicate, or late behind this room's own events
        return Change(_new_room(room, event, IN_PROGRESS), started=True)
    if event.kind == ROOM_ENDED:
        if _older_room(room, event) or (room.room_sid == event.room_sid and room.status == ENDED):
            return Change(room, stale=True)
        return Change(_new_room(room, event, ENDED), ended=True)
    if _older_room(room, event) or (room.room_sid == event.room_sid and room.status == ENDED):
        return Change(room, stale=True)
    started = event.room_sid != room.room_sid
    if started:  # its room-created is late or lost (or callbacks were set up mid-meeting)
        room = _new_room(room, event, IN_PROGRESS)
    elif event.at_ms < room.times.get(event.identity, room.pruned_before):
        return Change(room, stale=True)  # e.g. a connect arriving after its own disconnect
    return _apply_participant(room, event, started)


def _apply_participant(room: Room, event: RoomEvent, started: bool) -> Change:
    phone, others, seen = dict(room.phone), dict(room.others), dict(room.seen)
    times = {**room.times, event.identity: event.at_ms}
    freed = False
    if event.kind == PARTICIPANT_CONNECTED:
        if event.call_sid:
            phone[event.identity] = seen[event.identity] = event.call_sid
        else:
            others[event.identity] = event.room_sid
    elif event.kind == PARTICIPANT_DISCONNECTED:
        freed = phone.pop(event.identity, None) is not None
        others.pop(event.identity, None)
    since = room.phone_only_since
    if others or not phone:
        since = 0
    elif not since:
        since = _phone_only_since(phone, others, seen, times)
    changed = replace(room, phone=phone, others=others, seen=seen, times=times, phone_only_since=since)
    return Change(changed, started=started, place_freed=freed and room.in_progress)


def _phone_only_since(
    phone: dict[str, str], others: dict[str, str], seen: dict[str, str], times: dict[str, int]
) -> int:
    """Since when only phone legs remain, whatever order the callbacks came in (a leg moved in
    as the host leaves may be heard of first or last); 0 if nobody else was ever here lately."""
    left = [at for identity, at in times.items() if identity not in seen and identity not in others]
    return max(max(left), min(times.get(identity, 0) for identity in phone)) if left else 0


def is_stale_joining(room: Room, call: WaitingCall, now: int) -> bool:
    """Claimed for a move long ago and never seen in the room: whoever claimed it stopped
    before moving it (or letting it go), so it waits again."""
    return (
        call.status == JOINING and call.identity not in room.seen and now - call.moved_at >= JOINING_SECONDS
    )


def places(room: Room, calls: list[WaitingCall], now: int) -> int:
    """Phone places free in the room, counting calls moved in but not yet connected."""
    joining = sum(
        1
        for call in calls
        if call.status == JOINING and call.identity not in room.seen and now - call.moved_at < JOINING_SECONDS
    )
    return MAX_PHONE_PARTICIPANTS - len(room.phone) - joining


def to_move(room: Room, calls: list[WaitingCall], now: int) -> list[WaitingCall]:
    """The waiting calls to move into a running room now, in arrival order, as places allow
    (a call's own cap, from its route, may be lower than Twilio's)."""
    if not room.in_progress:
        return []
    free = places(room, calls, now)
    taken = MAX_PHONE_PARTICIPANTS - free
    chosen = []
    for call in sorted(calls, key=lambda c: (c.since_ms, c.call_sid)):
        if not (call.status == WAITING or is_stale_joining(room, call, now)) or call.not_before > now:
            continue
        if taken >= min(call.cap, MAX_PHONE_PARTICIPANTS):
            continue
        chosen.append(call)
        taken += 1
    return chosen


def has_place(room: Room, calls: list[WaitingCall], cap: int, now: int, identity: str = "") -> bool:
    """A new caller may join a running room: places are left after the calls just let in and
    every call already waiting (each arrived first). A caller whose identity is connected
    (a replaced leg) takes its own place."""
    if identity and identity in room.phone:
        return True
    waiting = sum(
        1 for c in calls if (c.status == WAITING or is_stale_joining(room, c, now)) and c.not_before <= now
    )
    taken = MAX_PHONE_PARTICIPANTS - places(room, calls, now) + waiting
    return taken < min(cap, MAX_PHONE_PARTICIPANTS)


def my_turn(room: Room, calls: list[WaitingCall], call_sid: str, now: int) -> bool:
    """A held call may join by itself: it is one of the waiting calls the room has places for,
    in arrival order (the same choice the room-events function makes when it moves them)."""
    return any(call.call_sid == call_sid for call in to_move(room, calls, now))
