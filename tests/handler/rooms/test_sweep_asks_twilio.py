"""The per-minute sweep asks Twilio before it acts (rooms.sweep): who is connected before the
phone-only rule hangs anyone up, and whether a room with held callers but no state is running.

The real room-events and voice handlers on moto, signed callbacks, and the suite's Twilio fake
over HTTP. The fake hears of every callback Twilio sends (support.rooms.RoomHandler); a lost
callback is one only the fake hears (``lost``).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from support.callers import DIRECT, INCOMING, post
from support.observed import Emitted
from support.rooms import ACCOUNT, SCHEDULED, RoomHandler, callback_form, room_callback
from support.twilio_fake import HANG_UP, Error, FakeTwilio
from support.twiml import parse, verbs
from support.voice import BASE, TABLE, Clock, Handler

from dialin.core.keys import PHONE_ONLY, held_key
from dialin.rooms.state import JOINING, WAITING, WaitingCall
from dialin_tools.commands.room.cli import room_sid

ROOM = "DailyStandup"


def sid(n: int) -> str:
    return "CA" + f"{n:032d}"


def callback(rooms: RoomHandler, kind: str, clock: Clock, identity: str = "", room: str = ROOM) -> None:
    """A callback Twilio sends and the function stores (the fake hears of it too)."""
    event = room_callback(kind, room, clock.now, identity, room_sid=room_sid(ACCOUNT, room))
    assert rooms(event)["statusCode"] == 200


def lost(twilio: FakeTwilio, kind: str, clock: Clock, identity: str = "", room: str = ROOM) -> None:
    """A callback Twilio sent that never reached the function: only Twilio knows."""
    twilio.video.observe(
        callback_form(room_callback(kind, room, clock.now, identity, room_sid=room_sid(ACCOUNT, room)))
    )


def phone_caller(voice: Handler, rooms: RoomHandler, clock: Clock, n: int, room_number: str = DIRECT) -> str:
    """A caller the voice function lets into the running room, connected: their identity."""
    root = parse(post(voice, INCOMING, call_sid=sid(n), To=room_number, From=f"+1415555{n:04d}"))
    connect = root.find("Connect/Room")
    assert connect is not None, verbs(root)
    identity = connect.get("participantIdentity") or ""
    callback(rooms, "participant-connected", clock, identity, room=connect.text or ROOM)
    return identity


def listed(dynamodb: Any) -> list[str]:
    page = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": PHONE_ONLY}},
    )
    return [item["sk"]["S"] for item in page["Items"]]


def hung_up(twilio: FakeTwilio) -> list[str]:
    found = []
    for call, twiml in twilio.updates():
        if verbs(ET.fromstring(twiml))[-1] == "Hangup":
            found.append(call)
    return sorted(found)


# Before the phone-only rule hangs anyone up


def test_a_lost_video_connect_never_ends_a_room_with_a_video_participant_in_it(
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    dynamodb: Any,
    emitted: Callable[[], Emitted],
):
    twilio = calls_stand_in
    callback(rooms, "room-created", clock)
    callback(rooms, "participant-connected", clock, "host")
    phone = phone_caller(voice_handler, rooms, clock, 1)
    lost(twilio, "participant-connected", clock, "guest")  # the guest on video: its callback is lost
    clock.now += 1
    callback(rooms, "participant-disconnected", clock, "host")  # phone-only, as far as the callbacks say
    assert listed(dynamodb) == [f"{ACCOUNT}#{ROOM}"]
    clock.now += 121
    emitted()
    assert rooms(SCHEDULED) == {"ended": 0}
    assert hung_up(twilio) == []  # Twilio says the guest is connected: nobody is hung up
    [asked] = twilio.video_reads()
    assert asked.path == f"/v1/Rooms/{room_sid(ACCOUNT, ROOM)}/Participants"
    assert asked.params == {"Status": "connected", "PageSize": "50"}
    assert emitted().metrics().get("PhoneOnlyCorrected") == 1
    room = rooms.app.table.room(ACCOUNT, ROOM)
    assert "guest" in room.others and phone in room.phone and room.phone_only_since == 0  # corrected
    assert listed(dynamodb) == []
    assert rooms(SCHEDULED) == {"ended": 0} and len(twilio.video_reads()) == 1  # not asked again
    # The guest leaves (that callback arrives): only the phone leg is left, and it ends.
    callback(rooms, "participant-disconnected", clock, "guest")
    clock.now += 121
    assert rooms(SCHEDULED) == {"ended": 1}
    assert hung_up(twilio) == [sid(1)]


def test_only_the_phone_legs_twilio_says_are_connected_are_hung_up(
    voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock, dynamodb: Any
):
    """A phone leg whose disconnect was lost has left the room: it is not the sweep's to end.
    One whose connect was lost is in the room, a leg the bridge let join: it is ended."""
    twilio = calls_stand_in
    callback(rooms, "room-created", clock)
    callback(rooms, "participant-connected", clock, "host")
    gone = phone_caller(voice_handler, rooms, clock, 1)
    phone_caller(voice_handler, rooms, clock, 2)
    root = parse(post(voice_handler, INCOMING, call_sid=sid(3), To=DIRECT, From="+14155550003"))
    lost(twilio, "participant-connected", clock, root.find("Connect/Room").get("participantIdentity"))
    lost(twilio, "participant-disconnected", clock, gone)
    callback(rooms, "participant-disconnected", clock, "host")
    clock.now += 121
    assert rooms(SCHEDULED) == {"ended": 1}
    assert hung_up(twilio) == [sid(2), sid(3)]
    assert listed(dynamodb) == []


@pytest.mark.parametrize(
    "refusal",
    [Error(429, 20429, "Too Many Requests"), Error(503, None, text="<html>busy</html>"), HANG_UP],
    ids=["429", "503", "network"],
)
def test_a_failed_participants_check_keeps_the_room_listed_and_it_is_retried(
    refusal: Any,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    dynamodb: Any,
    emitted: Callable[[], Emitted],
):
    twilio = calls_stand_in
    for room in (ROOM, "Clinic"):
        callback(rooms, "room-created", clock, room=room)
        callback(rooms, "participant-connected", clock, "host", room=room)
    phone_caller(voice_handler, rooms, clock, 1)
    clinic = _let_in(voice_handler, rooms, clock, 2, "Clinic")
    for room in (ROOM, "Clinic"):
        callback(rooms, "participant-disconnected", clock, "host", room=room)
    twilio.room_answers[room_sid(ACCOUNT, ROOM)] = refusal
    clock.now += 121
    emitted()
    assert rooms(SCHEDULED) == {"ended": 1}  # the other room is not held up by this one
    assert hung_up(twilio) == [sid(2)] and clinic
    assert listed(dynamodb) == [f"{ACCOUNT}#{ROOM}"]  # stays listed: Twilio did not say
    assert emitted().metrics().get("RoomChecksFailed") == 1
    clock.now += 60
    assert rooms(SCHEDULED) == {"ended": 0} and hung_up(twilio) == [sid(2)]  # still refused
    twilio.room_answers.clear()
    clock.now += 60
    assert rooms(SCHEDULED) == {"ended": 1}  # tried again, and ended
    assert hung_up(twilio) == [sid(1), sid(2)] and listed(dynamodb) == []
    asked = [r.path.split("/")[3] for r in twilio.video_reads()]
    assert asked.count(room_sid(ACCOUNT, ROOM)) == 3 and asked.count(room_sid(ACCOUNT, "Clinic")) == 1


def _let_in(voice: Handler, rooms: RoomHandler, clock: Clock, n: int, room: str) -> str:
    """A phone leg of ``room`` as the voice function records it when it lets it join, connected."""
    identity = f"phone-{n:04d}-{room.lower()}"
    call = WaitingCall(
        ACCOUNT, room, sid(n), identity, int(clock.now * 1000), JOINING, moved_at=int(clock.now)
    )
    rooms.app.table.add_call(call, int(clock.now) + 3600)
    callback(rooms, "participant-connected", clock, identity, room=room)
    return identity


# Against a lost room-created

OTHER = "AC" + "e" * 32  # an account this stack has no credentials for


def held_listing(dynamodb: Any, account: str = ACCOUNT, room: str = ROOM) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=TABLE, Key=held_key(account, room)).get("Item")


def hold(voice: Handler, n: int) -> None:
    """A caller of ROOM's number, held: the room has not started as far as the callbacks say."""
    post(voice, INCOMING, call_sid=sid(n), To=DIRECT, From=f"+1415555{n:04d}")
    [call] = [c for c in rooms_calls(voice) if c.call_sid == sid(n)]
    assert call.status == WAITING


def rooms_calls(voice: Handler) -> list[WaitingCall]:
    return voice.app.rooms.table.calls(ACCOUNT, ROOM)


def test_a_room_running_without_its_room_created_gets_its_held_callers_moved_by_the_sweep(
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    dynamodb: Any,
    emitted: Callable[[], Emitted],
):
    twilio = calls_stand_in
    callback(rooms, "room-ended", clock, room="AnotherRoom")  # the account sends room callbacks
    hold(voice_handler, 1)
    assert rooms(SCHEDULED) == {"ended": 0}  # not running yet: asked, and nothing moved
    [asked] = twilio.video_reads()
    assert asked.path == "/v1/Rooms"
    assert asked.params == {"UniqueName": ROOM, "Status": "in-progress", "PageSize": "1"}
    assert twilio.updates() == [] and held_listing(dynamodb) is not None
    clock.now += 30
    lost(twilio, "room-created", clock)  # the room starts; its callback never arrives
    clock.now += 30
    emitted()
    assert rooms(SCHEDULED) == {"ended": 0, "joined": 1}
    [(moved, twiml)] = twilio.updates()
    root = ET.fromstring(twiml)
    assert (
        moved == sid(1) and verbs(root) == ["Connect", "Redirect"] and root.find("Connect/Room").text == ROOM
    )
    assert root.find("Redirect").text.startswith(f"{BASE}/voice/wait?")  # the voice webhooks' own base
    metrics = emitted().metrics()
    assert metrics.get("HeldRoomsStarted") == 1 and metrics.get("CallsMoved") == 1
    room = rooms.app.table.room(ACCOUNT, ROOM)
    assert room.in_progress and room.room_sid == room_sid(ACCOUNT, ROOM)  # recorded as room-created would be
    assert held_listing(dynamodb) is None and {c.status for c in rooms_calls(voice_handler)} == {JOINING}
    assert rooms(SCHEDULED) == {"ended": 0} and len(twilio.video_reads()) == 2  # unlisted: not asked again
    callback(rooms, "room-created", clock)  # arriving late after all: the call is not moved twice
    assert len(twilio.updates()) == 1


def test_a_held_room_whose_check_fails_stays_listed_and_others_go_on(
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    dynamodb: Any,
    emitted: Callable[[], Emitted],
):
    twilio = calls_stand_in
    callback(rooms, "room-ended", clock, room="AnotherRoom")
    hold(voice_handler, 1)
    lost(twilio, "room-created", clock)
    rooms.app.table.list_held(OTHER, "Elsewhere", BASE, int(clock.now * 1000), int(clock.now) + 600)
    broken = {
        **held_key(ACCOUNT, "Broken"),
        "at": {"S": "soon"},
        "expires_at": {"N": str(int(clock.now) + 600)},
    }
    dynamodb.put_item(TableName=TABLE, Item=broken)  # a malformed listing is skipped, never a stop
    twilio.room_answers[ROOM] = Error(429, 20429, "Too Many Requests")
    clock.now += 60
    emitted()
    assert rooms(SCHEDULED) == {"ended": 0}
    out = emitted()
    assert out.metrics().get("RoomChecksFailed") == 1 and twilio.updates() == []
    faults = [r for r in out.logs() if r.get("message") == "service fault"]
    assert [(r["step"], r["cause"]) for r in faults] == [("held-room sweep", "CredentialsUnavailable")]
    assert held_listing(dynamodb) is not None and held_listing(dynamodb, OTHER, "Elsewhere") is not None
    twilio.room_answers.clear()
    clock.now += 60
    assert rooms(SCHEDULED) == {"ended": 0, "joined": 1}  # tried again: moved
    assert [s for s, _ in twilio.updates()] == [sid(1)] and held_listing(dynamodb) is None
    assert held_listing(dynamodb, OTHER, "Elsewhere") is not None  # until it can be asked about


def test_a_held_room_whose_room_created_arrived_is_unlisted_without_asking(
    voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock, dynamodb: Any
):
    callback(rooms, "room-ended", clock, room="AnotherRoom")
    hold(voice_handler, 1)
    callback(rooms, "room-created", clock)  # moves the caller, as always
    assert [s for s, _ in calls_stand_in.updates()] == [sid(1)]
    assert rooms(SCHEDULED) == {"ended": 0}
    assert calls_stand_in.video_reads() == [] and held_listing(dynamodb) is None
    assert len(calls_stand_in.updates()) == 1


def test_a_held_listing_expires_when_no_caller_can_still_be_waiting(
    voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock, dynamodb: Any
):
    callback(rooms, "room-ended", clock, room="AnotherRoom")
    hold(voice_handler, 1)
    listing = held_listing(dynamodb)
    assert listing is not None and listing["base"]["S"] == BASE  # the voice webhooks' base URL
    longest = voice_handler.app.limits.max_wait_seconds
    expires = int(listing["expires_at"]["N"])  # the wait starts once the greeting is said
    assert clock.now + longest <= expires < clock.now + longest + 30
    clock.now = expires  # every caller held for the room has given up by now
    assert rooms(SCHEDULED) == {"ended": 0} and calls_stand_in.video_reads() == []


def test_phone_only_rooms_not_begun_by_the_deadline_wait_for_the_next_run(
    voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock, dynamodb: Any
):
    """However many rooms are due, a run begins none after its deadline (the function's 10 s
    must hold); they stay listed, and the next run (from another place in the listing) ends them."""
    from dialin.admin.specs import make_route

    for n in range(4):
        route = make_route(f"+1555555017{n}", room=f"Class{n}")
        dynamodb.put_item(TableName=TABLE, Item=route.to_item())
        callback(rooms, "room-created", clock, room=route.room)
        callback(rooms, "participant-connected", clock, "host", room=route.room)
        phone_caller(voice_handler, rooms, clock, n + 1, route.number)
        callback(rooms, "participant-disconnected", clock, "host", room=route.room)
    clock.now += 121
    assert rooms.app.end_phone_only_rooms(deadline=time.monotonic()) == 0  # its time is up: none begun
    assert len(listed(dynamodb)) == 4 and hung_up(calls_stand_in) == []
    assert rooms(SCHEDULED) == {"ended": 4}
    assert hung_up(calls_stand_in) == [sid(n) for n in range(1, 5)] and listed(dynamodb) == []
