"""Webhook URLs as operators type them (issue 20): a trailing slash on a route, a query key
given twice in the configured URL, and a request without a Host header. Every event is signed
by twilio's own RequestValidator for the URL as Twilio would request it, and goes through the
real VoiceFunction handler."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from support.callers import CALLER, DIRECT, PIN_NUMBER, gather_action, twilio_post
from support.twiml import parse, said, verbs
from support.voice import BASE, Handler, handle, local_settings

from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, twilio_signature

HOST = urlsplit(BASE).netloc


def form(**params: str) -> dict[str, str]:
    return {"CallSid": "CA" + "b" * 32, "AccountSid": "AC" + "0" * 32, "From": CALLER, **params}


def slashed(url: str) -> str:
    """``…/voice/pin?a=1`` as ``…/voice/pin/?a=1``: the route typed with a trailing slash."""
    parts = urlsplit(url)
    return parts._replace(path=parts.path + "/").geturl()


def http_api_post(url: str, route_key: str, **params: str) -> dict[str, Any]:
    """Twilio's POST to ``url`` as an HTTP API (payload 2.0) hands it to Lambda."""
    parts, body = urlsplit(url), form(**params)
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {
            "host": parts.netloc,
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio_signature(url, body, DEV_AUTH_TOKEN),
        },
        "requestContext": {"domainName": parts.netloc, "stage": "Prod", "http": {"method": "POST"}},
        "body": urlencode(body),
        "isBase64Encoded": False,
    }


def without_host(event: dict[str, Any], domain: bool = False) -> dict[str, Any]:
    """The event with no Host header (and, unless ``domain``, no requestContext.domainName)."""
    event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "host"}
    event["multiValueHeaders"] = {k: v for k, v in event["multiValueHeaders"].items() if k.lower() != "host"}
    if not domain:
        event["requestContext"].pop("domainName", None)
    return event


def resigned(event: dict[str, Any], url: str) -> dict[str, Any]:
    """The same request, signed for ``url`` instead."""
    signature = twilio_signature(url, parse_qsl(event["body"], keep_blank_values=True), DEV_AUTH_TOKEN)
    event["headers"]["X-Twilio-Signature"] = signature
    event["multiValueHeaders"]["X-Twilio-Signature"] = [signature]
    return event


@pytest.fixture
def configured(voice_app: VoiceApp) -> VoiceApp:
    """The voice app with PUBLIC_BASE_URL set (the URL configured on the numbers)."""
    settings = local_settings(PUBLIC_BASE_URL=BASE)
    return VoiceApp.on_table(
        settings, voice_app.directory.client, Credentials(settings), clock=voice_app.clock
    )


# A trailing slash


def test_incoming_with_a_trailing_slash_is_the_route_on_a_rest_api(voice_handler: Handler):
    event = twilio_post(f"{BASE}/voice/incoming/", To=PIN_NUMBER)
    # As a REST API delivers it: the resource as declared, the paths as requested.
    assert event["resource"] == "/voice/incoming"
    assert (event["path"], event["requestContext"]["path"]) == ("/voice/incoming/", "/Prod/voice/incoming/")
    root = parse(voice_handler(event))
    assert verbs(root) == ["Gather"]
    assert gather_action(root).startswith(f"{BASE}/voice/pin?")  # our own URLs stay unslashed


def test_the_slash_is_checked_as_signed(voice_handler: Handler):
    # Signed for the URL without the slash, but requested with it: not what Twilio signed.
    event = resigned(twilio_post(f"{BASE}/voice/incoming/", To=PIN_NUMBER), f"{BASE}/voice/incoming")
    assert voice_handler(event)["statusCode"] == 403


def test_a_trailing_slash_with_a_configured_public_url(configured: VoiceApp):
    root = parse(handle(configured, twilio_post(f"{BASE}/voice/incoming/", To=DIRECT)))
    assert root.find("Connect/Room").text == "DailyStandup"


def test_every_signed_step_takes_a_trailing_slash(voice_handler: Handler):
    action = gather_action(parse(voice_handler(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER))))
    wrong = parse(voice_handler(twilio_post(slashed(action), To=PIN_NUMBER, Digits="999999")))
    assert verbs(wrong) == ["Gather"] and messages.PIN_WRONG in said(wrong)
    status = voice_handler(twilio_post(f"{BASE}/voice/status/", To=DIRECT, CallStatus="completed"))
    assert verbs(parse(status)) == []


@pytest.mark.parametrize("route_key", ["POST /voice/{proxy+}", "$default"])
def test_a_trailing_slash_on_an_http_api_greedy_or_default_route(voice_handler: Handler, route_key: str):
    # An HTTP API route cannot end in "/"; a greedy (or $default) route catches the slash.
    root = parse(voice_handler(http_api_post(f"{BASE}/voice/incoming/", route_key, To=PIN_NUMBER)))
    assert gather_action(root).startswith(f"{BASE}/voice/pin?")


def test_an_http_api_greedy_route_serves_the_route_without_a_slash_too(voice_handler: Handler):
    event = http_api_post(f"{BASE}/voice/incoming", "POST /voice/{proxy+}", To=DIRECT)
    assert parse(voice_handler(event)).find("Connect/Room").text == "DailyStandup"


# A query key given twice in the configured URL


@pytest.mark.parametrize(
    "query",
    ["x=1&x=2", "lang=fr-FR&lang=fr-FR", "x=1&y=2&x=3", "l=fr-FR&l=de-DE"],
    ids=["repeated", "same-value", "interleaved", "our-own-key"],
)
def test_a_repeated_key_in_the_configured_url_never_breaks_incoming(voice_handler: Handler, query: str):
    root = parse(voice_handler(twilio_post(f"{BASE}/voice/incoming?{query}", To=PIN_NUMBER)))
    assert verbs(root) == ["Gather"]
    assert gather_action(root).startswith(f"{BASE}/voice/pin?")


def test_a_repeated_key_on_an_http_api(voice_handler: Handler):
    event = http_api_post(f"{BASE}/voice/incoming?x=1&x=2", "POST /voice/incoming", To=DIRECT)
    assert parse(voice_handler(event)).find("Connect/Room").text == "DailyStandup"


def test_a_repeated_key_is_still_signed(voice_handler: Handler):
    event = resigned(twilio_post(f"{BASE}/voice/incoming?x=1&x=2", To=DIRECT), f"{BASE}/voice/incoming?x=1")
    assert voice_handler(event)["statusCode"] == 403


def test_a_status_callback_with_a_repeated_key(voice_handler: Handler):
    event = twilio_post(f"{BASE}/voice/status?tag=a&tag=b", To=DIRECT, CallStatus="completed")
    assert verbs(parse(voice_handler(event))) == []  # recorded, not "temporarily unavailable"


def test_a_state_key_given_twice_alike_is_one_value(voice_handler: Handler):
    action = gather_action(parse(voice_handler(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER))))
    key, value = parse_qsl(urlsplit(action).query)[0]
    root = parse(voice_handler(twilio_post(f"{action}&{key}={value}", To=PIN_NUMBER, Digits="999999")))
    assert verbs(root) == ["Gather"] and messages.PIN_WRONG in said(root)


# No Host header


def test_no_host_and_no_domain_is_403_not_a_broken_action_url(voice_handler: Handler):
    # Signed for the URL a Host-less request used to be checked against: it must not pass.
    event = without_host(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER))
    answer = voice_handler(resigned(event, "https:///Prod/voice/incoming"))
    assert answer["statusCode"] == 403
    assert "https:///" not in answer["body"]
    assert (
        voice_handler(without_host(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER)))["statusCode"] == 403
    )


def test_no_host_falls_back_to_the_domain_api_gateway_recorded(voice_handler: Handler):
    event = without_host(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER), domain=True)
    assert event["requestContext"]["domainName"] == HOST
    assert gather_action(parse(voice_handler(event))).startswith(f"{BASE}/voice/pin?")


def test_no_host_falls_back_to_the_configured_public_url(configured: VoiceApp):
    root = parse(handle(configured, without_host(twilio_post(f"{BASE}/voice/incoming", To=PIN_NUMBER))))
    assert gather_action(root).startswith(f"{BASE}/voice/pin?")
