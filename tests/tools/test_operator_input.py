"""An operator's typing mistakes on the `dialin` command line get one clear line, never a
traceback (issue 20)."""

from __future__ import annotations

import argparse

import pytest
from moto import mock_aws

from dialin_tools import cli
from dialin_tools.commands.serve.options import schedule_seconds
from dialin_tools.errors import Invalid
from dialin_tools.lib.faultinject import closed_endpoint
from dialin_tools.lib.stack import cloudformation_client, samconfig_defaults


@pytest.mark.parametrize("port", ["99999", "-1", "http", "65536"])
@pytest.mark.parametrize("option", ["--port", "--dynamodb-port"])
def test_serve_refuses_a_port_that_is_not_one(option: str, port: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", option, port])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "must be a TCP port, 0 to 65535" in err and "Traceback" not in err


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A shell with no AWS region anywhere (as a new operator's may be)."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-config"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))


def test_without_a_region_the_stack_commands_take_samconfigs(no_region: None):
    assert cloudformation_client().meta.region_name == samconfig_defaults()[1] == "us-east-1"


@pytest.mark.parametrize(
    "argv",
    [
        ["dial", "--to", "+15555550142", "--room", "Board", "--stack", "no-such-stack"],
        ["configure-number", "+15555550100", "--stack", "no-such-stack"],
    ],
)
def test_a_stack_command_without_a_region_says_what_is_wrong_in_one_line(
    no_region: None, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-a-real-token")
    with mock_aws():
        code = cli.main(argv)
    err = capsys.readouterr().err
    assert code != 0 and "no-such-stack" in err and "Traceback" not in err and "NoRegionError" not in err, err


def test_cannot_reach_is_exit_2_in_every_command(capsys: pytest.CaptureFixture[str]):
    with closed_endpoint() as url:
        codes = {
            "call": cli.main(["call", "--to", "+15555550100", "--url", url]),
            "dial": cli.main(["dial", "--to", "+15555550142", "--room", "Board", "--url", url]),
            "route list": cli.main(["route", "list", "--local", "--endpoint-url", url]),
            "pin list (admin API)": cli.main(["pin", "list", "--room", "Board", "--url", url]),
        }
    err = capsys.readouterr().err
    assert codes == dict.fromkeys(codes, 2), (codes, err)
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["-1", "0", "abc", "nan", "inf"])
def test_serve_refuses_schedule_seconds_that_are_not_a_positive_time(value: str, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", "--schedule-seconds", value])
    assert stopped.value.code == 2 and "must be a number of seconds above 0" in capsys.readouterr().err


def test_a_bad_schedule_variable_never_breaks_another_command(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("DIALIN_SCHEDULE_SECONDS", "abc")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["room", "--help"])
    assert stopped.value.code == 0 and "Traceback" not in capsys.readouterr().err
    with pytest.raises(Invalid, match="DIALIN_SCHEDULE_SECONDS must be a number of seconds"):
        schedule_seconds(argparse.Namespace(schedule_seconds=None))
    monkeypatch.setenv("DIALIN_SCHEDULE_SECONDS", "2.5")
    assert schedule_seconds(argparse.Namespace(schedule_seconds=None)) == 2.5
