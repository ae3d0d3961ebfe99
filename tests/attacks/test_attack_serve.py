"""The guessing attacks over HTTP, against `dialin serve` as its own process (the real
handlers, its embedded DynamoDB, small budgets from the environment)."""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from support.served import dialin_serve

from dialin.guard.budgets import ATTESTED_VERSTAT
from dialin.speech import messages
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, twilio_signature

PIN_NUMBER = "+15555550101"
ALICE_PIN = "246810"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with dialin_serve(NUMBER_FAILURE_BUDGET="2", NUMBER_FAILURE_CEILING="4") as served:
        yield served.url


def post(url: str, params: dict[str, str]) -> ET.Element:
    request = urllib.request.Request(  # noqa: S310 - the local test server
        url,
        data=urlencode(params).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(url, params, DEV_AUTH_TOKEN),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
        return ET.fromstring(response.read())


def call(
    base_url: str, caller: str, digits: str, attested: bool = False
) -> tuple[ET.Element, ET.Element | None]:
    params = {"CallSid": f"CA{abs(hash(caller)):032d}"[:34], "From": caller, "To": PIN_NUMBER}
    if attested:
        params["StirVerstat"] = ATTESTED_VERSTAT
    first = post(f"{base_url}/voice/incoming", params)
    gather = first.find("Gather")
    if gather is None:
        return first, None
    return first, post(gather.get("action") or "", {**params, "Digits": digits})


def spoken(root: ET.Element) -> str:
    return " ".join((say.text or "") for say in root.iter("Say"))


def test_spoofed_guessing_is_slowed_then_refused_over_http(base_url: str):
    for n in range(2):
        call(base_url, f"+1212555{n:04d}", "1" * 10)
    first, answer = call(base_url, "+12125559000", "2" * 10)
    assert first.find("Pause") is not None and messages.SLOW_PATH in spoken(first)  # the slow path
    # One attempt per call; sent before the signed not-before time (a script does not wait
    # for the pause), it is a wrong PIN without a lookup.
    assert answer is not None and messages.PIN_FAILED in spoken(answer)
    _, closing = call(base_url, "+12125559001", "3" * 10)
    assert closing is not None and spoken(closing) == messages.TRY_LATER
    refused, _ = call(base_url, "+12125559002", ALICE_PIN)
    assert spoken(refused) == messages.TRY_LATER
    # The caller the network vouches for still gets in.
    _, joined = call(base_url, "+14155550123", ALICE_PIN, attested=True)
    assert joined is not None and joined.find("Connect/Room") is not None


def test_an_unsigned_request_is_refused_over_http(base_url: str):
    request = urllib.request.Request(  # noqa: S310 - the local test server
        f"{base_url}/voice/incoming", data=b"From=%2B1&To=%2B1", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - local test server
    assert refused.value.code == 403
