"""Webhook URLs as operators type them (issue 20), through `dialin serve` as its own process:
a trailing slash on a route, and a query key given twice in the configured URL. Each request
is signed, as Twilio signs it, for the URL exactly as requested."""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from support.served import dialin_serve

from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, twilio_signature

PIN_NUMBER = "+15555550101"
PARAMS = {"CallSid": "CA" + "c" * 32, "AccountSid": "AC" + "0" * 32, "From": "+14155550123", "To": PIN_NUMBER}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with dialin_serve() as served:
        yield served.url


def post(url: str, signed_for: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - the local test server
        url,
        data=urlencode(PARAMS).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(signed_for or url, PARAMS, DEV_AUTH_TOKEN),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def pin_prompt(answer: tuple[int, bytes], base_url: str) -> None:
    status, body = answer
    assert status == 200, body
    gather = ET.fromstring(body).find("Gather")
    assert gather is not None, body
    assert (gather.get("action") or "").startswith(f"{base_url}/voice/pin?")


def test_incoming_with_a_trailing_slash_is_the_route(base_url: str):
    pin_prompt(post(f"{base_url}/voice/incoming/"), base_url)


def test_the_trailing_slash_is_signed_as_requested(base_url: str):
    status, _ = post(f"{base_url}/voice/incoming/", signed_for=f"{base_url}/voice/incoming")
    assert status == 403


@pytest.mark.parametrize("query", ["x=1&x=2", "lang=fr-FR&lang=fr-FR", "x=1&y=2&x=3"])
def test_a_repeated_key_in_the_configured_url(base_url: str, query: str):
    pin_prompt(post(f"{base_url}/voice/incoming?{query}"), base_url)
    pin_prompt(post(f"{base_url}/voice/incoming/?{query}"), base_url)
