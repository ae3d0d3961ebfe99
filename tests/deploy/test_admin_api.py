"""The deployed admin API (IAM-authorized): a SigV4-signed request creates a PIN, and a call
with that PIN joins; a request without a signature is refused. MiniStack does not verify
SigV4 (``support.ministack``): the last test holds that note to what the emulator does."""

from __future__ import annotations

from support.stack_http import PIN_NUMBER, Deployed

from dialin_tools.commands.call.phone import Phone
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN

NEW_PIN = {"room": "AdminRoom", "identity": "carol", "number": PIN_NUMBER, "label": "deploy smoke"}


def test_a_signed_request_creates_a_pin_and_the_new_pin_joins(deployed: Deployed):
    status, created = deployed.api.admin("POST", "/admin/pins", NEW_PIN)
    assert status == 201, created
    assert created["room"] == "AdminRoom" and created["identity"] == "carol"
    heard: list[str] = []
    phone = Phone(
        to=PIN_NUMBER,
        token=DEV_AUTH_TOKEN,
        digits=[created["pin"]],
        out=heard.append,
        transport=deployed.api.transport,
    )
    outcome = phone.call(deployed.api.base + "/voice/incoming")
    assert outcome.joined and outcome.room == "AdminRoom", heard
    assert outcome.identity.startswith("carol"), heard


def test_a_signed_request_lists_the_room_pins(deployed: Deployed):
    status, listed = deployed.api.admin("GET", "/admin/pins?room=PinRoom")
    assert status == 200, listed
    assert [pin["identity"] for pin in listed["pins"]] == ["alice"], listed


def test_an_unsigned_request_to_an_iam_route_is_refused(deployed: Deployed):
    for method, route in (("POST", "/admin/pins"), ("GET", "/admin/routes"), ("POST", "/calls")):
        body = {"room": "X"} if method == "POST" else None
        status, answer = deployed.api.admin(method, route, body, signed=False)
        assert status == 403, (route, answer)


def test_the_emulator_accepts_a_wrong_sigv4_signature(deployed: Deployed):
    """Not what AWS does (403): the emulator difference ``support.ministack`` records."""
    request_headers = deployed.api.signed_headers("GET", "/admin/routes", None)
    forged = request_headers["Authorization"][:-8] + "00000000"
    status, _ = deployed.api.send("GET", "/admin/routes", {**request_headers, "Authorization": forged}, None)
    assert status == 200
