"""API Gateway proxy responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from twilio.twiml.voice_response import VoiceResponse


def twiml(response: VoiceResponse) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/xml"},
        "body": response.to_xml(),
    }


def forbidden() -> dict[str, Any]:
    return {"statusCode": 403, "headers": {"Content-Type": "text/plain"}, "body": "Forbidden"}


def not_found() -> dict[str, Any]:
    return {"statusCode": 404, "headers": {"Content-Type": "text/plain"}, "body": "Not Found"}


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, sort_keys=True),
    }
