"""The per-minute sweep asks Twilio before it acts (rooms.sweep): who is connected before the
phone-only rule hangs anyone up, and whether a room with held callers but no state is running.

The real room-events and voice handlers on moto, signed callbacks, and the suite's Twilio fake
over HTTP. The fake hears of every callback Twilio sends (support.rooms.RoomHandler); a lost
callback is one only the fake hears (``lost``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from support.callers import DIRECT, INCOMING, post
from support.observed import Emitted
from support.rooms import ACCOUNT, SCHEDULED, RoomHandler, callback_form, room_callback
from support.twilio_fake import HANG_UP, Error, FakeTwilio
from support.twiml import parse, verbs
from support.voice import TABLE, Clock, Handler

from dialin.core.keys import PHONE_ONLY
from dialin.rooms.state import JOINING, WaitingCall
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
