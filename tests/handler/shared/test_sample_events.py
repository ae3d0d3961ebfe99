"""Every file in events/ goes through the real handler in-process, configured by env.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.routes import api_route
from support.twiml import parse, said, verbs
from support.voice import TABLE, Handler

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.lib import sample_events

EVENTS = sample_events.EVENTS_DIR
NAMES = sorted(p.stem for p in EVENTS.glob("*.json") if p.stem not in ("env", "seed"))
ROOM_EVENTS = ("room-created",)  # for the RoomEventsFunction


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
    env = json.loads((EVENTS / "env.json").read_text())["VoiceFunction"]
    env["TABLE_NAME"] = TABLE
    settings = Settings.from_env(env)
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


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ROOM_EVENTS])
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


def test_room_event_file_through_the_room_events_handler(dynamodb: Any, monkeypatch: pytest.MonkeyPatch):
    from dialin.rooms.events import RoomEventsApp, RoomEventsSettings
    from dialin.rooms.table import RoomTable
    from dialin_tools.commands.serve.handlers import LocalContext, load_handler

    env = json.loads((EVENTS / "env.json").read_text())["RoomEventsFunction"]
    env["TABLE_NAME"] = TABLE
    settings = Settings.from_env(env)
    route = api_route("/video/status")
    module, _ = load_handler(route.code_dir, route.handler)
    options = RoomEventsSettings.from_env(env)
    assert options.api_base_url == "http://host.docker.internal:3000/_twilio"
    app = RoomEventsApp.on_table(settings, dynamodb, Credentials(settings), options=options)
    monkeypatch.setattr(module, "room_events", app)
    for name in ROOM_EVENTS:
        event = json.loads((EVENTS / f"{name}.json").read_text())
        assert module.lambda_handler(event, LocalContext("RoomEventsFunction"))["statusCode"] == 200
    room = RoomTable(dynamodb, TABLE).room("AC" + "0" * 32, "DailyStandup")
    assert room is not None and room.in_progress
