"""Every file in events/ goes through the real handler of the function it is for, in-process,
configured by env.json (the table is moto's, the rest as `sam local invoke` would set it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from support.admin_events import admin_module
from support.dial_events import dial_out_module
from support.routes import api_route
from support.twiml import parse, said, verbs
from support.voice import TABLE, Handler

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.lib import sample_events
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import signed_twilio_event

EVENTS = sample_events.EVENTS_DIR
NAMES = sorted(p.stem for p in EVENTS.glob("*.json") if p.stem not in ("env", "seed"))


def function_of(name: str) -> str:
    found = sample_events.target(tpl.load(), load_event(name))
    assert found is not None, f"events/{name}.json is for no function of template.yaml"
    return found[0]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def env_of(function: str) -> dict[str, str]:
    env = json.loads((EVENTS / "env.json").read_text())[function]
    return {**env, "TABLE_NAME": TABLE} if env.get("TABLE_NAME") else env


VOICE_EVENTS = [n for n in NAMES if function_of(n) == "VoiceFunction"]


def test_every_step_and_outcome_has_an_event():
    assert set(NAMES) == set(sample_events.build_events())


def test_event_files_are_up_to_date():
    """`make events` regenerates them; a change to signing or the flow must be re-run."""
    for name, event in sample_events.build_events().items():
        on_disk = json.loads((EVENTS / f"{name}.json").read_text())
        assert on_disk == json.loads(json.dumps(event)), f"events/{name}.json is stale: run `make events`"
    assert json.loads((EVENTS / "env.json").read_text()) == sample_events.env_json()


@pytest.fixture
def sam_local_handler(voice_handler: Handler, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Handler:
    settings = Settings.from_env(env_of("VoiceFunction"))
    app = VoiceApp.on_table(settings, dynamodb, Credentials(settings), clock=voice_handler.app.clock)
    monkeypatch.setattr(voice_handler.module, "voice", app)
    return Handler(voice_handler.module, app)


EXPECTED = {
    "incoming-direct": (["Say", "Connect", "Redirect"], "DailyStandup"),
    "incoming-pin-prompt": (["Gather"], None),
    "incoming-unknown-number": (["Say", "Hangup"], None),
    "pin-ok": (["Say", "Connect", "Redirect"], "ClinicRoom1"),
    "pin-guest-ok": (["Say", "Connect", "Redirect"], "ClinicRoom1"),
    "pin-wrong": (["Gather"], None),
    "wait-room-not-started": (["Say", "Pause", "Connect", "Redirect"], "DailyStandup"),
    "wait-session-ended": (["Say", "Hangup"], None),
    "confirm-pressed-1": (["Say", "Connect", "Redirect"], "DailyStandup"),
    "confirm-no-key": (["Say", "Hangup"], None),
    "status-completed": ([], None),
}


def test_every_voice_event_has_its_expected_answer():
    assert sorted(VOICE_EVENTS) == sorted([*EXPECTED, "bad-signature"])


@pytest.mark.parametrize("name", VOICE_EVENTS)
def test_event_file_through_handler(name: str, sam_local_handler: Handler):
    event = json.loads(Path(EVENTS / f"{name}.json").read_text())
    response = sam_local_handler(event)
    if name == "bad-signature":
        assert response["statusCode"] == 403
        return
    root = parse(response)
    expected_verbs, room = EXPECTED[name]
    assert verbs(root) == expected_verbs
    if room:
        assert root.find("Connect/Room").text == room
    if name == "pin-ok":
        assert root.find("Connect/Room").get("participantIdentity").startswith("alice-")
    if name == "wait-room-not-started":
        assert messages.NOT_STARTED in said(root)
    if name == "wait-session-ended":
        assert said(root) == messages.SESSION_ENDED
    if name == "confirm-no-key":
        assert said(root) == messages.DIAL_OUT_NOT_CONFIRMED


def room_events_module(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from dialin.rooms.events import RoomEventsApp, RoomEventsSettings

    env = env_of("RoomEventsFunction")
    settings = Settings.from_env(env)
    route = api_route("/video/status")
    module, _ = load_handler(route.code_dir, route.handler)
    options = RoomEventsSettings.from_env(env)
    assert options.api_base_url == "http://host.docker.internal:3001/_twilio"  # dialin serve --port 3001
    app = RoomEventsApp.on_table(settings, dynamodb, Credentials(settings), options=options)
    monkeypatch.setattr(module, "room_events", app)
    return module


def test_room_event_file_through_the_room_events_handler(dynamodb: Any, monkeypatch: pytest.MonkeyPatch):
    from dialin.rooms.table import RoomTable

    module = room_events_module(dynamodb, monkeypatch)
    assert function_of("room-created") == "RoomEventsFunction"
    response = module.lambda_handler(load_event("room-created"), LocalContext("RoomEventsFunction"))
    assert response["statusCode"] == 200
    room = RoomTable(dynamodb, TABLE).room("AC" + "0" * 32, "DailyStandup")
    assert room is not None and room.in_progress


def test_the_schedule_event_runs_the_phone_only_check(dynamodb: Any, monkeypatch: pytest.MonkeyPatch):
    module = room_events_module(dynamodb, monkeypatch)
    assert sample_events.target(tpl.load(), load_event("phone-only-check")) == (
        "RoomEventsFunction",
        "PhoneOnlyCheck",
    )
    result = module.lambda_handler(load_event("phone-only-check"), LocalContext("RoomEventsFunction"))
    assert result == {"ended": 0}  # no room of the demo is phone-only; nothing faulted


def test_the_dial_out_event_is_a_dry_run_that_calls_nobody(monkeypatch: pytest.MonkeyPatch):
    from dialin.dialout.app import DialOutApp
    from dialin.dialout.request import DialOutSettings

    env = env_of("DialOutFunction")
    assert function_of("dial-out") == "DialOutFunction"
    module = dial_out_module()
    app = DialOutApp(DialOutSettings.from_env(env), Credentials(Settings.from_env(env)))
    monkeypatch.setattr(module, "dial_out", app)
    response = module.lambda_handler(load_event("dial-out"), LocalContext("DialOutFunction"))
    assert response["statusCode"] == 200, response
    answer = json.loads(response["body"])
    assert answer["dryRun"] is True and answer["room"] == "DailyStandup"
    assert answer["identity"] == "dialout-dr-jones"
    sent = answer["twilioRequest"]["data"]
    assert (sent["To"], sent["From"]) == (sample_events.CALLER, sample_events.DIRECT_NUMBER)
    assert sent["StatusCallback"] == "http://127.0.0.1:3000/voice/status"  # PUBLIC_BASE_URL
    assert "http://127.0.0.1:3000/voice/confirm?" in sent["Twiml"]


@pytest.fixture
def admin(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from dialin.admin.api import AdminApp
    from dialin.admin.table import Admin
    from dialin.guard.defences import policies

    settings = Settings.from_env(env_of("AdminFunction"))
    module = admin_module()
    table = Admin(dynamodb, TABLE, Credentials(settings).pepper, min_pin_length=settings.min_pin_length)
    monkeypatch.setattr(module, "admin", AdminApp(table, lockout=policies(settings)[0]))
    return module


def test_the_admin_events_create_a_pin_that_joins_and_list_the_routes(admin: Any, sam_local_handler: Handler):
    assert {function_of("admin-create-pin"), function_of("admin-list-routes")} == {"AdminFunction"}
    response = admin.lambda_handler(load_event("admin-create-pin"), LocalContext("AdminFunction"))
    assert response["statusCode"] == 201, response
    created = json.loads(response["body"])
    assert created["room"] == "Visit-42" and created["numbers"] == [sample_events.PIN_NUMBER]
    entered = load_event("pin-ok")  # the same call, signed again with the new PIN
    params = dict(parse_qsl(entered["body"]))
    params["Digits"] = created["pin"]
    again = signed_twilio_event(
        base_url=sample_events.SAM_LOCAL_URL,
        route="/voice/pin",
        params=params,
        query=[(k, v[-1]) for k, v in entered["multiValueQueryStringParameters"].items()],
    )
    root = parse(sam_local_handler(again))
    assert root.find("Connect/Room").text == "Visit-42"
    listed = admin.lambda_handler(load_event("admin-list-routes"), LocalContext("AdminFunction"))
    assert listed["statusCode"] == 200
    numbers = {route["number"] for route in json.loads(listed["body"])["routes"]}
    assert {sample_events.DIRECT_NUMBER, sample_events.PIN_NUMBER} <= numbers
