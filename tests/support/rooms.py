"""Room status callbacks as Twilio signs them, a stand-in for Twilio's REST API that records
every call update, and the room-events function wired to both on moto."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.rooms.events import RoomEventsApp, RoomEventsSettings
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, signed_twilio_event
from support.local_http import Received, serve
from support.voice import BASE, TABLE, Clock

ACCOUNT = "AC" + "0" * 32
ROOM_SID = "RM" + "1" * 32


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def room_callback(
    kind: str, room: str, at: float, identity: str = "", room_sid: str = ROOM_SID, token: str = DEV_AUTH_TOKEN
) -> dict[str, Any]:
    params = {
        "AccountSid": ACCOUNT,
        "RoomName": room,
        "RoomSid": room_sid,
        "RoomStatus": "completed" if kind == "room-ended" else "in-progress",
        "RoomType": "group",
        "StatusCallbackEvent": kind,
        "Timestamp": iso(at),
        "SequenceNumber": "0",
    }
    if identity:
        params.update(
            ParticipantIdentity=identity, ParticipantSid="PA" + "2" * 32, ParticipantStatus="connected"
        )
    return signed_twilio_event(base_url=BASE, route="/video/status", params=params, stage="Prod", token=token)


@dataclass
class CallsApi:
    """What Twilio's Calls API received: one (CallSid, TwiML) per update, in order."""

    url: str
    received: list[Received] = field(default_factory=list)

    def updates(self) -> list[tuple[str, str]]:
        out = []
        for request in self.received:
            sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
            out.append((sid, parse_qs(request.body.decode())["Twiml"][0]))
        return out


def _answer(request: Received) -> tuple[int, Any]:
    sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    if sid.endswith("dead"):
        return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
    return 200, {"sid": sid, "status": "in-progress", "account_sid": ACCOUNT}


@contextmanager
def calls_api() -> Iterator[CallsApi]:
    with serve(_answer) as (url, received):
        yield CallsApi(url, received)


def room_events_app(client: Any, clock: Clock, api: CallsApi, phone_only_seconds: int = 120) -> RoomEventsApp:
    env = {
        "TABLE_NAME": TABLE,
        "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
        "PIN_PEPPER": DEV_PIN_PEPPER,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
    }
    settings = Settings.from_env(env)
    options = RoomEventsSettings(phone_only_seconds=phone_only_seconds, api_base_url=api.url)
    return RoomEventsApp.on_table(settings, client, Credentials(settings), options=options, clock=clock)


@dataclass
class RoomHandler:
    module: Any
    app: RoomEventsApp

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.module.lambda_handler(event, LocalContext(function_name="RoomEventsFunction"))


SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
