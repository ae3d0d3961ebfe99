"""`dialin room`: post signed Video room status callbacks to `dialin serve` (or any stack),
as Twilio would, so held callers can be seen joining the moment a room starts."""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from typing import Any
from urllib.parse import urlencode

from dialin_tools.commands.call.phone import (
    DEFAULT_URL,
    FAKE_ACCOUNT_SID,
    CallFailed,
    forbidden_reason,
    http_request,
)
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, FORM, twilio_signature

ROUTE = "/video/status"
EVENTS = {
    "start": "room-created",
    "end": "room-ended",
    "join": "participant-connected",
    "leave": "participant-disconnected",
}


def room_sid(account: str, room: str) -> str:
    """A stable RoomSid per room name, as one running room would keep."""
    return "RM" + hashlib.sha256(f"{account}#{room}".encode()).hexdigest()[:32]


def callback_params(action: str, room: str, identity: str, account: str, now: float) -> dict[str, str]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    params = {
        "AccountSid": account,
        "RoomName": room,
        "RoomSid": room_sid(account, room),
        "RoomStatus": "completed" if action == "end" else "in-progress",
        "RoomType": "group",
        "StatusCallbackEvent": EVENTS[action],
        "Timestamp": stamp,
    }
    if identity:
        params["ParticipantIdentity"] = identity
        params["ParticipantStatus"] = "connected" if action == "join" else "disconnected"
    return params


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "room",
        help="post signed room status callbacks (start, end, join, leave) to dialin serve",
        description="Post a Twilio Video room status callback, signed as Twilio signs it.",
    )
    parser.add_argument(
        "action", choices=sorted(EVENTS), help="start/end: the room; join/leave: a participant"
    )
    parser.add_argument("name", help="the room's UniqueName")
    parser.add_argument("identity", nargs="?", default="", help="the participant (join and leave)")
    parser.add_argument("--url", default=os.environ.get("DIALIN_URL", DEFAULT_URL), help="the API's base URL")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.action in ("join", "leave") and not args.identity:
        raise CallFailed(f"`dialin room {args.action}` needs the participant's identity")
    account = os.environ.get("TWILIO_ACCOUNT_SID", "")
    account = account if account.startswith("AC") else FAKE_ACCOUNT_SID
    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN
    url = args.url.strip().rstrip("/") + ROUTE
    params = callback_params(args.action, args.name, args.identity, account, time.time())
    headers = {"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(url, params, token)}
    status, _ = http_request("POST", url, headers, urlencode(params).encode(), 15.0)
    print(f"{params['StatusCallbackEvent']} {args.name} -> HTTP {status}")
    if status == 403:
        raise CallFailed(forbidden_reason(url))
    return 0 if status == 200 else 2
