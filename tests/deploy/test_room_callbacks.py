"""Room status callbacks through the deployed room-events function: a signed callback is
accepted, and a caller held for a room that has not started is moved into it the moment its
room-created arrives, through the Calls API stand-in the stack reaches by TwilioApiBaseUrl."""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET

from support.stack_http import HELD_NUMBER, Deployed
from support.twiml import said

from dialin.speech import messages
from dialin_tools.commands.call.phone import FAKE_ACCOUNT_SID
from dialin_tools.commands.room.cli import ROUTE, callback_params

MOVE_SECONDS = 60.0  # a bound on the move: a cold room-events function on 2 busy cores


def room_callback(deployed: Deployed, action: str, room: str) -> int:
    """`dialin room`'s callback, as Twilio sends it; the stand-in learns the room's state
    first (Twilio's view of the room, which the stack's sweep would ask)."""
    params = callback_params(action, room, "", FAKE_ACCOUNT_SID, time.time())
    deployed.standin.calls.observe(params)
    status, _ = deployed.api.twilio_post(ROUTE, params)
    return status


def incoming(deployed: Deployed, call_sid: str) -> ET.Element:
    params = {
        "AccountSid": FAKE_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "Called": HELD_NUMBER,
        "Caller": "+15555550123",
        "Direction": "inbound",
        "From": "+15555550123",
        "To": HELD_NUMBER,
    }
    status, body = deployed.api.twilio_post("/voice/incoming", params)
    assert status == 200, body
    return ET.fromstring(body)


def moves(deployed: Deployed, call_sid: str) -> list[str]:
    deadline = time.monotonic() + MOVE_SECONDS
    while time.monotonic() < deadline:
        if deployed.standin.calls.updates.get(call_sid):
            return deployed.standin.calls.updates[call_sid]
        time.sleep(0.2)
    return []


def test_a_signed_room_callback_is_accepted(deployed: Deployed):
    # From now on the stack knows this account's rooms: one it has not heard of has not started.
    assert room_callback(deployed, "end", "ElsewhereRoom") == 200


def test_a_forged_room_callback_is_refused(deployed: Deployed):
    params = callback_params("start", "HeldRoom", "", FAKE_ACCOUNT_SID, time.time())
    status, _ = deployed.api.twilio_post(ROUTE, params, token="not-the-stack-token")
    assert status == 403


def test_a_held_caller_is_moved_into_the_room_when_it_starts(deployed: Deployed):
    assert room_callback(deployed, "end", "ElsewhereRoom") == 200
    call_sid = "CA" + uuid.uuid4().hex
    held = incoming(deployed, call_sid)
    assert messages.NOT_STARTED in said(held)
    assert held.find("Connect") is None  # held: no <Connect> to a room not in progress
    assert room_callback(deployed, "start", "HeldRoom") == 200
    updates = moves(deployed, call_sid)
    assert len(updates) == 1, updates
    room = ET.fromstring(updates[0]).find("Connect/Room")
    assert room is not None and room.text == "HeldRoom", updates
    assert (room.get("participantIdentity") or "").startswith("phone-0123-"), updates
