"""Fixtures shared by every tier. Helpers live in tests/support (imported as ``support``)."""

from __future__ import annotations

import os

# Before anything imports boto3: a region, fake credentials, and no real AWS profile.
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    POWERTOOLS_METRICS_NAMESPACE="DialIn",
    POWERTOOLS_SERVICE_NAME="dialin",
)
os.environ.pop("AWS_PROFILE", None)

import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.observed import Emitted
from support.rooms import ACCOUNT, RoomHandler, room_events_app
from support.routes import api_route
from support.twilio_fake import FakeTwilio
from support.voice import TABLE, Clock, Handler, local_settings

from dialin.edge.credentials import Credentials
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import load_handler
from dialin_tools.commands.serve.seed import load_seed
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return tpl.load()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One session for the suite: it keeps botocore's loaded service models, which
    ``mock_aws`` drops from the default session at every start (about 150 ms a client).
    Created after moto is imported, so its clients are mocked whenever a mock is active."""
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def empty_table(aws: None, template: dict[str, Any], boto_session: boto3.Session) -> Any:
    """A moto client of its own (event hooks die with the test) with the directory table
    created from template.yaml, empty."""
    client = boto_session.client("dynamodb")
    tpl.create_table(client, template, TABLE)
    return client


@pytest.fixture
def dynamodb(empty_table: Any) -> Any:
    """The table seeded with the demo directory (events/seed.json, dev pepper)."""
    load_seed(empty_table, TABLE, DEV_PIN_PEPPER)
    return empty_table


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def voice_app(dynamodb: Any, clock: Clock) -> VoiceApp:
    settings = local_settings()
    return VoiceApp.on_table(settings, dynamodb, Credentials(settings), clock=clock)


@pytest.fixture
def voice_handler(voice_app: VoiceApp, monkeypatch: pytest.MonkeyPatch) -> Handler:
    route = api_route("/voice/incoming")
    module, _ = load_handler(route.code_dir, route.handler)
    monkeypatch.setattr(module, "voice", voice_app)
    return Handler(module, voice_app)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API on 127.0.0.1 (support.twilio_fake), recording every request; stopped
    after the test. Dial-out and the tools use it as their HTTP client, room events by URL."""
    with FakeTwilio() as running:
        yield running


@pytest.fixture
def calls_stand_in(twilio: FakeTwilio) -> FakeTwilio:
    """The same fake, also accepting the room callbacks' account (support.rooms.ACCOUNT)."""
    twilio.logins.add((ACCOUNT, DEV_AUTH_TOKEN))
    return twilio


@pytest.fixture
def rooms(
    dynamodb: Any, clock: Clock, calls_stand_in: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> RoomHandler:
    """The real functions/room_events/app.py handler on moto, moving calls through the stand-in
    (which learns of every callback it posts: support.rooms.RoomHandler)."""
    route = api_route("/video/status")
    module, _ = load_handler(route.code_dir, route.handler)
    monkeypatch.setattr(module, "room_events", room_events_app(dynamodb, clock, calls_stand_in))
    return RoomHandler(module, module.room_events, calls_stand_in)


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time (capsys swaps it per test phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], Emitted]]:
    """Read (and reset) everything logged and every metric flushed since the last read."""
    from dialin.edge.observability import logger

    handler = logger.registered_handler
    original = handler.stream  # type: ignore[attr-defined]
    handler.stream = _CurrentStdout()  # type: ignore[attr-defined]
    yield lambda: Emitted(capsys.readouterr().out)
    handler.stream = original  # type: ignore[attr-defined]
