"""Play the caller's side against the real handler: POST to our URLs the way Twilio does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, rest_event, signed_twilio_event
from support.voice import BASE

DIRECT = "+15555550100"
PIN_NUMBER = "+15555550101"
CALLER = "+14155550123"
ALICE_PIN = "246810"
GUEST_PIN = "135790"
INCOMING = f"{BASE}/voice/incoming"


def twilio_post(
    url: str, call_sid: str = "CA" + "a" * 32, token: str = DEV_AUTH_TOKEN, **params: str
) -> dict[str, Any]:
    """The signed API Gateway event for Twilio's POST of ``params`` to one of our URLs."""
    parts = urlsplit(url)
    route = parts.path.removeprefix("/Prod")
    base = f"{parts.scheme}://{parts.netloc}/Prod"
    form = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": DIRECT}
    form.update(params)
    return signed_twilio_event(
        base_url=base,
        route=route,
        params=form,
        query=parse_qsl(parts.query, keep_blank_values=True),
        stage="Prod",
        token=token,
    )


def fallback_post(body: bytes | str, base64_body: bool = False) -> dict[str, Any]:
    """Twilio's POST to the number's fallback URL (unsigned: it is answered without a check)."""
    return rest_event(
        method="POST",
        resource="/voice/fallback",
        path="/voice/fallback",
        stage="Prod",
        headers={},
        body=body,
        base64_body=base64_body,
    )


def post(handler: Callable[[dict[str, Any]], dict[str, Any]], url: str, **params: str) -> dict[str, Any]:
    return handler(twilio_post(url, **params))


def gather_action(root: ET.Element) -> str:
    gather = root.find("Gather")
    assert gather is not None, [child.tag for child in root]
    return gather.get("action") or ""
