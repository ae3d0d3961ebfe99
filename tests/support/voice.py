"""The voice function under test: its table, its settings, a settable clock, and the real
functions/voice/app.py handler wired to them."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from dialin.core.config import Settings
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER
from support.routes import api_route

TABLE = "dialin-test"
BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def local_settings(**overrides: Any) -> Settings:
    env = {"TABLE_NAME": TABLE, "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN, "PIN_PEPPER": DEV_PIN_PEPPER}
    env.update({k: str(v) for k, v in overrides.items()})
    return Settings.from_env(env)


@dataclass
class Handler:
    """The real functions/voice/app.py handler, wired to moto and a test clock."""

    module: Any
    app: VoiceApp

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.module.lambda_handler(event, LocalContext(function_name="VoiceFunction"))


def handle(app: VoiceApp, event: dict[str, Any]) -> dict[str, Any]:
    """Through the real handler (Powertools decorators and all), with ``app`` as its VoiceApp."""
    route = api_route("/voice/incoming")
    module, handler = load_handler(route.code_dir, route.handler)
    original, module.voice = module.voice, app
    try:
        return handler(event, LocalContext(function_name="VoiceFunction"))
    finally:
        module.voice = original


def throttle(**_: Any) -> tuple[Any, dict[str, Any]]:
    """A botocore ``before-call`` hook: the request is answered as throttled, never sent."""
    error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    return SimpleNamespace(status_code=400), {"Error": error, "ResponseMetadata": {}}
