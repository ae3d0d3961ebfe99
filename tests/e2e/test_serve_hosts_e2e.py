"""`dialin serve --dynamodb-host`: the embedded DynamoDB listens where it is told (for
`sam local`'s containers, docs/local.md) and nowhere else, while the API stays where it was."""

from __future__ import annotations

import re
import socket

import boto3
import pytest
from support.served import dialin_serve

from dialin_tools.lib.sample_events import LOCAL_TABLE

OTHER_LOOPBACK = "127.0.0.2"  # loopback (so the dev secrets may serve), not the API's address


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_the_embedded_dynamodb_listens_on_its_own_host():
    if not reachable_bind(OTHER_LOOPBACK):
        pytest.fail(f"{OTHER_LOOPBACK} cannot be bound here: the test needs Linux's 127.0.0.0/8 loopback")
    with dialin_serve(["--dynamodb-host", OTHER_LOOPBACK, "--no-seed"]) as served:
        banner = "\n".join(served.lines)
        found = re.search(rf"DynamoDB: embedded at http://{re.escape(OTHER_LOOPBACK)}:(\d+),", banner)
        assert found, banner
        port = int(found.group(1))
        assert reachable(OTHER_LOOPBACK, port)
        assert not reachable("127.0.0.1", port)  # only where it was told
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://{OTHER_LOOPBACK}:{port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        assert LOCAL_TABLE in client.list_tables()["TableNames"]
        assert served.url.startswith("http://127.0.0.1:")  # the API did not move


def reachable_bind(host: str) -> bool:
    try:
        with socket.create_server((host, 0)):
            return True
    except OSError:
        return False


def test_dynamodb_host_goes_with_the_embedded_dynamodb_only(monkeypatch: pytest.MonkeyPatch, capsys):
    from dialin_tools import cli

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "the-accounts-token")
    monkeypatch.setenv("PIN_PEPPER", "the-stacks-pepper")
    assert cli.main(["serve", "--table", "dialin-prod", "--dynamodb-host", "127.0.0.1"]) == 1
    assert "--dynamodb-host places the embedded DynamoDB" in capsys.readouterr().err
