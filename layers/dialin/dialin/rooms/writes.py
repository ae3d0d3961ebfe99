"""The room state's writes, one conditional UpdateItem per room callback (no table here: the
requests are built from events and states, ``store.RoomStore.record`` sends them).

Each callback changes only what it is about, so callbacks of one room arriving together never
undo each other: a participant event sets or removes its own identity's entries, ordered by
that identity's latest ``Timestamp`` (``times``); a room-ended marks this RoomSid ended; a new
RoomSid (room-created, or a participant event ahead of it) starts the room over. The
condition of each write is what ``state.apply`` would check, so ``apply`` run on the item as
it was just before the write (ReturnValues ALL_OLD) gives exactly the item after it, and the
decisions taken on it (started, ended, place freed, phone-only) are those of one event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.keys import phone_only_key, room_key
from . import state
from .state import Room, RoomEvent

# The fewest departed identities one prune removes in one write (an expression stays < 4 KB).
PRUNE_BATCH = 25
# The facts a participant event may be applied on: this RoomSid, running, and nothing newer
# stored for this identity (nor, once it was forgotten, for anyone before ``pruned_before``).
PARTICIPANT_CONDITION = (
    "#rsid = :rs AND #st = :ip AND (#ti.#id <= :ts OR (attribute_not_exists(#ti.#id)"
    " AND (attribute_not_exists(#pb) OR #pb <= :ts)))"
)
# A RoomSid other than the stored one, and not an older room of that name.
NEW_ROOM_CONDITION = "attribute_not_exists(pk) OR (#rsid <> :rs AND #sa <= :ts)"
PHONE_ONLY = "#st = :ip AND size(#ot) = :zero AND size(#ph) > :zero"
# Every attribute is named by a placeholder (some, like "others", are reserved words).
ATTRIBUTES = {
    "#st": "status",
    "#rsid": "room_sid",
    "#sa": "status_at",
    "#ph": "phone",
    "#ot": "others",
    "#se": "seen",
    "#ti": "times",
    "#pos": "phone_only_since",
    "#v": "version",
    "#pb": "pruned_before",
    "#ex": "expires_at",
}


@dataclass(frozen=True)
class Write:
    """One UpdateItem on a room's state item."""

    update: str
    condition: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def request(self, table_name: str, account: str, room: str, returns: str = "ALL_OLD") -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": table_name,
            "Key": room_key(account, room),
            "UpdateExpression": self.update,
            "ConditionExpression": self.condition,
            "ReturnValues": returns,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        used = set(re.findall(r"#\w+", self.update + " " + self.condition))
        names = {k: v for k, v in {**ATTRIBUTES, **self.names}.items() if k in used}
        if names:
            request["ExpressionAttributeNames"] = names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def participant(event: RoomEvent, expires: int) -> Write:
    """A participant event of the stored, running RoomSid: its own identity's entries only."""
    values: dict[str, Any] = {":rs": _s(event.room_sid), ":ip": _s(state.IN_PROGRESS), ":ts": _n(event.at_ms)}
    values.update({":exp": _n(expires), ":one": _n(1)})
    sets = ["#ti.#id = :ts", "#ex = :exp"]
    removes = ""
    if event.kind == state.PARTICIPANT_CONNECTED and event.call_sid:
        sets += ["#ph.#id = :cs", "#se.#id = :cs"]
        values[":cs"] = _s(event.call_sid)
    elif event.kind == state.PARTICIPANT_CONNECTED:
        sets.append("#ot.#id = :rs")
    else:
        removes = " REMOVE #ph.#id, #ot.#id"
    update = "SET " + ", ".join(sets) + removes + " ADD #v :one"
    names = {"#st": "status", "#id": event.identity}
    return Write(update, PARTICIPANT_CONDITION, names, values)


def room_ended(event: RoomEvent, expires: int) -> Write:
    """The stored RoomSid ended: nobody is connected any more (``seen`` and ``times`` stay)."""
    values: dict[str, Any] = {":rs": _s(event.room_sid), ":ended": _s(state.ENDED), ":ts": _n(event.at_ms)}
    values.update({":empty": {"M": {}}, ":zero": _n(0), ":exp": _n(expires), ":one": _n(1)})
    update = "SET #st = :ended, #sa = :ts, #ph = :empty, #ot = :empty, #pos = :zero, #ex = :exp ADD #v :one"
    return Write(update, "#rsid = :rs AND #st <> :ended", {"#st": "status"}, values)


def whole(new: Room, expires: int, condition: str, values: dict[str, Any]) -> Write:
    """Every attribute of ``new`` but the version, which is counted up."""
    item = new.to_item(expires)
    names, sets = {}, []
    for n, (name, value) in enumerate(sorted(item.items())):
        if name in ("pk", "sk", "version"):
            continue
        names[f"#a{n}"] = name
        values[f":a{n}"] = value
        sets.append(f"#a{n} = :a{n}")
    values[":one"] = _n(1)
    return Write("SET " + ", ".join(sets) + " ADD #v :one", condition, names, values)


def new_room(event: RoomEvent, account: str, name: str, expires: int) -> Write:
    """A RoomSid other than the stored one: the room starts over (whatever was stored)."""
    new = state.apply(Room(account, name), event).room
    values: dict[str, Any] = {":rs": _s(event.room_sid), ":ts": _n(event.at_ms)}
    return whole(new, expires, NEW_ROOM_CONDITION, values)


def plan(known: Room, event: RoomEvent, expires: int, read: bool = True) -> Write | None:
    """The write for ``event`` on the ``known`` item (not ``read`` yet: the likeliest case is
    tried, a room's account and name only); None when the event is stale on it."""
    if not read:
        if event.kind == state.ROOM_CREATED:
            return new_room(event, known.account, known.name, expires)
        return room_ended(event, expires) if event.kind == state.ROOM_ENDED else participant(event, expires)
    change = state.apply(known, event)
    if change.stale:
        return None
    if event.room_sid != known.room_sid:
        return new_room(event, known.account, known.name, expires)
    if event.kind in (state.PARTICIPANT_CONNECTED, state.PARTICIPANT_DISCONNECTED):
        return participant(event, expires)
    if event.kind == state.ROOM_ENDED:
        return room_ended(event, expires)
    # A room-created of a RoomSid stored as ended (Twilio does not do this): whole, on the version.
    return whole(change.room, expires, "#v = :v", {":v": _n(known.version)})


def is_phone_only(room: Room) -> bool:
    return room.in_progress and bool(room.phone) and not room.others


def phone_only_mark(room: Room) -> Write:
    """Note since when only phone legs remain, if they still do (a later mark wins)."""
    values = {":ip": _s(state.IN_PROGRESS), ":zero": _n(0), ":t": _n(room.phone_only_since)}
    values[":rs"] = _s(room.room_sid)
    condition = f"#rsid = :rs AND {PHONE_ONLY} AND #pos < :t"
    return Write("SET #pos = :t", condition, {"#st": "status"}, values)


def phone_only_clear(room: Room) -> Write:
    """Forget since when only phone legs remained, if they no longer do."""
    values = {":ip": _s(state.IN_PROGRESS), ":zero": _n(0), ":rs": _s(room.room_sid)}
    condition = f"#rsid = :rs AND NOT ({PHONE_ONLY}) AND #pos > :zero"
    return Write("SET #pos = :zero", condition, {"#st": "status"}, values)


def prunable(room: Room, now_ms: int) -> list[str]:
    """Identities gone for longer than PRUNE_AFTER_MS, oldest first, at most PRUNE_BATCH."""
    gone = [
        (at, identity)
        for identity, at in room.times.items()
        if identity not in room.phone and identity not in room.others and at < now_ms - state.PRUNE_AFTER_MS
    ]
    return [identity for _, identity in sorted(gone)[:PRUNE_BATCH]]


def prune(room: Room, identities: list[str]) -> Write:
    """Forget departed identities, each only if nothing happened to it since ``room`` was seen."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":rs": _s(room.room_sid)}
    conditions, removes = ["#rsid = :rs"], []
    for n, identity in enumerate(identities):
        names[f"#p{n}"] = identity
        values[f":t{n}"] = _n(room.times[identity])
        gone = f"attribute_not_exists(#ph.#p{n}) AND attribute_not_exists(#ot.#p{n})"
        conditions.append(f"#ti.#p{n} = :t{n} AND {gone}")
        removes += [f"#ti.#p{n}", f"#se.#p{n}"]
    watermark = max([room.pruned_before, *(room.times[i] for i in identities)])
    values[":w"] = _n(watermark)
    conditions.append("(attribute_not_exists(#pb) OR #pb <= :w)")
    update = "SET #pb = :w REMOVE " + ", ".join(removes)
    return Write(update, " AND ".join(conditions), names, values)


def listing(account: str, room: str, due: int, since: int, expires: int) -> dict[str, Any]:
    """The phone-only listing the per-minute sweep reads (``since``: the state's, in ms)."""
    return {
        **phone_only_key(account, room),
        "type": _s("phone-only"),
        "due": _n(due),
        "since": _n(since),
        "expires_at": _n(expires),
    }
