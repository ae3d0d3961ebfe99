"""Removing and moving a room's phone callers through the real AdminFunction handler, on moto:
real voice and room-events handlers (signed callbacks), the Calls API through the Twilio fake,
and the TwiML each call was moved to parsed and checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support.admin_events import AdminHandler, admin_module
from support.callers import DIRECT, INCOMING, post
from support.rooms import ACCOUNT, RoomHandler, room_callback
from support.twilio_fake import NOT_FOUND, Error, FakeTwilio
from support.twiml import parse, said, verbs
from support.voice import BASE, TABLE, Clock, Handler

from dialin.admin.api import AdminApp
from dialin.admin.callers import Callers
from dialin.admin.table import Admin
from dialin.rooms.state import JOINING, MAX_PHONE_PARTICIPANTS, WAITING, Room, calls_pk
from dialin.rooms.table import RoomTable
from dialin.speech import messages
from dialin.speech.catalogues import de
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

ROOM = "DailyStandup"  # the seed's direct number's room
BREAKOUT = "Breakout-2"
SIDS = {ROOM: "RM" + "1" * 32, BREAKOUT: "RM" + "3" * 32}
OTHER_ACCOUNT = "AC" + "9" * 32


def sid(n: int) -> str:
    return "CA" + f"{n:032d}"


def callback(rooms: RoomHandler, kind: str, clock: Clock, room: str, identity: str = "") -> None:
    response = rooms(room_callback(kind, room, clock.now, identity, room_sid=SIDS[room]))
    assert response["statusCode"] == 200, response


def call_items(dynamodb: Any, room: str, account: str = ACCOUNT) -> dict[str, dict[str, Any]]:
    page = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": calls_pk(account, room)}},
    )
    return {item["sk"]["S"]: item for item in page["Items"]}


@pytest.fixture
def admin(dynamodb: Any, clock: Clock, rooms: RoomHandler, monkeypatch: pytest.MonkeyPatch) -> AdminHandler:
    """The real admin handler; its Calls API client is the room-events function's (the fake)."""
    module = admin_module()
    callers = Callers(
        RoomTable(dynamodb, TABLE), rooms.app.clients.get, lambda: ACCOUNT, (OTHER_ACCOUNT,), clock=clock
    )
    app = AdminApp(Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock), callers=callers)
    monkeypatch.setattr(module, "admin", app)
    return AdminHandler(module, app)


def joined(
    voice: Handler, rooms: RoomHandler, clock: Clock, n: int, to: str = DIRECT
) -> tuple[str, ET.Element]:
    """A direct caller joins the running room: its identity and the TwiML it got."""
    root = parse(post(voice, INCOMING, call_sid=sid(n), To=to, From=f"+1415555{n:04d}"))
    connect = root.find("Connect/Room")
    assert connect is not None, verbs(root)
    identity = connect.get("participantIdentity") or ""
    callback(rooms, "participant-connected", clock, connect.text or "", identity)
    return identity, root


def test_a_removed_caller_hears_goodbye_and_is_not_put_back(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    identity, root = joined(voice_handler, rooms, clock, 1)
    assert sid(1) in call_items(dynamodb, ROOM)
    status, body = admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}")
    assert status == 200, body
    assert body == {"removed": identity, "room": ROOM, "was": "connected"}
    [(moved, twiml)] = calls_stand_in.updates()
    goodbye = ET.fromstring(twiml)
    assert moved == sid(1) and verbs(goodbye) == ["Say", "Hangup"] and said(goodbye) == messages.REMOVED
    assert call_items(dynamodb, ROOM) == {}  # nothing left for a move or a hold loop to pick up
    clock.now += 2
    callback(rooms, "participant-disconnected", clock, ROOM, identity)
    assert len(calls_stand_in.updates()) == 1  # the freed place moves no one back in
    # A stray fall-through (Twilio had moved on before the update): the removed-participant rule.
    after = parse(post(voice_handler, root.find("Redirect").text, call_sid=sid(1), To=DIRECT))
    assert verbs(after) == ["Say", "Hangup"] and said(after) == messages.SESSION_ENDED
    # Calling again: the route's admission, as any caller.
    again = parse(post(voice_handler, INCOMING, call_sid=sid(2), To=DIRECT, From="+14155550001"))
    assert again.find("Connect/Room") is not None


def test_a_removed_caller_hears_goodbye_in_the_calls_language(
    admin: AdminHandler, voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock
):
    number = "+15551239999"
    status, _ = admin.call("POST", "/admin/routes", {"number": number, "room": ROOM, "language": "de-DE"})
    assert status == 201
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1, to=number)
    assert admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}")[0] == 200
    [(_, twiml)] = calls_stand_in.updates()
    say = ET.fromstring(twiml).find("Say")
    assert say is not None and say.text == de.TEXTS["REMOVED"] and say.get("language") == "de-DE"


def test_a_waiting_caller_can_be_removed(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-ended", clock, ROOM)  # the account sends callbacks; the room is not running
    held = parse(post(voice_handler, INCOMING, call_sid=sid(1), To=DIRECT, From="+14155550009"))
    assert held.find("Connect") is None
    [item] = call_items(dynamodb, ROOM).values()
    identity = item["identity"]["S"]
    status, body = admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}")
    assert status == 200 and body["was"] == "waiting"
    assert call_items(dynamodb, ROOM) == {}
    callback(rooms, "room-created", clock, ROOM)
    assert [s for s, _ in calls_stand_in.updates()] == [sid(1)]  # the goodbye only: not moved in


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (f"/admin/rooms/{ROOM}/callers/nobody", 404, "identity"),
        ("/admin/rooms/NoSuchRoom/callers/nobody", 404, "room"),
        (f"/admin/rooms/{ROOM}/callers/{'x' * 129}", 400, "identity"),
        (f"/admin/rooms/{'r' * 129}/callers/alice", 400, "room"),
    ],
)
def test_unknown_or_bad_names_are_refused_and_nothing_changes(
    admin: AdminHandler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    path: str,
    status: int,
    field: str,
):
    callback(rooms, "room-created", clock, ROOM)
    answer, body = admin.call("DELETE", path)
    assert (answer, body["field"]) == (status, field), body
    assert body["error"] in ("not_found", "invalid_request") and body["message"]
    assert calls_stand_in.updates() == []


def test_a_caller_moves_to_a_running_room_and_back_keeping_their_identity(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    callback(rooms, "room-created", clock, BREAKOUT)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    status, body = admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", {"to": BREAKOUT})
    assert (status, body) == (200, {"moved": identity, "room": ROOM, "to": BREAKOUT})
    [(moved, twiml)] = calls_stand_in.updates()
    root = ET.fromstring(twiml)
    assert moved == sid(1) and verbs(root) == ["Say", "Connect", "Redirect"]
    assert said(root) == f"Moving you to {BREAKOUT}."
    room = root.find("Connect/Room")
    assert room is not None and (room.text, room.get("participantIdentity")) == (BREAKOUT, identity)
    assert call_items(dynamodb, ROOM) == {}
    assert call_items(dynamodb, BREAKOUT)[sid(1)]["status"]["S"] == JOINING
    clock.now += 2
    callback(rooms, "participant-disconnected", clock, ROOM, identity)
    callback(rooms, "participant-connected", clock, BREAKOUT, identity)
    table = RoomTable(dynamodb, TABLE)
    assert table.room(ACCOUNT, BREAKOUT).phone == {identity: sid(1)}  # a phone leg of the breakout
    assert identity not in table.room(ACCOUNT, ROOM).phone
    status, body = admin.call("POST", f"/admin/rooms/{BREAKOUT}/callers/{identity}/move", {"to": ROOM})
    assert status == 200, body
    back = ET.fromstring(calls_stand_in.updates()[-1][1]).find("Connect/Room")
    assert back is not None and (back.text, back.get("participantIdentity")) == (ROOM, identity)


def test_a_move_to_a_room_not_in_progress_holds_the_caller_for_it(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    status, _ = admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", {"to": BREAKOUT})
    assert status == 200
    [(_, twiml)] = calls_stand_in.updates()
    root = ET.fromstring(twiml)
    assert verbs(root) == ["Say", "Redirect"]
    wait = root.find("Redirect").text or ""
    assert wait.startswith(f"{BASE}/voice/wait?")
    state = parse_qs(urlsplit(wait).query)
    assert (state["r"], state["i"], state["h"]) == ([BREAKOUT], [identity], ["1"])
    assert call_items(dynamodb, BREAKOUT)[sid(1)]["status"]["S"] == WAITING
    # The wait step holds it (the voice function's own hold loop) ...
    clock.now += 3
    hold = parse(post(voice_handler, wait, call_sid=sid(1), To=DIRECT))
    assert "Connect" not in verbs(hold) and "Redirect" in verbs(hold)
    # ... and the breakout's start moves it in.
    callback(rooms, "room-created", clock, BREAKOUT)
    joined_room = ET.fromstring(calls_stand_in.updates()[-1][1]).find("Connect/Room")
    assert joined_room is not None and (joined_room.text, joined_room.get("participantIdentity")) == (
        BREAKOUT,
        identity,
    )


def test_a_move_to_a_full_room_is_refused_and_changes_nothing(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    callback(rooms, "room-created", clock, BREAKOUT)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    table = RoomTable(dynamodb, TABLE)
    breakout = table.room(ACCOUNT, BREAKOUT)
    full = {f"phone-{n}": sid(100 + n) for n in range(MAX_PHONE_PARTICIPANTS)}
    dynamodb.put_item(
        TableName=TABLE, Item=Room(**{**breakout.__dict__, "phone": full}).to_item(int(clock.now) + 3600)
    )
    before = (call_items(dynamodb, ROOM), call_items(dynamodb, BREAKOUT))
    status, body = admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", {"to": BREAKOUT})
    assert (status, body["error"], body["field"]) == (409, "conflict", "to") and "full" in body["message"]
    status, body = admin.call("POST", f"/admin/rooms/{ROOM}/callers/move", {"to": BREAKOUT})
    assert status == 409
    assert calls_stand_in.updates() == []
    assert (call_items(dynamodb, ROOM), call_items(dynamodb, BREAKOUT)) == before


def test_a_move_to_another_accounts_room_is_refused(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    theirs = Room(OTHER_ACCOUNT, "TheirRoom", status="in-progress", room_sid="RM" + "4" * 32)
    dynamodb.put_item(TableName=TABLE, Item=theirs.to_item(int(clock.now) + 3600))
    status, body = admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", {"to": "TheirRoom"})
    assert (status, body["field"]) == (409, "to") and "another account" in body["message"]
    assert calls_stand_in.updates() == [] and sid(1) in call_items(dynamodb, ROOM)


def test_every_phone_caller_of_a_room_moves(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    callback(rooms, "room-created", clock, BREAKOUT)
    callback(rooms, "participant-connected", clock, ROOM, "host")  # on video: not a phone caller
    first, _ = joined(voice_handler, rooms, clock, 1)
    second, _ = joined(voice_handler, rooms, clock, 2)
    status, body = admin.call("POST", f"/admin/rooms/{ROOM}/callers/move", {"to": BREAKOUT})
    assert status == 200, body
    assert sorted(body["moved"]) == sorted([first, second]) and body["failed"] == []
    assert sorted(s for s, _ in calls_stand_in.updates()) == [sid(1), sid(2)]
    assert set(call_items(dynamodb, BREAKOUT)) == {sid(1), sid(2)} and call_items(dynamodb, ROOM) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": BREAKOUT, "room": ROOM}, "room"),
        ({}, "to"),
        ({"to": ROOM}, "to"),
        ({"to": 5}, "to"),
        ({"to": "a\x00b"}, "to"),
    ],
)
def test_bad_move_bodies_are_refused(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    clock: Clock,
    body: Any,
    field: str,
):
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    status, answer = admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", body)
    assert (status, answer["field"]) == (400, field), answer
    assert calls_stand_in.updates() == []


def test_a_stack_of_several_accounts_names_the_rooms_account(
    admin: AdminHandler, voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock
):
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    admin.app.accounts = (OTHER_ACCOUNT,)
    status, body = admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}")
    assert (status, body["field"]) == (400, "account")
    status, body = admin.call(
        "DELETE", f"/admin/rooms/{ROOM}/callers/{identity}", query={"account": OTHER_ACCOUNT}
    )
    assert (status, body["field"]) == (404, "room")  # that account has no such room
    status, body = admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}", query={"account": ACCOUNT})
    assert status == 200, body
    assert [s for s, _ in calls_stand_in.updates()] == [sid(1)]


def test_a_caller_who_already_hung_up_is_404_and_dropped(
    admin: AdminHandler,
    voice_handler: Handler,
    rooms: RoomHandler,
    calls_stand_in: FakeTwilio,
    dynamodb: Any,
    clock: Clock,
):
    callback(rooms, "room-created", clock, ROOM)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    calls_stand_in.call_answers[sid(1)] = Error(*NOT_FOUND)  # Twilio: the call has ended
    status, body = admin.call("DELETE", f"/admin/rooms/{ROOM}/callers/{identity}")
    assert (status, body["field"]) == (404, "identity") and "already left" in body["message"]
    assert call_items(dynamodb, ROOM) == {}


def test_a_caller_mid_move_is_409(
    admin: AdminHandler, voice_handler: Handler, rooms: RoomHandler, calls_stand_in: FakeTwilio, clock: Clock
):
    callback(rooms, "room-created", clock, ROOM)
    callback(rooms, "room-created", clock, BREAKOUT)
    identity, _ = joined(voice_handler, rooms, clock, 1)
    assert admin.call("POST", f"/admin/rooms/{ROOM}/callers/{identity}/move", {"to": BREAKOUT})[0] == 200
    # Not yet connected to the breakout (no participant-connected): moving it on now is refused.
    status, body = admin.call("POST", f"/admin/rooms/{BREAKOUT}/callers/{identity}/move", {"to": "Third"})
    assert (status, body["field"]) == (409, "identity"), body
    status, body = admin.call("POST", f"/admin/rooms/{BREAKOUT}/callers/move", {"to": "Third"})
    assert status == 200 and body["moved"] == [] and body["failed"][0]["identity"] == identity
    assert len(calls_stand_in.updates()) == 1
