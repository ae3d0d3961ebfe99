"""Room status callbacks as Twilio signs them, and the room-events function on moto, moving
calls through the Twilio fake (support.twilio_fake)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.rooms.events import RoomEventsApp, RoomEventsSettings
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, signed_twilio_event
from support.twilio_fake import FakeTwilio
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


# The room tests' names for the one Twilio fake (support.twilio_fake): its base URL is the
# room-events function's TWILIO_API_BASE_URL, its ``updates()`` the calls it moved or hung up.
CallsApi = FakeTwilio


def calls_api() -> FakeTwilio:
    """The fake, not yet running (``with calls_api() as api``), knowing this account's login."""
    return FakeTwilio(logins={(ACCOUNT, DEV_AUTH_TOKEN)})


def room_events_app(
    client: Any, clock: Clock, api: FakeTwilio | str, phone_only_seconds: int = 120
) -> RoomEventsApp:
    """On ``client``'s table, moving calls through ``api`` (the fake, or a base URL)."""
    env = {
        "TABLE_NAME": TABLE,
        "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
        "PIN_PEPPER": DEV_PIN_PEPPER,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
    }
    settings = Settings.from_env(env)
    base_url = api if isinstance(api, str) else api.url
    options = RoomEventsSettings(phone_only_seconds=phone_only_seconds, api_base_url=base_url)
    return RoomEventsApp.on_table(settings, client, Credentials(settings), options=options, clock=clock)


def callback_form(event: dict[str, Any]) -> dict[str, str]:
    """The form parameters of a room callback event (as ``room_callback`` built it)."""
    body = event.get("body") or ""
    text = base64.b64decode(body).decode() if event.get("isBase64Encoded") else body
    return dict(parse_qsl(text, keep_blank_values=True))


@dataclass
class RoomHandler:
    module: Any
    app: RoomEventsApp
    # The Twilio fake, told of every room callback Twilio signed (a bad signature is no
    # callback of Twilio's), so its Video API knows who is connected. A callback Twilio sent
    # and the function never got ("lost"): ``twilio.video.observe`` alone.
    twilio: FakeTwilio | None = None

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self.module.lambda_handler(event, LocalContext(function_name="RoomEventsFunction"))
        if (
            self.twilio is not None
            and event.get("resource") == "/video/status"
            and response.get("statusCode") != 403
        ):
            self.twilio.video.observe(callback_form(event))
        return response


SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
