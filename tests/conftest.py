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

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dialin.config import Settings
from dialin.credentials import Credentials
from dialin.directory import Directory
from dialin.webhooks import VoiceApp
from dialin_tools import template as tpl
from dialin_tools.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER
from dialin_tools.handlers import LocalContext, load_handler
from dialin_tools.seed import load_seed

TABLE = "dialin-test"
BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return tpl.load()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def empty_table(aws: None, template: dict[str, Any]) -> Any:
    """A moto client with the directory table created from template.yaml, empty."""
    client = boto3.client("dynamodb", region_name="us-east-1")
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


def local_settings(**overrides: Any) -> Settings:
    env = {"TABLE_NAME": TABLE, "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN, "PIN_PEPPER": DEV_PIN_PEPPER}
    env.update({k: str(v) for k, v in overrides.items()})
    return Settings.from_env(env)


@pytest.fixture
def voice_app(dynamodb: Any, clock: Clock) -> VoiceApp:
    settings = local_settings()
    return VoiceApp(settings, Directory(dynamodb, TABLE), Credentials(settings), clock=clock)


@dataclass
class Handler:
    """The real functions/voice/app.py handler, wired to moto and a test clock."""

    module: Any
    app: VoiceApp

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.module.lambda_handler(event, LocalContext(function_name="VoiceFunction"))


@pytest.fixture
def voice_handler(voice_app: VoiceApp, monkeypatch: pytest.MonkeyPatch) -> Handler:
    route = next(r for r in tpl.api_routes(tpl.load()) if r.path == "/voice/incoming")
    module, _ = load_handler(route.code_dir, route.handler)
    monkeypatch.setattr(module, "voice", voice_app)
    return Handler(module, voice_app)


def parse(response: dict[str, Any]) -> ET.Element:
    """The TwiML of a handler response, parsed; fails the test if it is not a 200 TwiML."""
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"] == "application/xml"
    root = ET.fromstring(response["body"])
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def said(root: ET.Element) -> str:
    return " ".join((el.text or "") for el in root.iter("Say"))


@dataclass
class Emitted:
    """What the function wrote to stdout: Powertools JSON log lines and EMF metrics."""

    text: str

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def logs(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if "_aws" not in r]

    def metrics(self) -> dict[str, float]:
        """Metric name -> sum of its values, across every EMF blob."""
        totals: dict[str, float] = {}
        for record in self.records():
            for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive["Metrics"]:
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(record[metric["Name"]])
        return totals


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time (capsys swaps it per test phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], Emitted]]:
    """Read (and reset) everything logged and every metric flushed since the last read."""
    from dialin.observability import logger

    handler = logger.registered_handler
    original = handler.stream  # type: ignore[attr-defined]
    handler.stream = _CurrentStdout()  # type: ignore[attr-defined]
    yield lambda: Emitted(capsys.readouterr().out)
    handler.stream = original  # type: ignore[attr-defined]
