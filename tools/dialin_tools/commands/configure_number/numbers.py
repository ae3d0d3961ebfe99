"""Point a Twilio phone number at the stack: voice URL and method, fallback URL, status
callback. Compares first and updates only what differs, so a second run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from dialin.core.errors import DialinError
from dialin.core.validation import is_account_sid
from dialin_tools.lib.stack import route_url

# The number's settings we own, in the order they are shown.
FIELDS = (
    "voice_url",
    "voice_method",
    "voice_fallback_url",
    "voice_fallback_method",
    "status_callback",
    "status_callback_method",
    # A TwiML app on the number would take precedence over all the URLs above.
    "voice_application_sid",
)
METHODS = {"voice_method", "voice_fallback_method", "status_callback_method"}


class NumberError(DialinError):
    """The number cannot be configured; the message says why."""


@dataclass(frozen=True)
class Change:
    field: str
    current: str
    new: str

    @property
    def changed(self) -> bool:
        if self.field in METHODS:
            return self.current.upper() != self.new.upper()
        return self.current != self.new


def twilio_client(env: Mapping[str, str], http_client: HttpClient | None = None) -> Client:
    """From TWILIO_ACCOUNT_SID plus TWILIO_AUTH_TOKEN, or plus TWILIO_API_KEY and TWILIO_API_SECRET."""
    account_sid = env.get("TWILIO_ACCOUNT_SID", "").strip()
    api_key = env.get("TWILIO_API_KEY", "").strip()
    api_secret = env.get("TWILIO_API_SECRET", "").strip()
    token = env.get("TWILIO_AUTH_TOKEN", "").strip()
    if not is_account_sid(account_sid):
        raise NumberError("set TWILIO_ACCOUNT_SID to your account SID (AC followed by 32 hex digits)")
    if api_key or api_secret:
        if not (api_key and api_secret):
            raise NumberError("set both TWILIO_API_KEY and TWILIO_API_SECRET")
        return Client(api_key, api_secret, account_sid, http_client=http_client)
    if not token:
        raise NumberError("set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET")
    return Client(account_sid, token, http_client=http_client)


def desired_settings(outputs: Mapping[str, str]) -> dict[str, str]:
    outputs = dict(outputs)
    return {
        "voice_url": route_url(outputs, "VoiceWebhookUrl", "/voice/incoming"),
        "voice_method": "POST",
        "voice_fallback_url": route_url(outputs, "VoiceFallbackUrl", "/voice/fallback"),
        "voice_fallback_method": "POST",
        "status_callback": route_url(outputs, "StatusCallbackUrl", "/voice/status"),
        "status_callback_method": "POST",
        "voice_application_sid": "",
    }


def _page_error(exc: TwilioException) -> NumberError:
    """twilio raises a bare TwilioException(message, response) when a list page fails."""
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", "?")
    try:
        code = json.loads(getattr(response, "text", "")).get("code", "?")
    except (ValueError, AttributeError):
        code = "?"
    return NumberError(f"Twilio answered HTTP {status} (code {code}) to the list of the account's numbers")


def find_number(client: Client, number: str) -> Any:
    try:
        listed = client.incoming_phone_numbers.list(phone_number=number, limit=50)
    except TwilioRestException:
        raise
    except TwilioException as exc:
        raise _page_error(exc) from None
    # Twilio's PhoneNumber filter also matches partial numbers: keep the exact one.
    found = [n for n in listed if n.phone_number == number]
    if not found:
        raise NumberError(f"{number} is not a phone number of this Twilio account")
    resource = found[0]
    if resource.trunk_sid:
        raise NumberError(
            f"{number} belongs to the SIP trunk {resource.trunk_sid}, which takes its calls instead of "
            "the voice URL: remove it from the trunk first"
        )
    return resource


def plan(resource: Any, desired: Mapping[str, str]) -> list[Change]:
    """Every owned setting, current and new (``changed`` tells which differ)."""
    return [Change(name, getattr(resource, name, None) or "", desired[name]) for name in FIELDS]


def apply(client: Client, resource: Any, changes: list[Change]) -> None:
    updates = {c.field: c.new for c in changes if c.changed}
    if updates:
        client.incoming_phone_numbers(resource.sid).update(**updates)
