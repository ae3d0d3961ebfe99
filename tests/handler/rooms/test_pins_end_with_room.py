"""PINs that end with their meeting, end to end on moto: the admin API creates them, a signed
room-ended reaches the real RoomEventsFunction handler, and the voice function no longer
admits them. Only the PINs tied to that room and created before it ended go."""

from __future__ import annotations

from typing import Any

from support.admin_events import AdminHandler
from support.rooms import ACCOUNT, RoomHandler, room_callback
from support.voice import TABLE, Clock

from dialin.voice.directory import Directory

ROOM = "Visit-42"


def create(api: AdminHandler, room: str = ROOM, **fields: Any) -> str:
    status, body = api.call("POST", "/admin/pins", {"room": room, **fields})
    assert status == 201, body
    return str(body["id"])


def test_room_ended_revokes_the_pins_tied_to_it(
    api: AdminHandler, rooms: RoomHandler, dynamodb: Any, clock: Clock, emitted: Any
):
    tied = create(api, ends_with_room=True)
    tied_to_account = create(api, ends_with_room=True, account=ACCOUNT)
    untied = create(api)
    other_room = create(api, "Visit-43", ends_with_room=True)
    other_account = create(api, ends_with_room=True, account="AC" + "9" * 32)
    clock.now += 60
    assert rooms(room_callback("room-created", ROOM, clock.now))["statusCode"] == 200
    clock.now += 600
    assert rooms(room_callback("room-ended", ROOM, clock.now))["statusCode"] == 200

    directory = Directory(dynamodb, TABLE)
    assert directory.pin_grant(tied) is None and directory.pin_grant(tied_to_account) is None
    for kept in (untied, other_room, other_account):
        assert directory.pin_grant(kept) is not None
    listed = {p["id"] for p in api.call("GET", "/admin/pins", query={"room": ROOM})[1]["pins"]}
    assert listed == {untied, other_account}
    out = emitted()
    assert out.metrics().get("PinsEndedWithRoom") == 2


def test_a_pin_created_after_the_end_belongs_to_the_next_meeting(
    api: AdminHandler, rooms: RoomHandler, dynamodb: Any, clock: Clock
):
    rooms(room_callback("room-created", ROOM, clock.now))
    ended_at = clock.now + 300
    clock.now += 400  # the callback arrives late; the PIN was made after the room ended
    next_meeting = create(api, ends_with_room=True)
    assert rooms(room_callback("room-ended", ROOM, ended_at))["statusCode"] == 200
    assert Directory(dynamodb, TABLE).pin_grant(next_meeting) is not None


def test_a_pin_made_400_ms_after_the_end_belongs_to_the_next_meeting(
    api: AdminHandler, rooms: RoomHandler, dynamodb: Any, clock: Clock
):
    """Its created_at (whole seconds) is before the end; created_ms says it came after."""
    clock.now = 1_800_000_000.0
    rooms(room_callback("room-created", ROOM, clock.now))
    ended_at = clock.now + 300.2
    clock.now = ended_at + 0.4  # 400 ms after the end, in the same second as far as seconds go
    next_meeting = create(api, ends_with_room=True)
    clock.now = ended_at + 5
    assert rooms(room_callback("room-ended", ROOM, ended_at))["statusCode"] == 200
    assert Directory(dynamodb, TABLE).pin_grant(next_meeting) is not None


def test_a_pin_valid_only_after_the_end_survives_it(
    api: AdminHandler, rooms: RoomHandler, dynamodb: Any, clock: Clock
):
    """Made for the next meeting while this one still runs: it opens after this one ends."""
    rooms(room_callback("room-created", ROOM, clock.now))
    tomorrow = create(api, ends_with_room=True, valid_from=int(clock.now) + 86_400)
    today = create(api, ends_with_room=True)
    clock.now += 600
    assert rooms(room_callback("room-ended", ROOM, clock.now))["statusCode"] == 200
    directory = Directory(dynamodb, TABLE)
    assert directory.pin_grant(tomorrow) is not None and directory.pin_grant(today) is None
