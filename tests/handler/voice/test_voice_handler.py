"""The real VoiceFunction handler, driven with signed API Gateway events, on moto DynamoDB."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.exceptions import ConnectTimeoutError
from support.callers import ALICE_PIN, CALLER, DIRECT, GUEST_PIN, PIN_NUMBER, gather_action, post
from support.twiml import parse, said, verbs
from support.voice import BASE, TABLE, Handler

from dialin.speech import messages
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, signed_twilio_event


def test_unknown_number(voice_handler: Handler):
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To="+15555550999"))
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.UNKNOWN_NUMBER


def test_direct_number_connects(voice_handler: Handler):
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To=DIRECT))
    assert verbs(root) == ["Say", "Connect", "Redirect"]
    room = root.find("Connect/Room")
    assert room.text == "DailyStandup"
    assert room.get("participantIdentity").startswith("phone-0123-")


def test_pin_prompt_then_correct_personal_pin(voice_handler: Handler):
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To=PIN_NUMBER))
    assert verbs(root) == ["Gather"]
    assert root.find("Gather/Say").get("voice") == "Polly.Joanna"
    action = gather_action(root)
    assert action.startswith(f"{BASE}/voice/pin?")
    joined = parse(post(voice_handler, action, To=PIN_NUMBER, Digits=ALICE_PIN))
    room = joined.find("Connect/Room")
    assert room.text == "ClinicRoom1"
    assert room.get("participantIdentity").startswith("alice-")


def test_guest_pin_gets_generated_identity(voice_handler: Handler):
    action = gather_action(parse(post(voice_handler, f"{BASE}/voice/incoming", To=PIN_NUMBER)))
    joined = parse(post(voice_handler, action, To=PIN_NUMBER, Digits=GUEST_PIN))
    assert joined.find("Connect/Room").get("participantIdentity").startswith("guest-0123-")


def test_wrong_pin_three_times_then_goodbye(voice_handler: Handler):
    action = gather_action(parse(post(voice_handler, f"{BASE}/voice/incoming", To=PIN_NUMBER)))
    for wrong in ("999999", "12", ""):
        root = parse(post(voice_handler, action, To=PIN_NUMBER, Digits=wrong))
        if verbs(root) == ["Gather"]:
            action = gather_action(root)
    assert verbs(root) == ["Say", "Hangup"]
    assert said(root) == messages.PIN_FAILED


def test_pin_for_another_number_is_refused(voice_handler: Handler, dynamodb: Any):
    from dialin.core.pins import hash_pin
    from dialin.core.records import PinGrant
    from dialin_tools.lib.apigw import DEV_PIN_PEPPER

    scoped = PinGrant(hash_pin(DEV_PIN_PEPPER, "777777"), room="Elsewhere", number="+15555550150")
    dynamodb.put_item(TableName=TABLE, Item=scoped.to_item())
    action = gather_action(parse(post(voice_handler, f"{BASE}/voice/incoming", To=PIN_NUMBER)))
    root = parse(post(voice_handler, action, To=PIN_NUMBER, Digits="777777"))
    assert verbs(root) == ["Gather"] and messages.PIN_WRONG in said(root)


def test_room_not_started_then_started(voice_handler: Handler):
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To=DIRECT))
    wait_url = root.find("Redirect").text
    # Twilio falls through at once: no in-progress room.
    waiting = parse(post(voice_handler, wait_url, To=DIRECT))
    assert verbs(waiting) == ["Say", "Pause", "Connect", "Redirect"]
    assert said(waiting) == messages.NOT_STARTED
    assert waiting.find("Connect/Room").text == "DailyStandup"


def test_session_ended_hears_goodbye(voice_handler: Handler):
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To=DIRECT))
    wait_url = root.find("Redirect").text
    voice_handler.app.clock.now += 30 * 60  # the caller was in the meeting for half an hour
    ended = parse(post(voice_handler, wait_url, To=DIRECT))
    assert verbs(ended) == ["Say", "Hangup"] and said(ended) == messages.SESSION_ENDED


def test_bad_signature_is_403_and_reads_nothing(voice_handler: Handler, dynamodb: Any):
    event = signed_twilio_event(
        base_url=BASE, route="/voice/incoming", params={"To": DIRECT}, stage="Prod", token="wrong"
    )
    response = voice_handler(event)
    assert response["statusCode"] == 403


def test_tampered_state_in_url_is_403(voice_handler: Handler):
    action = gather_action(parse(post(voice_handler, f"{BASE}/voice/incoming", To=PIN_NUMBER)))
    form = {"CallSid": "CA1", "From": CALLER, "To": PIN_NUMBER, "Digits": "000000"}
    parts = urlsplit(action)
    event = signed_twilio_event(
        base_url=BASE,
        route="/voice/pin",
        params=form,
        stage="Prod",
        query=parse_qsl(parts.query),
    )
    event["queryStringParameters"]["a"] = "1"  # reset the attempt counter after signing
    event["queryStringParameters"]["m"] = "10"
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
    assert voice_handler(event)["statusCode"] == 403


def test_database_failure_is_a_polite_200(voice_handler: Handler, monkeypatch: pytest.MonkeyPatch):
    def timeout(**_: Any):
        raise ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    for operation in ("get_item", "batch_get_item"):
        monkeypatch.setattr(voice_handler.app.directory.client, operation, timeout)
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To=DIRECT))
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.UNAVAILABLE


def test_malformed_item_is_a_polite_200(voice_handler: Handler, dynamodb: Any):
    dynamodb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "ROUTE#+15555550177"}, "sk": {"S": "ROUTE"}, "number": {"N": "1"}},
    )
    root = parse(post(voice_handler, f"{BASE}/voice/incoming", To="+15555550177"))
    assert said(root) == messages.UNAVAILABLE


def test_dev_token_is_the_documented_fake():
    assert "not-a-secret" in DEV_AUTH_TOKEN
