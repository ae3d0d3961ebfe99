"""One base URL for every Twilio REST domain the bridge calls (TWILIO_API_BASE_URL): dial-out
and room events reach a stand-in with Twilio's own paths, form bodies and Basic auth."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

from support.dial_events import calls_event
from support.modules import modules_after_import
from support.twilio_fake import CALL_SID, FakeTwilio
from support.voice import local_settings

from dialin.dialout.app import DialOutApp
from dialin.dialout.request import DialOutSettings
from dialin.edge import video
from dialin.edge.credentials import Credentials
from dialin.edge.rest import rest_client

ACCOUNT = "AC" + "5" * 32
TOKEN = "local-token-not-a-secret"


def basic(account: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()


def test_every_domain_the_bridge_calls_gets_the_base_url():
    """Calls (api.twilio.com) and Video (video.twilio.com) alike: the base URL replaces the
    scheme and host, Twilio's paths follow it."""
    client = rest_client(ACCOUNT, TOKEN, "http://127.0.0.1:9/_twilio")
    assert client.api.base_url == client.video.base_url == "http://127.0.0.1:9/_twilio"
    twilio = rest_client(ACCOUNT, TOKEN)
    assert (twilio.api.base_url, twilio.video.base_url) == (
        "https://api.twilio.com",
        "https://video.twilio.com",
    )


def test_the_video_api_is_asked_through_the_base_url():
    room_sid = "RM" + "a" * 32
    with FakeTwilio(logins={(ACCOUNT, TOKEN)}) as twilio:
        created = {"AccountSid": ACCOUNT, "RoomName": "Board", "RoomSid": room_sid}
        twilio.video.observe({**created, "StatusCallbackEvent": "room-created"})
        client = rest_client(ACCOUNT, TOKEN, twilio.url)
        assert video.connected(client, room_sid) == []
        live = video.in_progress(client, "Board")
    assert live is not None and live.sid == room_sid and live.started_ms > 0
    participants, rooms = twilio.sent
    assert participants.url == f"{twilio.url}/v1/Rooms/{room_sid}/Participants"
    assert participants.params == {"Status": "connected", "PageSize": "50"}
    assert rooms.url == f"{twilio.url}/v1/Rooms" and rooms.params["UniqueName"] == "Board"
    assert participants.headers["Authorization"] == basic(ACCOUNT, TOKEN)


def test_dial_out_places_its_call_through_the_base_url():
    settings = local_settings(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN)
    with FakeTwilio(logins={(ACCOUNT, TOKEN)}) as twilio:
        env = {"DIALOUT_CALLER_NUMBER": "+15555550100", "TWILIO_API_BASE_URL": twilio.url}
        app = DialOutApp(DialOutSettings.from_env(env), Credentials(settings))
        response = app.handle(calls_event({"to": "+15555550123", "room": "Board", "confirm": False}))
    assert response["statusCode"] == 201, response
    [request] = twilio.sent
    assert request.url == f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert request.headers["Authorization"] == basic(ACCOUNT, TOKEN)
    form = parse_qs(request.body.decode())
    assert form["To"] == ["+15555550123"] and "<Room" in form["Twiml"][0]
    assert json.loads(response["body"])["callSid"] == CALL_SID


def test_the_room_events_function_loads_the_rest_client_and_the_voice_function_does_not():
    assert "twilio.rest" in modules_after_import("room_events")
    voice = modules_after_import("voice")
    assert (
        "dialin.voice.room_aware" in voice and "twilio.rest" not in voice and "dialin.edge.rest" not in voice
    )
