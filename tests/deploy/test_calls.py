"""Signed calls through the deployed voice function, its layer and its table: a direct number
joins its room, a PIN number asks for the PIN and joins alice to hers (`dialin call`'s own
Phone, which follows the TwiML as Twilio would, over the emulator's API Gateway)."""

from __future__ import annotations

from support.stack_http import DIRECT_NUMBER, PIN, PIN_NUMBER, Deployed

from dialin.speech import messages
from dialin_tools.commands.call.phone import Outcome, Phone
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN


def call(deployed: Deployed, to: str, *digits: str) -> tuple[Outcome, list[str]]:
    heard: list[str] = []
    phone = Phone(
        to=to, token=DEV_AUTH_TOKEN, digits=digits, out=heard.append, transport=deployed.api.transport
    )
    return phone.call(deployed.api.base + "/voice/incoming"), heard


def test_a_signed_direct_number_call_joins_its_room(deployed: Deployed):
    outcome, heard = call(deployed, DIRECT_NUMBER)
    assert outcome.joined and outcome.room == "DirectRoom", heard
    assert outcome.identity.startswith("phone-0123-"), heard
    assert any(messages.CONNECTING in line for line in heard), heard


def test_a_signed_pin_call_enters_the_pin_and_joins_as_its_identity(deployed: Deployed):
    outcome, heard = call(deployed, PIN_NUMBER, PIN)
    assert outcome.joined and outcome.room == "PinRoom", heard
    assert outcome.identity.startswith("alice"), heard
    steps = [line.split()[2] for line in heard if " POST " in line]
    assert steps == ["/Prod/voice/incoming", "/Prod/voice/pin"], heard
    assert any(messages.PIN_PROMPT in line for line in heard), heard


def test_a_wrong_signature_is_refused(deployed: Deployed):
    params = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": "CA" + "1" * 32,
        "From": "+15555550123",
        "To": DIRECT_NUMBER,
    }
    status, _ = deployed.api.twilio_post("/voice/incoming", params, token="not-the-stack-token")
    assert status == 403
