"""Every log line and every metric, across every flow: no PIN, token, pepper or full number.

Secrets come from Secrets Manager (moto) with random values, as deployed; the local-token
path and the fault paths run too. Both what Powertools prints (logs and EMF metrics) and
every stdlib log record at INFO and above (botocore's included) are searched.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber
from support.callers import (
    ALICE_PIN,
    CALLER,
    DIRECT,
    GUEST_PIN,
    INCOMING,
    PIN_NUMBER,
    fallback_post,
    gather_action,
    twilio_post,
)
from support.observed import Emitted
from support.twiml import parse, verbs
from support.voice import BASE, TABLE, handle, local_settings

from dialin.calls.steps import Speech, Urls, WaitState
from dialin.core.pins import hash_pin
from dialin.core.records import route_key
from dialin.edge.credentials import Credentials, secrets_config
from dialin.edge.dynamo import dynamodb_client
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.seed import load_seed
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER

OTHER_CALLER = "+442079460958"
WITHHELD = "+12025550147"  # a caller who ends up locked out
WRONG_PINS = [
    "314159",
    "271828",
    "161803",
    "141421",
    "173205",
    "223606",
    "244949",
    "264575",
    "282842",
    "300000",
]


def forbidden_strings(token: str, pepper: str) -> list[str]:
    numbers = [CALLER, OTHER_CALLER, WITHHELD, DIRECT, PIN_NUMBER]
    pins = [ALICE_PIN, GUEST_PIN, *WRONG_PINS]
    found = [token, pepper, DEV_AUTH_TOKEN, DEV_PIN_PEPPER, *pins]
    found += [hash_pin(pepper, pin) for pin in pins]
    for number in numbers:
        found += [number, number[1:], quote(number, safe="")]
    return found


@pytest.fixture
def deployed_like(empty_table: Any) -> tuple[VoiceApp, str, str]:
    """An app configured as deployed: both secrets by ARN from Secrets Manager (moto)."""
    token, pepper = f"tok{secrets.token_hex(16)}", f"pep{secrets.token_hex(24)}"
    client = boto3.client("secretsmanager", config=secrets_config())
    twilio = client.create_secret(
        Name="twilio", SecretString=json.dumps({"accountSid": "AC1", "authToken": token})
    )
    pepper_arn = client.create_secret(Name="pepper", SecretString=pepper)["ARN"]
    load_seed(empty_table, TABLE, pepper)
    config = local_settings(TWILIO_SECRET_ARN=twilio["ARN"], PIN_PEPPER_SECRET_ARN=pepper_arn)
    app = VoiceApp.on_table(config, empty_table, Credentials(config, secrets_client=lambda: client))
    return app, token, pepper


def play_every_flow(app: VoiceApp, token: str, dynamodb: Any) -> int:
    """Drive every step and outcome through the real handler; returns how many requests."""
    requests = 0

    def post(url: str, **params: str) -> Any:
        nonlocal requests
        requests += 1
        return parse(handle(app, twilio_post(url, token=token, **params)))

    post(INCOMING, To=DIRECT)  # direct connect
    post(INCOMING, To="+15555550199")  # unknown number
    prompt = post(INCOMING, To=PIN_NUMBER, From=OTHER_CALLER)
    post(gather_action(prompt), To=PIN_NUMBER, From=OTHER_CALLER, Digits=ALICE_PIN)  # personal PIN
    post(gather_action(prompt), To=PIN_NUMBER, From=OTHER_CALLER, Digits=GUEST_PIN)  # guest PIN
    post(gather_action(prompt), To=PIN_NUMBER, From=OTHER_CALLER, Digits="")  # silence
    # A guesser: wrong PINs until locked out, then locked out at the door.
    guesses = iter(WRONG_PINS)
    root = prompt
    while True:
        root = post(INCOMING, To=PIN_NUMBER, From=WITHHELD)
        while verbs(root) == ["Gather"]:
            root = post(gather_action(root), To=PIN_NUMBER, From=WITHHELD, Digits=next(guesses))
        if "too many" in (root.findtext("Say") or ""):
            break
    assert verbs(post(INCOMING, To=PIN_NUMBER, From=WITHHELD)) == ["Say", "Hangup"]
    now = int(app.clock())
    post(Urls(BASE).wait(WaitState("DailyStandup", "phone-0123-x", now, now, 0, Speech())), To=DIRECT)
    post(
        Urls(BASE).wait(WaitState("DailyStandup", "phone-0123-x", now - 900, now - 900, 1, Speech())),
        To=DIRECT,
    )
    # Refused: wrong token, unreadable body.
    assert handle(app, twilio_post(INCOMING, token="wrong", To=DIRECT, Digits=ALICE_PIN))["statusCode"] == 403
    garbage = twilio_post(INCOMING, token=token, To=DIRECT)
    garbage.update(body="%%%", isBase64Encoded=True)
    assert handle(app, garbage)["statusCode"] == 403
    # The fallback, and a malformed item.
    fallback_body = f"ErrorCode=11200&From={quote(CALLER)}&To={quote(PIN_NUMBER)}&Digits={ALICE_PIN}"
    fallback = fallback_post(fallback_body)
    parse(handle(app, fallback))
    dynamodb.put_item(
        TableName=TABLE, Item={**route_key(PIN_NUMBER), "number": {"S": PIN_NUMBER}, "mode": {"S": "x"}}
    )
    post(INCOMING, To=PIN_NUMBER)
    return requests + 3


def play_faults() -> int:
    """DynamoDB throttled and denied, Secrets Manager down: with the local dev credentials."""
    client = dynamodb_client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "batch_get_item", "ProvisionedThroughputExceededException", http_status_code=400
        )
        stubber.add_response("get_item", {})
        stubber.add_client_error("update_item", "AccessDeniedException", http_status_code=400)
        app = VoiceApp.on_table(local_settings(), client, Credentials(local_settings()))
        parse(handle(app, twilio_post(INCOMING, To=PIN_NUMBER, From=CALLER)))
        pin_url = f"{BASE}/voice/pin?a=1&m=3"
        parse(handle(app, twilio_post(pin_url, To=PIN_NUMBER, From=CALLER, Digits=WRONG_PINS[0])))
    secrets_client = boto3.client("secretsmanager", config=secrets_config())
    with Stubber(secrets_client) as stubber:
        stubber.add_client_error("get_secret_value", "InternalServiceError", http_status_code=500)
        config = local_settings(TWILIO_SECRET_ARN="arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf")
        app = VoiceApp.on_table(config, client, Credentials(config, secrets_client=lambda: secrets_client))
        parse(handle(app, twilio_post(INCOMING, To=DIRECT, From=CALLER, Digits=ALICE_PIN)))
    return 3


def test_no_secret_pin_or_number_in_any_log_or_metric(
    deployed_like: tuple[VoiceApp, str, str],
    empty_table: Any,
    emitted: Callable[[], Emitted],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO)
    app, token, pepper = deployed_like
    requests = play_every_flow(app, token, empty_table) + play_faults()
    out = emitted()
    stdlib = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    everything = out.text + "\n" + stdlib
    # What was captured is the real thing: every flow logged and counted.
    metrics = out.metrics()
    assert requests >= 30 and len(out.logs()) >= requests - 5
    for name in (
        "Calls",
        "Connects",
        "PinFailures",
        "PinFailuresByNumber",
        "CallersLockedOut",
        "LockedOutCalls",
    ):
        assert metrics.get(name), name
    for name in ("SignatureRejected", "FallbackAnswered", "RoomNotStarted", "SessionsEnded", "ServiceFaults"):
        assert metrics.get(name), name
    leaks = [secret for secret in forbidden_strings(token, pepper) if secret in everything]
    assert leaks == []
