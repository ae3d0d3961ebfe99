"""The edges: a leaked auth token after rotation, dial-out steered by headers or turned on
premium numbers and personal identities, admin input that reads differently than it is,
imports that fail half-way, `dialin serve` exposed with the public dev token, and the
stack's throttles and WAF."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support.attacker import voice_handler_with
from support.callers import INCOMING, gather_action, twilio_post
from support.dial_events import calls_event, dial_out_module
from support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from support.twiml import parse, said
from support.voice import TABLE, Clock, local_settings

from dialin.admin import bulk, checks, specs
from dialin.admin.table import TRANSACTION_ITEMS, Admin
from dialin.core.config import Settings
from dialin.core.pins import hash_pin
from dialin.core.records import pin_key
from dialin.dialout.app import DialOutApp
from dialin.dialout.rate import CallRate
from dialin.dialout.request import DialOutSettings
from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools import cli
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.errors import Conflict, Invalid
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

API_DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"
STACK_NUMBER = "+14155550100"

# A leaked token, rotated away


def test_a_rotated_out_token_stops_working_after_the_grace(
    aws: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
):
    """Today AWSPREVIOUS is accepted as long as the label exists: rotation never revokes."""
    client = boto3.client("secretsmanager", region_name="us-east-1")

    def secret(token: str) -> str:
        return json.dumps({"accountSid": ACCOUNT_SID, "authToken": token})

    arn = client.create_secret(Name="twilio", SecretString=secret("leaked"))["ARN"]
    pepper = client.create_secret(Name="pepper", SecretString=DEV_PIN_PEPPER)["ARN"]
    client.put_secret_value(SecretId=arn, SecretString=secret("fresh"))
    settings = Settings.from_env(
        {"TWILIO_SECRET_ARN": arn, "PIN_PEPPER_SECRET_ARN": pepper, "TABLE_NAME": TABLE}
    )
    wall, monotonic = Clock(time.time()), Clock(0.0)
    creds = Credentials(settings, clock=monotonic, wall_clock=wall)
    handler = voice_handler_with(dynamodb, Clock(), monkeypatch)
    monkeypatch.setattr(handler.module, "voice", VoiceApp.on_table(settings, dynamodb, creds, clock=Clock()))
    # The request names the secret's account (several accounts: each checked with its own token).
    leaked = twilio_post(INCOMING, token="leaked", To="+15555550101", AccountSid=ACCOUNT_SID)
    assert handler(leaked)["statusCode"] == 200  # within the grace: a rotation in progress
    wall.now += 3601
    monotonic.now += 301  # the cached creation date and previous token have expired
    account = {"To": "+15555550101", "AccountSid": ACCOUNT_SID}
    assert handler(twilio_post(INCOMING, token="leaked", **account))["statusCode"] == 403
    assert handler(twilio_post(INCOMING, token="fresh", **account))["statusCode"] == 200


# Dial-out


@pytest.fixture
def dial(monkeypatch: pytest.MonkeyPatch, clock: Clock, twilio: FakeTwilio) -> Any:
    module = dial_out_module()
    credentials = Credentials(local_settings(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN))

    def dial(body: dict[str, Any], rate: CallRate | None = None, **env: str) -> tuple[int, dict[str, Any]]:
        settings = DialOutSettings.from_env({"DIALOUT_CALLER_NUMBER": STACK_NUMBER, **env})
        app = DialOutApp(settings, credentials, http_client=twilio, clock=clock, rate=rate)
        monkeypatch.setattr(module, "dial_out", app)
        event = calls_event(body, host="evil.example")
        event["requestContext"]["domainName"] = API_DOMAIN
        event["headers"].update({"X-Forwarded-Proto": "http", "X-Forwarded-Port": "8080"})
        response = module.lambda_handler(event, LocalContext("DialOutFunction"))
        return response["statusCode"], json.loads(response["body"])

    dial.twilio = twilio  # type: ignore[attr-defined]
    return dial


def test_forwarded_headers_do_not_steer_dial_out_urls(dial: Any):
    status, _ = dial({"to": "+14155550123", "room": "Board"})
    assert status == 201
    sent = dial.twilio.sent[0].data
    assert sent["StatusCallback"] == f"https://{API_DOMAIN}/Prod/voice/status"
    assert "evil.example" not in json.dumps(sent)


def test_dial_out_cannot_take_a_personal_identity(dial: Any):
    status, body = dial({"to": "+14155550123", "room": "Board", "identity": "alice"})
    assert (status, body["identity"]) == (201, "dialout-alice")


@pytest.mark.parametrize(
    ("body", "env", "field"),
    [
        ({"to": "+12125550123", "room": "Board"}, {}, "to"),  # another area code: not by default
        ({"to": "+18765550123", "room": "Board"}, {}, "to"),  # Jamaica, +1 but not the area
        ({"to": "+19005550123", "room": "Board"}, {"DIALOUT_ALLOWED_PREFIXES": "+1"}, "to"),  # premium
        ({"to": "+447012345678", "room": "Board"}, {"DIALOUT_ALLOWED_PREFIXES": "+44"}, "to"),  # UK 070
        ({"to": "+14155550123", "room": "Board", "from": "+14155550999"}, {}, "from"),  # not ours
        ({"to": "+14155550123", "room": "Board"}, {"DIALOUT_ROOM_PATTERN": "Clinic[0-9]+"}, "room"),
    ],
)
def test_dial_out_stays_within_its_bounds(dial: Any, body: dict[str, Any], env: dict[str, str], field: str):
    status, answer = dial(body, **env)
    assert (status, answer["field"]) == (400, field)
    assert dial.twilio.sent == []


def test_dial_out_calls_per_hour_are_limited(dial: Any, empty_table: Any, clock: Clock):
    rate = CallRate(empty_table, TABLE)
    for _ in range(2):
        assert dial({"to": "+14155550123", "room": "Board"}, rate, DIALOUT_CALLS_PER_HOUR="2")[0] == 201
    status, body = dial({"to": "+14155550123", "room": "Board"}, rate, DIALOUT_CALLS_PER_HOUR="2")
    assert (status, body["error"]) == (429, "rate_limited")
    assert len(dial.twilio.sent) == 2
    clock.now += 3600  # a sliding hour: the calls still hold their places (for 60-65 minutes)
    assert dial({"to": "+14155550123", "room": "Board"}, rate, DIALOUT_CALLS_PER_HOUR="2")[0] == 429
    clock.now += 300
    assert dial({"to": "+14155550123", "room": "Board"}, rate, DIALOUT_CALLS_PER_HOUR="2")[0] == 201


# Admin input


@pytest.mark.parametrize("text", ["Board\u202e1pm", "Board\u2067", "Board\x85", "Board\x9b31m"])
def test_names_that_read_differently_than_they_are_are_refused(text: str):
    with pytest.raises(Invalid):
        checks.check_name(text, "room")
    with pytest.raises(Invalid):
        specs.make_pin_spec(text)


def test_an_e164_check_with_a_trailing_newline_fails():
    with pytest.raises(Invalid):
        checks.check_number("+15551230000\n")


def test_a_failed_import_leaves_no_live_pin_unprinted(empty_table: Any, clock: Clock):
    """Today a file of more than one write batch can fail half-way, after live PINs were
    written but before any was printed."""
    admin = Admin(empty_table, TABLE, DEV_PIN_PEPPER, clock=clock)
    rows = bulk.rows_from_csv("kind,room\n" + "pin,Board\n" * (TRANSACTION_ITEMS + 5))
    printed: list[str] = []
    batches = []

    def second_batch_conflicts(params: dict[str, Any], **_: Any) -> None:
        batches.append(params)
        if len(batches) == 2:  # someone adds one of the second batch's PINs meanwhile
            item = params["TransactItems"][0]["Put"]["Item"]
            empty_table.put_item(TableName=TABLE, Item=item)

    empty_table.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems", second_batch_conflicts
    )
    with pytest.raises(Conflict, match="the first 100 items"):
        admin.import_rows(rows, before_write=lambda plan: printed.extend(new.pin for _, new in plan.pins))
    items = empty_table.scan(TableName=TABLE)["Items"]
    live = {item["pk"]["S"] for item in items if item["pk"]["S"].startswith("PIN#")}
    # The first batch: 50 PINs, each with its room membership item; and the one added meanwhile.
    assert len(live) == TRANSACTION_ITEMS // 2 + 1
    shown = {pin_key(hash_pin(DEV_PIN_PEPPER, pin))["pk"]["S"] for pin in printed}
    assert live <= shown


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--table", "dialin-prod"],
        ["serve", "--host", "0.0.0.0"],  # noqa: S104 - the attack under test
        ["serve", "--dynamodb-host", "0.0.0.0"],  # noqa: S104 - the attack under test
        ["serve", "--dynamodb-host", "172.17.0.1"],  # the Docker bridge is beyond loopback too
        ["serve", "--public-url", "https://tunnel.example"],
    ],
)
def test_serve_refuses_the_public_dev_token_where_others_can_reach_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("PIN_PEPPER", raising=False)
    assert cli.main(argv) == 1
    assert "set TWILIO_AUTH_TOKEN" in capsys.readouterr().err


def test_serve_with_a_table_needs_the_stacks_pepper_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "the-accounts-token")
    monkeypatch.delenv("PIN_PEPPER", raising=False)
    assert cli.main(["serve", "--table", "dialin-prod"]) == 1
    err = capsys.readouterr().err
    assert "set PIN_PEPPER" in err and "TWILIO_AUTH_TOKEN" not in err.split("set ")[1]


# The stack's edges


def test_throttles_are_parameters_and_waf_is_one_parameter_away(template: dict[str, Any]):
    settings = template["Resources"]["VoiceApi"]["Properties"]["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    acl = template["Resources"]["ApiWebAcl"]
    assert acl["Condition"] == "CreateWebAcl"
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert rules["per-ip-rate"]["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "WafRateLimit"}
    # What the signature rule blocks and lets through: tests/infra/test_waf.py evaluates it.
    unsigned = json.dumps(rules["webhooks-without-a-twilio-signature"]["Statement"])
    assert "x-twilio-signature" in unsigned and "/voice/" in unsigned and "/video/" in unsigned
    assert "Block" in rules["webhooks-without-a-twilio-signature"]["Action"]
    association = template["Resources"]["ApiWebAclAssociation"]
    assert association["Condition"] == "AttachWebAcl"


def test_template_defaults_are_the_settings_defaults(template: dict[str, Any]):
    params = template["Parameters"]
    defaults = Settings.from_env({})
    for parameter, setting in (
        ("NumberFailureBudget", "number_budget"),
        ("NumberFailureCeiling", "number_ceiling"),
        ("StackFailureBudget", "stack_budget"),
        ("StackFailureCeiling", "stack_ceiling"),
        ("FailureBudgetWindowSeconds", "budget_window_seconds"),
        ("SlowPathSeconds", "slow_path_seconds"),
        ("TokenRotationGraceSeconds", "token_rotation_grace_seconds"),
    ):
        assert int(params[parameter]["Default"]) == getattr(defaults, setting), parameter
    assert int(params["DialOutCallsPerHour"]["Default"]) == DialOutSettings.from_env({}).calls_per_hour


def test_a_counter_update_denied_is_a_polite_fault_not_uncounted_guessing(
    voice_handler: Any, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
):
    """A guess whose failure cannot be counted ends the call: guessing never goes on uncounted."""
    prompt = parse(voice_handler(twilio_post(INCOMING, To="+15555550101")))

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "UpdateItem")

    monkeypatch.setattr(dynamodb, "update_item", denied)
    answer = parse(voice_handler(twilio_post(gather_action(prompt), To="+15555550101", Digits="1" * 10)))
    assert said(answer) == messages.UNAVAILABLE
