"""dialin_tools.lib.video_rooms: Twilio's view of rooms and participants, from callbacks."""

from __future__ import annotations

from dialin_tools.commands.room.cli import callback_params
from dialin_tools.lib.video_rooms import VideoRooms

ACCOUNT = "AC" + "a" * 32


def connected(rooms: VideoRooms, room: str) -> list[str]:
    status, found = rooms.answer("GET", f"/v1/Rooms/{room}/Participants", {"Status": "connected"})
    assert status == 200
    return [p["identity"] for p in found["participants"]]


def test_a_room_started_again_after_its_end_is_a_new_room_with_its_own_participants():
    """`dialin room end X` then `start X` (one RoomSid per name): the new room is in progress
    and its participants are connected (the phone-only sweep asks exactly this)."""
    rooms = VideoRooms()
    for action, identity, at in (
        ("start", "", 100.0),
        ("join", "early", 101.0),
        ("end", "", 102.0),
        ("start", "", 200.0),
        ("join", "host-video", 201.0),
        ("join", "phone-0123-abcde", 202.0),
        ("leave", "host-video", 203.0),
    ):
        rooms.observe(callback_params(action, "Salle", identity, ACCOUNT, at))
    assert connected(rooms, "Salle") == ["phone-0123-abcde"]
    status, room = rooms.answer("GET", "/v1/Rooms/Salle", {})
    assert status == 200 and room["status"] == "in-progress"
