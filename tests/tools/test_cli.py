"""The `dialin` argument parsing, and admin commands that are refused before any AWS call."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from dialin_tools import cli
from dialin_tools.commands.admin import cli as cmd_admin
from dialin_tools.commands.admin.targets import LOCAL_ENDPOINT, LOCAL_TABLE
from dialin_tools.commands.call import cli as cmd_call
from dialin_tools.commands.serve import cli as cmd_serve
from dialin_tools.errors import Invalid
from dialin_tools.lib import template as tpl
from dialin_tools.lib.stack import samconfig_defaults


def parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["--local", "route", "add", "+15551230000", "--room", "Board"],
        ["route", "--local", "add", "+15551230000", "--room", "Board"],
        ["route", "add", "--local", "+15551230000", "--room", "Board"],
        ["route", "add", "+15551230000", "--local", "--room", "Board"],
        ["route", "add", "+15551230000", "--room", "Board", "--local"],
    ],
)
def test_local_is_accepted_anywhere(argv: list[str]):
    args = parse(*argv)
    assert args.local is True
    assert (args.handler, args.number, args.room) == (cmd_admin.route_add, "+15551230000", "Board")


@pytest.mark.parametrize(
    ("argv", "handler"),
    [
        (["pin", "list", "--local"], cmd_admin.pin_list),
        (["pin", "--local", "revoke", "0123abcd"], cmd_admin.pin_revoke),
        (["--local", "pin", "add", "--room", "Board"], cmd_admin.pin_add),
        (["route", "remove", "+15551230000", "--local"], cmd_admin.route_remove),
        (["route", "list", "--local"], cmd_admin.route_list),
        (["import", "--local", "dir.csv"], cmd_admin.import_file),
        (["import", "dir.csv", "--local", "--endpoint-url", "http://127.0.0.1:9"], cmd_admin.import_file),
    ],
)
def test_every_admin_command_takes_local(argv: list[str], handler):
    args = parse(*argv)
    assert args.local is True and args.handler is handler


def test_without_local_the_target_is_not_set():
    args = parse("route", "list")
    assert not hasattr(args, "local")
    args = parse("pin", "list", "--stack", "prod", "--region", "eu-west-1")
    assert (args.stack, args.region) == ("prod", "eu-west-1")


def test_local_with_other_commands_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--local", "serve"])
    assert caught.value.code == 2
    assert "--local goes with the admin commands" in capsys.readouterr().err


def test_local_target_is_the_serve_default(tmp_path: Path):
    target = cmd_admin.resolve_target(parse("pin", "list", "--local"))
    assert target.local and target.admin.table == LOCAL_TABLE
    assert target.admin.client.meta.endpoint_url == LOCAL_ENDPOINT
    with pytest.raises(Invalid, match="give one of --local, --stack or --url"):
        cmd_admin.resolve_target(parse("pin", "list", "--local", "--stack", "prod"))
    with pytest.raises(Invalid, match="goes with --local"):
        cmd_admin.resolve_target(parse("pin", "list", "--endpoint-url", "http://127.0.0.1:9"))


def test_samconfig_names_the_default_stack(tmp_path: Path):
    assert samconfig_defaults() == ("twilio-video-dialin", "us-east-1")
    assert samconfig_defaults(tmp_path / "missing.toml") == ("", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["route", "add", "555-0100", "--room", "Board"], "E.164"),
        (["route", "add", "+15551230000", "--room", "x" * 129], "longer than 128"),
        (["route", "add", "+15551230000"], "needs a room"),
        (["route", "remove", "0100"], "E.164"),
        (["pin", "add", "--room", "Board", "--pin", "1234"], "PIN must be 6 to 16 digits"),
        (["pin", "add", "--room", "Board", "--pin", "12345x"], "digits only"),
        (["pin", "add", "--room", "Board", "--identity", "i" * 129], "identity is longer than 128"),
        (["pin", "add", "--room", "Board", "--number", "12"], "E.164"),
        (["pin", "add", "--room", "Board", "--valid-until", "soon"], "ISO-8601"),
        (["route", "add", "+15551230000", "--pin", "--prompt", "PIN_PROMPT"], "--prompt takes NAME=TEXT"),
        (["route", "add", "+15551230000", "--pin", "--prompt", "HELLO=Hi"], "unknown prompt 'HELLO'"),
        (["route", "add", "+15551230000", "--room", "Board", "--spoken-pin"], "applies to PIN numbers"),
        (["route", "add", "+15551230000", "--pin", "--prompts-file", "/nonexistent.json"], "cannot read"),
    ],
)
def test_bad_admin_input_is_refused_before_any_aws_call(argv, message, capsys: pytest.CaptureFixture[str]):
    # --endpoint-url points at a closed port: reaching it would fail differently (exit 2).
    code = cli.main([*argv, "--local", "--endpoint-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_bad_import_file_is_refused_before_any_aws_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "dir.csv"
    path.write_text("kind,number,room\nroute,+1555,Board\n")
    assert cli.main(["import", str(path), "--local", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    assert "line 2: number must be an E.164" in capsys.readouterr().err


def test_unreachable_local_table_is_a_clear_error(capsys: pytest.CaptureFixture[str]):
    assert cli.main(["route", "list", "--local", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "Is `dialin serve` running" in capsys.readouterr().err


def test_call_options():
    args = parse("call", "--to", "+15555550101", "--digits", "1", "2", "--digits", "3", "--room-not-started")
    assert (args.handler, args.digits, args.room_not_started) == (cmd_call.run, ["1", "2", "3"], 1)
    args = parse("call", "--to", "+15555550101", "--room-not-started", "3")
    assert (args.digits, args.room_not_started) == ([], 3)
    assert parse("call", "--to", "+15555550101").room_not_started == 0
    with pytest.raises(SystemExit):
        parse("call", "--to", "+15555550101", "--room-not-started", "-1")


def test_serve_options():
    args = parse("serve")
    assert (args.handler, args.host, args.port, args.dynamodb_port) == (
        cmd_serve.run,
        "127.0.0.1",
        3000,
        8000,
    )
    assert (args.table, args.public_url, args.seed) == ("", "", None)


def test_a_busy_dynamodb_port_gets_the_projects_hint(capsys: pytest.CaptureFixture[str]):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code = cli.main(["serve", "--port", "0", "--dynamodb-port", str(port), "--no-seed"])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.strip() == (
        f"dialin serve: cannot listen on 127.0.0.1:{port} for DynamoDB (Address already in use): "
        "is another `dialin serve` running? Pick another --dynamodb-port"
    )
    assert "in use by another program" not in captured.out + captured.err  # werkzeug's own words


def test_make_run_takes_other_ports():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "run", "PORT=3101", "DYNAMODB_PORT=8101"],  # noqa: S607
        cwd=tpl.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == ".venv/bin/dialin serve --port 3101 --dynamodb-port 8101"
