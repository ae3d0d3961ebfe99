"""Room state from room callbacks, and the decisions on it, as pure functions."""

from __future__ import annotations

import pytest

from dialin.rooms import state as rooms
from dialin.rooms.events import parse_timestamp
from dialin.rooms.state import Room, RoomEvent, WaitingCall

ACCOUNT = "AC" + "0" * 32
RM1, RM2 = "RM" + "1" * 32, "RM" + "2" * 32


def event(kind: str, at: int, identity: str = "", call_sid: str = "", sid: str = RM1) -> RoomEvent:
    return RoomEvent(kind, sid, at, identity, call_sid)


def running(**changes) -> Room:
    room = rooms.apply(Room(ACCOUNT, "Board"), event(rooms.ROOM_CREATED, 1000)).room
    return Room(**{**room.__dict__, **changes})


def test_room_created_starts_the_room_once():
    change = rooms.apply(Room(ACCOUNT, "Board"), event(rooms.ROOM_CREATED, 1000))
    assert change.started and change.room.in_progress
    assert rooms.apply(change.room, event(rooms.ROOM_CREATED, 1001)).stale  # a duplicate


def test_events_apply_by_timestamp_not_arrival():
    ended = rooms.apply(running(), event(rooms.ROOM_ENDED, 5000))
    assert ended.ended and not ended.room.in_progress
    late_created = rooms.apply(ended.room, event(rooms.ROOM_CREATED, 1000, sid=RM2))
    assert late_created.stale and not late_created.room.in_progress


def test_a_participant_event_of_an_older_room_changes_nothing():
    room = running()  # RM1, created at 1000: RM2 stamped earlier is an older room of that name
    assert rooms.apply(room, event(rooms.PARTICIPANT_CONNECTED, 900, "bob", sid=RM2)).stale


def test_phone_legs_are_the_identities_the_bridge_recorded():
    room = rooms.apply(running(), event(rooms.PARTICIPANT_CONNECTED, 2000, "phone-1", "CA1")).room
    room = rooms.apply(room, event(rooms.PARTICIPANT_CONNECTED, 2001, "phone-looking-video")).room
    assert room.phone == {"phone-1": "CA1"} and set(room.others) == {"phone-looking-video"}
    assert rooms.was_connected(room, "phone-1") and not rooms.was_connected(room, "phone-2")


def test_a_phone_leg_leaving_a_running_room_frees_a_place_and_stays_seen():
    room = running(phone={"p": "CA1"}, seen={"p": "CA1"}, others={"host": RM1})
    change = rooms.apply(room, event(rooms.PARTICIPANT_DISCONNECTED, 3000, "p"))
    assert change.place_freed and change.room.phone == {} and "p" in change.room.seen


def test_the_room_becomes_phone_only_when_the_last_other_participant_leaves():
    room = running(phone={"p": "CA1"}, seen={"p": "CA1"}, others={"host": RM1})
    left = rooms.apply(room, event(rooms.PARTICIPANT_DISCONNECTED, 3000, "host")).room
    assert left.phone_only_since == 3000
    back = rooms.apply(left, event(rooms.PARTICIPANT_CONNECTED, 3500, "host")).room
    assert back.phone_only_since == 0


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1), (2, 0, 1)])
def test_a_phone_leg_moved_in_as_the_host_leaves_makes_the_room_phone_only_in_any_order(order):
    events = [
        event(rooms.PARTICIPANT_CONNECTED, 2000, "host"),
        event(rooms.PARTICIPANT_DISCONNECTED, 3000, "host"),
        event(rooms.PARTICIPANT_CONNECTED, 3100, "p", "CA1"),
    ]
    room = running()
    for n in order:
        room = rooms.apply(room, events[n]).room
    assert room.phone == {"p": "CA1"} and room.phone_only_since == 3100


def test_phone_legs_alone_from_the_start_wait_for_a_host():
    room = rooms.apply(running(), event(rooms.PARTICIPANT_CONNECTED, 2000, "p", "CA1")).room
    room = rooms.apply(room, event(rooms.PARTICIPANT_CONNECTED, 2100, "q", "CA2")).room
    assert room.phone_only_since == 0
    room = rooms.apply(room, event(rooms.PARTICIPANT_DISCONNECTED, 2200, "q")).room
    assert room.phone_only_since == 0


def test_a_phone_leg_leaving_keeps_the_phone_only_stretch():
    room = running(phone={"p": "CA1", "q": "CA2"}, seen={"p": "CA1", "q": "CA2"}, others={"host": RM1})
    room = Room(**{**room.__dict__, "times": {"p": 1500, "q": 2500, "host": 1200}})
    room = rooms.apply(room, event(rooms.PARTICIPANT_DISCONNECTED, 3000, "host")).room
    assert room.phone_only_since == 3000
    room = rooms.apply(room, event(rooms.PARTICIPANT_DISCONNECTED, 3500, "p")).room
    assert room.phone_only_since == 3000


@pytest.mark.parametrize(
    ("aware", "room", "expected"),
    [
        (False, None, rooms.TIMER),
        (True, None, rooms.NOT_STARTED),
        (True, Room(ACCOUNT, "Board", status=rooms.ENDED), rooms.NOT_STARTED),
        (True, running(), rooms.CONNECT),
        (True, running(phone={f"p{n}": "CA" for n in range(35)}), rooms.FULL),
    ],
)
def test_decide(aware, room, expected):
    assert rooms.decide(aware, room, "me", rooms.MAX_PHONE_PARTICIPANTS) == expected


def test_a_route_limit_and_a_replaced_leg():
    room = running(phone={"alice": "CA1"})
    assert rooms.decide(True, room, "bob", 1) == rooms.FULL
    assert rooms.decide(True, room, "alice", 1) == rooms.CONNECT  # takes over its own place


def call(n: int, **changes) -> WaitingCall:
    return WaitingCall(ACCOUNT, "Board", f"CA{n:032d}", f"phone-{n}", since_ms=n, **changes)


def test_waiting_calls_move_in_arrival_order_as_places_allow():
    room = running(phone={f"p{n}": "CA" for n in range(33)})
    waiting = [call(3), call(1), call(2), call(4, status=rooms.JOINING, moved_at=100)]
    # 33 connected + 1 moved but not yet connected: one place left.
    assert [c.call_sid for c in rooms.to_move(room, waiting, now=110)] == [call(1).call_sid]
    # The moved call's hold on a place lapses after JOINING_SECONDS.
    assert len(rooms.to_move(room, waiting, now=100 + rooms.JOINING_SECONDS)) == 2


def test_an_early_pin_is_not_moved_before_its_window_opens():
    assert rooms.to_move(running(), [call(1, not_before=500)], now=499) == []
    assert rooms.to_move(Room(ACCOUNT, "Board"), [call(1)], now=0) == []  # not started


def test_items_round_trip():
    room = running(
        phone={"p": "CA1"},
        seen={"p": "CA1"},
        others={"h": RM1},
        times={"p": 5},
        phone_only_since=7,
        version=3,
    )
    assert Room.from_item(room.to_item(expires_at=9)) == room
    waiting = call(1, voice="Polly.Joanna", language="en-US", cap=5, not_before=9, started=4)
    assert WaitingCall.from_item(waiting.to_item(expires_at=9)) == waiting


def test_a_participant_event_before_room_created_starts_the_room_once():
    first = rooms.apply(Room(ACCOUNT, "Board"), event(rooms.PARTICIPANT_CONNECTED, 1050, "host"))
    assert first.started and first.room.in_progress and set(first.room.others) == {"host"}
    late_created = rooms.apply(first.room, event(rooms.ROOM_CREATED, 1000))
    assert late_created.stale and late_created.room.in_progress  # not started a second time


def test_a_disconnect_arriving_before_its_connect_leaves_no_ghost():
    room = rooms.apply(running(), event(rooms.PARTICIPANT_DISCONNECTED, 3000, "phone-1")).room
    late_connect = rooms.apply(room, event(rooms.PARTICIPANT_CONNECTED, 2000, "phone-1", "CA1"))
    assert late_connect.stale and late_connect.room.phone == {}
    # A later connect of the same identity (a rejoin) counts again.
    assert rooms.apply(room, event(rooms.PARTICIPANT_CONNECTED, 4000, "phone-1", "CA2")).room.phone == {
        "phone-1": "CA2"
    }


def test_a_new_room_sid_whose_participant_event_comes_first_starts_the_new_room():
    ended = rooms.apply(running(), event(rooms.ROOM_ENDED, 5000)).room
    change = rooms.apply(ended, event(rooms.PARTICIPANT_CONNECTED, 6000, "phone-1", "CA1", sid=RM2))
    assert change.started and change.room.room_sid == RM2 and change.room.phone == {"phone-1": "CA1"}
    assert rooms.apply(change.room, event(rooms.ROOM_CREATED, 5900, sid=RM2)).stale
    # The old room's late events change nothing.
    assert rooms.apply(change.room, event(rooms.PARTICIPANT_DISCONNECTED, 4000, "x")).stale
    assert rooms.apply(change.room, event(rooms.ROOM_ENDED, 5000)).stale


def test_participant_events_of_an_ended_room_change_nothing():
    ended = rooms.apply(running(), event(rooms.ROOM_ENDED, 5000)).room
    assert rooms.apply(ended, event(rooms.PARTICIPANT_CONNECTED, 4000, "phone-1", "CA1")).stale


def test_a_new_caller_counts_the_calls_let_in_and_those_waiting():
    room = running(phone={f"p{n}": "CA" for n in range(2)})
    let_in = [call(1, status=rooms.JOINING, moved_at=100)]
    assert rooms.has_place(room, let_in, cap=4, now=110)  # 2 connected + 1 let in: one place
    assert not rooms.has_place(room, [*let_in, call(2)], cap=4, now=110)  # and one waiting first
    assert rooms.has_place(room, [*let_in, call(2, not_before=500)], cap=4, now=110)  # not yet its turn
    full = running(phone={"alice": "CA1"})
    assert not rooms.has_place(full, [], cap=1, now=0)
    assert rooms.has_place(full, [], cap=1, now=0, identity="alice")  # a replaced leg: its own place


def test_a_held_call_joins_by_itself_only_in_its_turn():
    room = running(phone={f"p{n}": "CA" for n in range(34)})  # one place left
    waiting = [call(2), call(1)]
    assert rooms.my_turn(room, waiting, call(1).call_sid, now=0)
    assert not rooms.my_turn(room, waiting, call(2).call_sid, now=0)  # arrived later
    assert not rooms.my_turn(
        running(phone={f"p{n}": "CA" for n in range(35)}), waiting, call(1).call_sid, now=0
    )


def test_a_claim_that_went_stale_waits_again():
    """Claimed for a move, never seen in the room, JOINING_SECONDS ago: moved (or joins) again."""
    room = running()
    stuck = call(1, status=rooms.JOINING, moved_at=100)
    assert rooms.to_move(room, [stuck], now=100 + rooms.JOINING_SECONDS - 1) == []
    assert rooms.to_move(room, [stuck], now=100 + rooms.JOINING_SECONDS) == [stuck]
    seen = running(seen={stuck.identity: stuck.call_sid})
    assert rooms.to_move(seen, [stuck], now=1000) == []  # it did join: not stuck


def test_twilio_timestamps():
    assert parse_timestamp("2026-12-04T15:00:00.250Z") == 1_796_396_400_250
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp("2026-12-04T15:00:00") is None  # no zone: not Twilio's
