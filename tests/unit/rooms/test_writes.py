"""The room state's conditional writes, as requests (their effect on a table:
tests/handler/rooms/test_room_concurrency.py)."""

from __future__ import annotations

from dialin.rooms import state, writes
from dialin.rooms.state import Room, RoomEvent

ACCOUNT = "AC" + "0" * 32
RM1, RM2 = "RM" + "1" * 32, "RM" + "2" * 32


def running(**changes: object) -> Room:
    room = state.apply(Room(ACCOUNT, "Board"), RoomEvent(state.ROOM_CREATED, RM1, 1000)).room
    return Room(**{**room.__dict__, **changes})


def test_a_participant_write_touches_its_own_identity_only():
    write = writes.participant(RoomEvent(state.PARTICIPANT_CONNECTED, RM1, 2000, "alice", "CA1"), 9)
    request = write.request("t", ACCOUNT, "Board")
    assert request["ExpressionAttributeNames"]["#id"] == "alice"
    assert "#ph.#id = :cs" in write.update and "ADD #v :one" in write.update
    assert "#ot = " not in write.update and "#ph = " not in write.update  # no whole map rewritten
    assert request["ReturnValues"] == "ALL_OLD"
    # Only the names an expression uses are sent (DynamoDB refuses unused ones).
    used = set(request["ExpressionAttributeNames"])
    assert used == {"#id", "#st", "#rsid", "#ti", "#pb", "#ex", "#v", "#ph", "#se"}


def test_the_plan_follows_what_is_known():
    connect = RoomEvent(state.PARTICIPANT_CONNECTED, RM1, 2000, "alice")
    blank = Room(ACCOUNT, "Board")
    assert writes.plan(blank, connect, 9, read=False).condition == writes.PARTICIPANT_CONDITION
    # Read: no state yet, or another RoomSid stored: the room starts over with this event.
    assert writes.plan(blank, connect, 9).condition == writes.NEW_ROOM_CONDITION
    assert writes.plan(running(), RoomEvent(state.PARTICIPANT_CONNECTED, RM2, 2000, "a"), 9).condition == (
        writes.NEW_ROOM_CONDITION
    )
    # Stale on what was read: nothing to write.
    later = running(times={"alice": 3000})
    assert writes.plan(later, connect, 9) is None
    assert writes.plan(running(pruned_before=2500), connect, 9) is None


def test_prunable_identities_are_gone_and_old():
    now = 10 * state.PRUNE_AFTER_MS
    room = running(
        phone={"on-phone": "CA1"},
        times={"on-phone": 0, "left-long-ago": 1, "left-just-now": now - 1, "older": 0},
    )
    assert writes.prunable(room, now) == ["older", "left-long-ago"]
    write = writes.prune(room, ["older", "left-long-ago"])
    assert write.values[":w"] == {"N": "1"} and write.update.startswith("SET #pb = :w REMOVE ")
