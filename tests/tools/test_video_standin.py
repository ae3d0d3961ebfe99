"""`dialin serve`'s stand-in answers the Video REST requests the per-minute sweep makes, as
Twilio would, from the room callbacks `dialin room` posts (and the joins `dialin call` reports)."""

from __future__ import annotations

import json
import time
from typing import Any

from dialin_tools.commands.room.cli import callback_params, room_sid
from dialin_tools.commands.serve.twilio_standin import CallsStandIn

ACCOUNT = "AC" + "0" * 32
SID = room_sid(ACCOUNT, "Board")


def ask(standin: CallsStandIn, path: str, query: str = "") -> tuple[int, dict[str, Any]]:
    status, headers, body = standin.handle("GET", f"/_twilio{path}", query, b"")
    assert headers == [("Content-Type", "application/json")]
    return status, json.loads(body)


def post(standin: CallsStandIn, action: str, identity: str = "", at: float = 0.0) -> None:
    """A room callback the local API accepted, as the server hands it to the stand-in."""
    standin.observe(callback_params(action, "Board", identity, ACCOUNT, at or time.time()))


def identities(answer: tuple[int, dict[str, Any]]) -> list[str]:
    status, body = answer
    assert status == 200 and body["meta"]["key"] == "participants"
    return [p["identity"] for p in body["participants"]]


def test_who_is_connected_follows_the_room_callbacks():
    standin = CallsStandIn(lambda line: None)
    assert ask(standin, "/v1/Rooms/Board")[0] == 404  # no room of that name in progress
    post(standin, "start")
    post(standin, "join", "host")
    post(standin, "join", "phone-1")
    post(standin, "leave", "host")
    assert identities(ask(standin, f"/v1/Rooms/{SID}/Participants", "Status=connected")) == ["phone-1"]
    assert identities(ask(standin, "/v1/Rooms/Board/Participants")) == ["phone-1"]  # connected by default
    status, room = ask(standin, "/v1/Rooms/Board")
    assert status == 200 and (room["sid"], room["status"], room["unique_name"]) == (
        SID,
        "in-progress",
        "Board",
    )
    status, page = ask(standin, "/v1/Rooms", "UniqueName=Board&Status=in-progress&PageSize=1")
    assert status == 200 and [r["sid"] for r in page["rooms"]] == [SID]
    post(standin, "end")
    status, error = ask(standin, "/v1/Rooms/Board")
    assert (status, error["code"]) == (404, 20404)  # by name only while in progress
    assert ask(standin, f"/v1/Rooms/{SID}")[1]["status"] == "completed"
    assert identities(ask(standin, f"/v1/Rooms/{SID}/Participants", "Status=connected")) == []
    assert identities(ask(standin, f"/v1/Rooms/{SID}/Participants")) == ["host", "phone-1"]
    assert ask(standin, "/v1/Rooms", "UniqueName=Board&Status=in-progress")[1]["rooms"] == []
    # `dialin room` keeps one RoomSid per name: a start after an end is a new session of it.
    post(standin, "start")
    post(standin, "join", "guest")
    assert identities(ask(standin, "/v1/Rooms/Board/Participants")) == ["guest"]


def test_a_call_joining_through_dialin_call_is_a_connected_participant():
    standin = CallsStandIn(lambda line: None)
    sent: list[dict[str, str]] = []

    def notify(form: dict[str, str]) -> None:  # the server posts it signed, and sees it accepted
        sent.append(form)
        post(standin, "join", form["ParticipantIdentity"])

    standin.notify = notify
    post(standin, "start")
    call = "CA" + "1" * 32
    status, _, _ = standin.handle(
        "POST", f"/_twilio/local/Calls/{call}/joined", "", b"room=Board&identity=alice"
    )
    assert status == 200 and [f["ParticipantIdentity"] for f in sent] == ["alice"]
    assert identities(ask(standin, f"/v1/Rooms/{SID}/Participants")) == ["alice"]
