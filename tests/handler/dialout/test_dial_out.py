"""The real DialOutFunction handler (POST /calls), with Twilio faked at the HTTP layer."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests
from support.callers import twilio_post
from support.dial_events import CALLER_ARN, calls_event, dial_out_module
from support.modules import modules_after_import
from support.observed import Observed
from support.twilio_fake import (
    ACCOUNT_SID,
    API,
    AUTH_TOKEN,
    CALL_SID,
    HANG_UP,
    SILENT,
    Error,
    FakeTwilio,
    as_form,
)
from support.twiml import parse, said, verbs
from support.voice import BASE, Clock, Handler, local_settings

from dialin.core.config import Settings
from dialin.dialout.app import DRY_RUN_CALL_SID, DialOutApp
from dialin.dialout.request import RING_SECONDS, DialOutSettings, country_code, parse_prefixes
from dialin.edge.credentials import Credentials
from dialin.speech import messages
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import signed_twilio_event

CALLER_ID = "+14155550100"  # the stack's DialOutCallerNumber (area +1415, the default allow-list)
CALLEE = "+14155550123"
ROOM = "DailyStandup"


@dataclass
class DialOut:
    """The real functions/dial_out/app.py handler, wired to the fake Twilio and a test clock."""

    module: Any
    twilio: FakeTwilio
    clock: Clock
    monkeypatch: pytest.MonkeyPatch
    credentials: Credentials

    def configure(self, **env: str) -> DialOutApp:
        env = {"DIALOUT_CALLER_NUMBER": CALLER_ID, **env}
        app = DialOutApp(
            DialOutSettings.from_env(env), self.credentials, http_client=self.twilio, clock=self.clock
        )
        self.monkeypatch.setattr(self.module, "dial_out", app)
        return app

    def __call__(self, body: Any = None, event: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        response = self.module.lambda_handler(event or calls_event(body), LocalContext("DialOutFunction"))
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def observed(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Observed:
    return Observed(caplog, capsys)


@pytest.fixture
def dial_out(twilio: FakeTwilio, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> DialOut:
    settings = local_settings(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    handler = DialOut(dial_out_module(), twilio, clock, monkeypatch, Credentials(settings))
    handler.configure()
    return handler


def twiml_of(sent_data: dict[str, Any]) -> ET.Element:
    return ET.fromstring(sent_data["Twiml"])


def test_places_the_call_with_exactly_these_parameters(dial_out: DialOut, twilio: FakeTwilio):
    status, body = dial_out({"to": CALLEE, "room": ROOM, "identity": "dr-jones", "confirm": False})
    assert status == 201
    assert body == {"callSid": CALL_SID, "status": "queued", "room": ROOM, "identity": "dialout-dr-jones"}
    [sent] = twilio.sent
    assert sent.method == "POST"
    assert sent.url == f"{API}/Accounts/{ACCOUNT_SID}/Calls.json"
    assert sent.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert sent.params == {}
    twiml = sent.data.pop("Twiml")
    assert sent.data == {
        "To": CALLEE,
        "From": CALLER_ID,
        "Timeout": str(RING_SECONDS),
        "StatusCallback": f"{BASE}/voice/status",
        "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
    }
    root = ET.fromstring(twiml)
    assert verbs(root) == ["Say", "Connect", "Redirect"]
    assert said(root) == messages.CONNECTING
    room = root.find("Connect/Room")
    assert (room.text, room.get("participantIdentity")) == (ROOM, "dialout-dr-jones")
    redirect = root.find("Redirect")
    assert redirect.get("method") == "POST"
    assert redirect.text.startswith(f"{BASE}/voice/wait?")


def follow_redirect(voice_handler: Handler, url: str) -> ET.Element:
    """Twilio requesting our signed wait URL for the dial-out leg, as it would."""
    parts = urlsplit(url)
    event = signed_twilio_event(
        base_url=f"{parts.scheme}://{parts.netloc}/Prod",
        route=parts.path.removeprefix("/Prod"),
        params={"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "From": CALLER_ID, "To": CALLEE},
        query=parse_qsl(parts.query, keep_blank_values=True),
        stage="Prod",
    )
    return parse(voice_handler(event))


def test_late_answer_to_a_meeting_not_started_waits_like_inbound(
    dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler, clock: Clock
):
    """The TwiML is written before the phone rings; a callee who answers after 25 s and finds
    no meeting must hear "not started" and be held, not "you have left the meeting"."""
    dial_out({"to": CALLEE, "room": ROOM, "confirm": False})
    redirect = twiml_of(twilio.sent[0].data).find("Redirect").text
    clock.now += 25 + 2  # rang 25 s, then "Connecting you" and the <Connect> fell through
    root = follow_redirect(voice_handler, redirect)
    assert messages.NOT_STARTED in said(root)
    assert verbs(root) == ["Say", "Pause", "Connect", "Redirect"]
    assert root.find("Connect/Room").text == ROOM


def test_leg_that_was_in_the_meeting_for_a_while_hears_goodbye(
    dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler, clock: Clock
):
    dial_out({"to": CALLEE, "room": ROOM, "confirm": False})
    redirect = twiml_of(twilio.sent[0].data).find("Redirect").text
    clock.now += 5 + 20 * 60  # answered after 5 s, in the meeting for 20 minutes
    root = follow_redirect(voice_handler, redirect)
    assert said(root) == messages.SESSION_ENDED


def test_defaults_from_and_a_generated_identity(dial_out: DialOut, twilio: FakeTwilio):
    status, body = dial_out({"to": CALLEE, "room": ROOM, "confirm": False})
    assert status == 201
    assert body["identity"].startswith("dialout-0123-")
    assert body["identity"] != "dialout-0123-"
    sent = twilio.sent[0].data
    assert sent["From"] == CALLER_ID
    assert twiml_of(sent).find("Connect/Room").get("participantIdentity") == body["identity"]


def test_request_from_overrides_the_default(dial_out: DialOut, twilio: FakeTwilio):
    dial_out.configure(DIALOUT_FROM_NUMBERS="+15555550111")
    status, _ = dial_out({"to": CALLEE, "room": ROOM, "from": "+15555550111"})
    assert status == 201
    assert twilio.sent[0].data["From"] == "+15555550111"


def test_public_base_url_names_the_callback_urls(dial_out: DialOut, twilio: FakeTwilio):
    dial_out.configure(PUBLIC_BASE_URL="https://voice.example.com/dialin")
    dial_out({"to": CALLEE, "room": ROOM, "confirm": False})
    sent = twilio.sent[0].data
    assert sent["StatusCallback"] == "https://voice.example.com/dialin/voice/status"
    assert twiml_of(sent).find("Redirect").text.startswith("https://voice.example.com/dialin/voice/wait?")


# The allow-list


@pytest.mark.parametrize(
    ("env", "to", "allowed"),
    [
        ({}, "+442071234567", "+1415"),  # default: the caller number's area
        ({}, "+12125550123", "+1415"),
        ({"DIALOUT_ALLOWED_PREFIXES": "+1415, +1628"}, "+12125550123", "+1415, +1628"),
        ({"DIALOUT_ALLOWED_PREFIXES": "+44"}, CALLEE, "+44"),
    ],
)
def test_destination_outside_the_allow_list_is_refused(
    dial_out: DialOut, twilio: FakeTwilio, env: dict[str, str], to: str, allowed: str
):
    dial_out.configure(**env)
    status, body = dial_out({"to": to, "room": ROOM})
    assert status == 400
    assert body["field"] == "to"
    assert body["message"] == f"to is not an allowed destination (allowed prefixes: {allowed})"
    assert twilio.sent == []


def test_allow_list_admits_matching_prefixes(dial_out: DialOut, twilio: FakeTwilio):
    dial_out.configure(DIALOUT_ALLOWED_PREFIXES="+1415,+44")
    assert dial_out({"to": CALLEE, "room": ROOM})[0] == 201
    assert dial_out({"to": "+442071234567", "room": ROOM})[0] == 201
    assert [s.data["To"] for s in twilio.sent] == [CALLEE, "+442071234567"]


def test_without_caller_number_or_prefixes_nobody_is_called(dial_out: DialOut, twilio: FakeTwilio):
    dial_out.configure(DIALOUT_CALLER_NUMBER="")
    status, body = dial_out({"to": CALLEE, "room": ROOM, "from": CALLER_ID})
    assert status == 400
    assert "DialOutAllowedPrefixes" in body["message"]
    status, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (status, body["field"]) == (400, "from")
    assert twilio.sent == []


def test_malformed_prefix_list_fails_closed(dial_out: DialOut, twilio: FakeTwilio):
    dial_out.configure(DIALOUT_ALLOWED_PREFIXES="1415, *")
    status, _ = dial_out({"to": CALLEE, "room": ROOM})
    assert status == 400
    assert twilio.sent == []


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+14155550123", "+1"),
        ("+79161234567", "+7"),
        ("+442071234567", "+44"),
        ("+4915112345678", "+49"),
        ("+35312345678", "+353"),
        ("+97145551234", "+971"),
        ("+8613912345678", "+86"),
        ("+85221234567", "+852"),
        ("not-a-number", ""),
    ],
)
def test_country_code(number: str, code: str):
    assert country_code(number) == code


def test_parse_prefixes():
    assert parse_prefixes(" +1415 ,+44,+1415, 33, +, +1234567890123456") == ("+1415", "+44")


# Bad input


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ("{not json", "", "the body is not valid JSON"),
        ("", "", "the body is not valid JSON"),
        ('["+14155550123"]', "", "the body must be a JSON object"),
        ('{"to": "+14155550123", "room": "R", "rooms": "x"}', "", "unknown field(s): rooms"),
        ('{"to": 14155550123, "room": "R"}', "to", "to must be a string"),
        ('{"room": "R"}', "to", "to is required"),
        ('{"to": "4155550123", "room": "R"}', "to", "to must be an E.164 number"),
        ('{"to": "+14155550123", "room": "R", "from": "+1 555"}', "from", "from must be an E.164 number"),
        ('{"to": "+14155550123"}', "room", "room is required"),
        ('{"to": "+14155550123", "room": " "}', "room", "room is empty"),
        ('{"to": "+14155550123", "room": "' + "r" * 129 + '"}', "room", "room is longer than 128"),
        (
            '{"to": "+14155550123", "room": "a\\u0007b"}',
            "room",
            "room contains control or bidirectional formatting characters",
        ),
        ('{"to": "+14155550123", "room": "R", "identity": ""}', "identity", "identity is empty"),
        (
            '{"to": "+14155550123", "room": "R", "identity": "\\ud800"}',
            "identity",
            "identity is not valid UTF-8",
        ),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(
    dial_out: DialOut, twilio: FakeTwilio, raw: str, field: str, message: str
):
    status, body = dial_out(event=calls_event(None, raw=raw))
    assert status == 400
    assert body["error"] == "invalid_request"
    assert body["field"] == field
    assert body["message"].startswith(message)
    assert twilio.sent == []


def test_base64_body_is_read(dial_out: DialOut, twilio: FakeTwilio):
    raw = json.dumps({"to": CALLEE, "room": "Café ☕", "confirm": False}, ensure_ascii=False)
    event = calls_event(None, raw=raw, base64_body=True)
    assert base64.b64decode(event["body"]).decode() == raw
    status, _ = dial_out(event=event)
    assert status == 201
    assert twiml_of(twilio.sent[0].data).find("Connect/Room").text == "Café ☕"


def test_twiml_over_twilios_limit_is_refused(dial_out: DialOut, twilio: FakeTwilio):
    """Only reachable with a long custom base URL: names of 128 characters fit otherwise."""
    wide = "\U0001f600" * 128  # 4 UTF-8 bytes each, percent-encoded in the wait URL
    assert dial_out({"to": CALLEE, "room": wide, "identity": wide[:120], "confirm": False})[0] == 201
    dial_out.configure(PUBLIC_BASE_URL="https://voice.example.com/" + "x" * 700)
    status, body = dial_out({"to": CALLEE, "room": wide, "identity": wide[:120], "confirm": False})
    assert status == 400
    assert "4000" in body["message"]
    assert len(twilio.sent) == 1


def test_other_routes_are_404(dial_out: DialOut):
    event = calls_event({"to": CALLEE, "room": ROOM})
    event["resource"] = event["path"] = "/calls/x"
    assert dial_out(event=event)[0] == 404


# Twilio errors


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (
            Error(400, 21211, "The 'To' number +14155550123 is not a valid phone number."),
            422,
            "twilio_rejected",
        ),
        (
            Error(400, 21210, "The source phone number provided, +15555550100, is not yet verified."),
            422,
            "twilio_rejected",
        ),
        (Error(400, 21215, "Account not authorized to call +14155550123."), 422, "twilio_rejected"),
        (Error(401, 20003, "Authenticate"), 502, "twilio_auth"),
        (Error(429, 20429, "Too Many Requests"), 429, "twilio_rate_limited"),
        (Error(500, 20500, "Internal Server Error"), 502, "twilio_unavailable"),
        (Error(503, text="<html>Service Unavailable</html>"), 502, "twilio_unavailable"),
    ],
)
def test_twilio_errors_map_to_clear_answers_with_twilios_code(
    dial_out: DialOut, twilio: FakeTwilio, error: Error, status: int, kind: str
):
    twilio.call_outcome = error
    answer, body = dial_out({"to": CALLEE, "room": ROOM})
    assert answer == status
    assert body["error"] == kind
    assert body["twilioStatus"] == error.status
    assert body["twilioCode"] == (error.code or error.status)
    assert body["moreInfo"] == f"https://www.twilio.com/docs/errors/{error.code or error.status}"
    assert CALLEE not in body["message"] and CALLER_ID not in body["message"]
    if error.code == 21211:
        assert body["message"].endswith("The 'To' number +1…23 is not a valid phone number.")
    if kind == "twilio_auth":
        assert "Twilio secret" in body["message"]


def test_wrong_token_in_the_secret_is_a_502(dial_out: DialOut, twilio: FakeTwilio):
    twilio.logins = {(ACCOUNT_SID, "the-rotated-token")}
    status, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (status, body["error"], body["twilioCode"]) == (502, "twilio_auth", 20003)


@pytest.mark.parametrize(
    ("outcome", "status", "kind"),
    [
        (SILENT, 504, "twilio_timeout"),  # requests.ReadTimeout
        (HANG_UP, 502, "twilio_unreachable"),  # requests.ConnectionError
    ],
)
def test_network_failures(dial_out: DialOut, twilio: FakeTwilio, outcome: Any, status: int, kind: str):
    twilio.call_outcome = outcome
    twilio.timeout = 0.3  # the client's read timeout; SILENT answers nothing until the fake stops
    answer, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (answer, body["error"]) == (status, kind)


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (requests.ReadTimeout("read timed out"), 504, "twilio_timeout"),
        (requests.ConnectionError("connection refused"), 502, "twilio_unreachable"),
    ],
)
def test_network_failures_raised_by_the_http_client(
    dial_out: DialOut, twilio: FakeTwilio, exc: Exception, status: int, kind: str
):
    twilio.fault = exc
    answer, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (answer, body["error"]) == (status, kind)


def test_unexpected_failure_is_a_json_500(dial_out: DialOut, twilio: FakeTwilio):
    twilio.fault = RuntimeError("a bug")
    status, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (status, body["error"]) == (500, "internal_error")


# Credentials from the stack's secret


def put_secret(value: dict[str, str]) -> Settings:
    arn = boto3.client("secretsmanager").create_secret(Name="twilio", SecretString=json.dumps(value))["ARN"]
    return Settings.from_env({"TWILIO_SECRET_ARN": arn})


def test_credentials_come_from_the_twilio_secret(aws: None, dial_out: DialOut, twilio: FakeTwilio):
    dial_out.credentials = Credentials(put_secret({"accountSid": ACCOUNT_SID, "authToken": AUTH_TOKEN}))
    dial_out.configure()
    assert dial_out({"to": CALLEE, "room": ROOM})[0] == 201
    assert twilio.sent[0].auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert twilio.sent[0].url.startswith(f"{API}/Accounts/{ACCOUNT_SID}/")


def test_placeholder_secret_is_a_503_and_calls_nobody(aws: None, dial_out: DialOut, twilio: FakeTwilio):
    # As the stack creates it, before the real credentials are put in.
    dial_out.credentials = Credentials(put_secret({"accountSid": "ACreplace-me", "authToken": "x" * 32}))
    dial_out.configure()
    status, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (status, body["error"]) == (503, "not_configured")
    assert twilio.sent == []


# Local dry run (`dialin serve`)


def test_dry_run_answers_with_the_request_twilio_would_get(dial_out: DialOut, twilio: FakeTwilio):
    request = {"to": CALLEE, "room": ROOM, "identity": "dr-jones"}
    dial_out({**request})
    real = twilio.sent[0]
    dial_out.configure(DIALOUT_DRY_RUN="true")
    status, body = dial_out(request)
    assert status == 200
    assert len(twilio.sent) == 1  # nothing more reached Twilio
    assert body["dryRun"] is True
    assert body["callSid"] == DRY_RUN_CALL_SID
    assert body["twilioRequest"]["method"] == "POST"
    assert body["twilioRequest"]["url"].endswith("/Calls.json")
    assert as_form(body["twilioRequest"]["data"]) == real.data
    assert AUTH_TOKEN not in json.dumps(body) and ACCOUNT_SID not in json.dumps(body)


# Logs and metrics


def test_logs_name_the_iam_caller_and_no_phone_number(
    dial_out: DialOut, twilio: FakeTwilio, observed: Observed
):
    dial_out({"to": CALLEE, "room": ROOM})
    twilio.call_outcome = Error(400, 21211, f"The 'To' number {CALLEE} is not a valid phone number.")
    dial_out({"to": CALLEE, "room": ROOM})
    dial_out({"to": "+442071234567", "room": ROOM})
    logs = observed.logs()
    placed = next(line for line in logs if line["message"] == "dial-out placed")
    assert placed["caller"] == CALLER_ARN
    assert placed["to"] == "+1…23"
    assert placed["correlation_id"]
    assert [line["message"] for line in logs[1:]] == ["dial-out refused by Twilio", "dial-out rejected"]
    assert observed.metric_totals() == {
        "DialOutRequests": 3,
        "DialOutPlaced": 1,
        "DialOutTwilioErrors": 1,
        "DialOutRejected": 1,
    }
    assert observed.nowhere(CALLEE, CALLER_ID, "+442071234567")
    assert not observed.nowhere("+1…23")  # the probe does see what was written


# Cold start


def test_voice_function_never_imports_the_rest_client():
    loaded = modules_after_import("voice")
    assert "dialin.voice.app" in loaded
    assert "twilio.rest" not in loaded
    assert "dialin.dialout.app" not in loaded


def test_dial_out_function_does_import_it():
    """The check above can fail: the same probe sees twilio.rest where it is used."""
    assert "twilio.rest" in modules_after_import("dial_out")


def test_sam_local_env_json_makes_a_dry_run(dial_out: DialOut, twilio: FakeTwilio):
    env = json.loads((Path(tpl.ROOT) / "events" / "env.json").read_text())["DialOutFunction"]
    dial_out.configure(**env)
    status, body = dial_out({"to": CALLEE, "room": ROOM})
    assert (status, body["dryRun"]) == (200, True)
    assert body["twilioRequest"]["data"]["StatusCallback"] == "http://127.0.0.1:3000/voice/status"
    assert twilio.sent == []


# Confirmed dial-out: the callee hears who calls them into which meeting and presses 1.


def invitation(twilio: FakeTwilio, index: int = 0) -> ET.Element:
    root = twiml_of(twilio.sent[index].data)
    assert verbs(root) == ["Gather", "Hangup"]
    assert root.find(".//Connect") is None  # nothing joins before the key press
    return root


def test_the_callee_is_invited_and_must_press_1(dial_out: DialOut, twilio: FakeTwilio):
    status, body = dial_out({"to": CALLEE, "room": ROOM, "identity": "dr-jones", "caller": "Dr Smith"})
    assert status == 201 and body["identity"] == "dialout-dr-jones"
    gather = invitation(twilio).find("Gather")
    assert (gather.get("input"), gather.get("numDigits"), gather.get("timeout")) == ("dtmf", "1", "10")
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("action").startswith(f"{BASE}/voice/confirm?")
    text = gather.find("Say").text
    assert text == f"Hello. Dr Smith invites you to join a meeting. {messages.DIAL_OUT_PRESS_ONE}"
    assert ROOM not in text  # the room's name is said only when the request allows it


def test_the_room_is_named_only_on_request_and_in_the_requested_language(
    dial_out: DialOut, twilio: FakeTwilio
):
    dial_out({"to": CALLEE, "room": ROOM, "announceRoom": True, "language": "de-DE"})
    say = invitation(twilio).find("Gather/Say")
    assert say.text == (
        "Hallo. Sie werden zu einer Besprechung eingeladen. Die Besprechung heißt DailyStandup. "
        "Um teilzunehmen, drücken Sie die 1."
    )
    assert (say.get("voice"), say.get("language")) == ("Polly.Vicki", "de-DE")


@pytest.mark.parametrize("pressed", ["", "2", "#"])
def test_no_key_or_another_key_ends_the_call_without_joining(
    dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler, clock: Clock, emitted: Any, pressed: str
):
    dial_out({"to": CALLEE, "room": ROOM})
    action = invitation(twilio).find("Gather").get("action")
    emitted()
    clock.now += 40
    root = follow_gather(voice_handler, action, pressed)
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.DIAL_OUT_NOT_CONFIRMED
    assert root.find(".//Connect") is None
    out = emitted()
    assert out.metrics().get("DialOutNotConfirmed") == 1 and "DialOutConfirmed" not in out.metrics()
    assert any(r.get("message") == "dial-out not confirmed" for r in out.logs())


def test_pressing_1_joins_and_falls_through_to_the_wait_step(
    dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler, clock: Clock, emitted: Any
):
    dial_out({"to": CALLEE, "room": ROOM, "identity": "dr-jones"})
    action = invitation(twilio).find("Gather").get("action")
    emitted()
    clock.now += 12
    root = follow_gather(voice_handler, action, "1")
    assert verbs(root) == ["Say", "Connect", "Redirect"] and said(root) == messages.CONNECTING
    room = root.find("Connect/Room")
    assert (room.text, room.get("participantIdentity")) == (ROOM, "dialout-dr-jones")
    assert emitted().metrics().get("DialOutConfirmed") == 1
    clock.now += 3  # the room was not in progress: the same wait step as inbound callers
    waited = follow_redirect(voice_handler, root.find("Redirect").text)
    assert messages.NOT_STARTED in said(waited)


def test_a_confirm_replayed_later_joins_nobody(
    dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler, clock: Clock
):
    """The confirm URL expires like the PIN step's: a signed request replayed an hour later
    (the callee's answer, captured) hears that it took too long, and nothing joins."""
    dial_out({"to": CALLEE, "room": ROOM, "identity": "dr-jones"})
    action = invitation(twilio).find("Gather").get("action")
    assert "&x=" in action or "?x=" in action
    clock.now += 3600
    root = follow_gather(voice_handler, action, "1")
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.STEP_EXPIRED
    assert root.find(".//Connect") is None


def test_a_forged_confirm_is_refused(dial_out: DialOut, twilio: FakeTwilio, voice_handler: Handler):
    dial_out({"to": CALLEE, "room": ROOM})
    action = invitation(twilio).find("Gather").get("action").replace(ROOM, "OtherRoom")
    parts = urlsplit(action)
    event = signed_twilio_event(
        base_url=f"{parts.scheme}://{parts.netloc}/Prod",
        route=parts.path.removeprefix("/Prod"),
        params={
            "CallSid": CALL_SID,
            "AccountSid": ACCOUNT_SID,
            "From": CALLER_ID,
            "To": CALLEE,
            "Digits": "1",
        },
        query=parse_qsl(parts.query, keep_blank_values=True),
        stage="Prod",
        token="not-the-token",
    )
    assert voice_handler(event)["statusCode"] == 403


def test_confirm_must_be_true_or_false(dial_out: DialOut, twilio: FakeTwilio):
    status, body = dial_out({"to": CALLEE, "room": ROOM, "confirm": "no"})
    assert (status, body["field"], body["message"]) == (400, "confirm", "confirm must be true or false")
    status, body = dial_out({"to": CALLEE, "room": ROOM, "language": "German"})
    assert (status, body["field"]) == (400, "language")
    status, body = dial_out({"to": CALLEE, "room": ROOM, "caller": "x" * 129})
    assert (status, body["field"]) == (400, "caller")
    assert twilio.sent == []


def follow_gather(voice_handler: Handler, url: str, pressed: str) -> ET.Element:
    """Twilio posting the callee's key (or none) to the confirm step."""
    params = {"AccountSid": ACCOUNT_SID, "From": CALLER_ID, "To": CALLEE}
    if pressed:
        params["Digits"] = pressed
    return parse(voice_handler(twilio_post(url, CALL_SID, **params)))
