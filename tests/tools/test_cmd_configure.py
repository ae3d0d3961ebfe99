"""`dialin configure-number`, run as the CLI runs it, against a stubbed DescribeStacks and
Twilio faked at the HTTP layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from support.registered import run_registered
from support.stack_stub import BASE, OUTPUTS, STACK, cloudformation
from support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

from dialin_tools.commands.configure_number import cli as cmd_configure

NUMBER = "+15555550100"
DEMO_URL = "https://demo.twilio.com/welcome/voice/"


@dataclass
class Cli:
    twilio: FakeTwilio
    cfn: Any
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        def register(commands: Any) -> None:
            cmd_configure.register(
                commands, cloudformation=lambda region: self.cfn, twilio_http_client=self.twilio
            )

        return run_registered(register, argv, self.capsys)


@pytest.fixture(autouse=True)
def twilio_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account the fake (the ``twilio`` fixture) knows, and no API key."""
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)


@pytest.fixture
def cli(twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(twilio, cloudformation(runs=2), capsys)


def test_configures_the_number_then_a_second_run_changes_nothing(cli: Cli, twilio: FakeTwilio):
    sid = twilio.add_number(NUMBER, voice_url=DEMO_URL)
    code, out, _ = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 0
    [update] = twilio.writes()
    assert (update.method, update.path) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{sid}.json",
    )
    assert update.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert update.data == {
        "VoiceUrl": f"{BASE}/voice/incoming",
        "VoiceFallbackUrl": f"{BASE}/voice/fallback",
        "StatusCallback": f"{BASE}/voice/status",
    }
    assert "Updated 3 setting(s)." in out
    lookup = twilio.sent[0]
    assert (lookup.method, lookup.params["PhoneNumber"]) == ("GET", NUMBER)

    code, out, _ = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 0
    assert len(twilio.writes()) == 1  # nothing more written
    assert "Already configured: nothing to change." in out
    assert out.count("(unchanged)") == len(cmd_configure.numbers.FIELDS)


def test_dry_run_shows_current_and_new_values_and_changes_nothing(cli: Cli, twilio: FakeTwilio):
    sid = twilio.add_number(NUMBER, voice_url=DEMO_URL, voice_method="GET")
    before = dict(twilio.numbers[sid])
    code, out, _ = cli("configure-number", NUMBER, "--stack", STACK, "--dry-run")
    assert code == 0
    assert twilio.writes() == []
    assert twilio.numbers[sid] == before
    lines = out.splitlines()
    voice_url = lines.index(f"  voice_url               {DEMO_URL}")
    assert lines[voice_url + 1] == f"                          -> {BASE}/voice/incoming"
    method = lines.index("  voice_method            GET")
    assert lines[method + 1] == "                          -> POST"
    assert "  voice_fallback_url      (empty)" in lines
    assert "  status_callback_method  POST (unchanged)" in lines
    assert lines[-1] == "Dry run: 4 setting(s) would change; nothing was changed."


def test_fallback_url_output_is_used_when_the_stack_has_it(
    twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]
):
    fallback = "https://fallback.example.com/voice/fallback"
    cli = Cli(twilio, cloudformation({**OUTPUTS, "VoiceFallbackUrl": fallback}), capsys)
    twilio.add_number(NUMBER)
    assert cli("configure-number", NUMBER, "--stack", STACK)[0] == 0
    assert twilio.writes()[0].data["VoiceFallbackUrl"] == fallback


def test_a_twiml_app_and_get_methods_are_replaced(cli: Cli, twilio: FakeTwilio):
    sid = twilio.add_number(
        NUMBER,
        voice_url=f"{BASE}/voice/incoming",
        voice_method="GET",
        voice_fallback_url=f"{BASE}/voice/fallback",
        voice_fallback_method="GET",
        status_callback=f"{BASE}/voice/status",
        status_callback_method="GET",
        voice_application_sid="AP" + "3" * 32,
    )
    assert cli("configure-number", NUMBER, "--stack", STACK)[0] == 0
    assert twilio.writes()[0].data == {
        "VoiceMethod": "POST",
        "VoiceFallbackMethod": "POST",
        "StatusCallbackMethod": "POST",
        "VoiceApplicationSid": "",
    }
    assert twilio.numbers[sid]["voice_application_sid"] == ""


def test_only_the_exact_number_is_changed(cli: Cli, twilio: FakeTwilio):
    """Twilio's PhoneNumber filter matches partial numbers: +4155550100 also finds +14155550100."""
    other = twilio.add_number("+14155550100")
    mine = twilio.add_number("+4155550100")
    assert cli("configure-number", "+4155550100", "--stack", STACK)[0] == 0
    [update] = twilio.writes()
    assert update.path.endswith(f"/{mine}.json")
    assert twilio.numbers[other]["voice_url"] == DEMO_URL


def test_number_not_in_the_account(cli: Cli, twilio: FakeTwilio):
    twilio.add_number("+15555550111")
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert err == f"dialin configure-number: {NUMBER} is not a phone number of this Twilio account\n"
    assert twilio.writes() == []


def test_number_on_a_sip_trunk_is_left_alone(cli: Cli, twilio: FakeTwilio):
    twilio.add_number(NUMBER, trunk_sid="TK" + "4" * 32)
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert "SIP trunk" in err
    assert twilio.writes() == []


@pytest.mark.parametrize("number", ["5555550100", "+1 555 555 0100", "+0555550100", ""])
def test_bad_number_argument_changes_nothing(cli: Cli, twilio: FakeTwilio, number: str):
    code, _, err = cli("configure-number", number, "--stack", STACK)
    assert code == 2
    assert err.startswith("dialin configure-number: NUMBER must be E.164")
    assert twilio.sent == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TWILIO_ACCOUNT_SID": ""}, "set TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "set TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": ""}, "set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET"),
        ({"TWILIO_API_KEY": "SK" + "5" * 32}, "set both TWILIO_API_KEY and TWILIO_API_SECRET"),
    ],
)
def test_missing_twilio_credentials(
    cli: Cli, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert message in err
    assert twilio.sent == []


def test_api_key_credentials(cli: Cli, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch):
    key, secret = "SK" + "5" * 32, "fake-api-secret"
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_API_KEY", key)
    monkeypatch.setenv("TWILIO_API_SECRET", secret)
    twilio.logins = {(key, secret)}
    twilio.add_number(NUMBER)
    assert cli("configure-number", NUMBER, "--stack", STACK)[0] == 0
    assert {s.auth for s in twilio.sent} == {(key, secret)}
    assert all(f"/Accounts/{ACCOUNT_SID}/" in s.path for s in twilio.sent)


def test_rejected_twilio_credentials(cli: Cli, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong")
    twilio.add_number(NUMBER)
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert "HTTP 401 (code 20003)" in err
    assert AUTH_TOKEN not in err and "wrong" not in err


def test_missing_stack(twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]):
    cli = Cli(twilio, cloudformation(missing=True), capsys)
    twilio.add_number(NUMBER)
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert err == (
        f"dialin configure-number: cannot read stack {STACK}: Stack with id {STACK} does not exist\n"
    )
    assert twilio.writes() == []


def test_stack_without_api_outputs(twilio: FakeTwilio, capsys: pytest.CaptureFixture[str]):
    cli = Cli(twilio, cloudformation({"Something": "else"}), capsys)
    twilio.add_number(NUMBER)
    code, _, err = cli("configure-number", NUMBER, "--stack", STACK)
    assert code == 1
    assert "neither VoiceWebhookUrl nor ApiBaseUrl" in err
    assert twilio.writes() == []
