"""A crowd through `dialin serve`: room callbacks for one room arriving at once are run by
several execution environments (processes) of the room-events function, as on Lambda, and the
room's state, read back by the runtime's own reader, is exact."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from support.served import Served, dialin_serve

from dialin.rooms.state import Room
from dialin_tools import cli
from dialin_tools.commands.admin.targets import local_client
from dialin_tools.commands.call.phone import FAKE_ACCOUNT_SID
from dialin_tools.commands.room.cli import callback_params
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, FORM, twilio_signature
from dialin_tools.lib.sample_events import LOCAL_TABLE

ROOM = "Assembly"
AT_ONCE = 50


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def post_callback(served: Served, action: str, identity: str = "", room: str = ROOM) -> int:
    url = f"{served.url}/video/status"
    params = callback_params(action, room, identity, FAKE_ACCOUNT_SID, time.time())
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=urlencode(params).encode(),
        headers={"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(url, params, DEV_AUTH_TOKEN)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - our own loopback server
        return int(answer.status)


def at_once(served: Served, calls: list[tuple[str, str]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=len(calls)) as threads:
        return list(threads.map(lambda call: post_callback(served, *call), calls))


def room_state(served: Served) -> Room:
    key = {"pk": {"S": f"ROOM#{FAKE_ACCOUNT_SID}#{ROOM}"}, "sk": {"S": "STATE"}}
    item = local_client(served.dynamodb).get_item(TableName=LOCAL_TABLE, Key=key, ConsistentRead=True)
    return Room.from_item(item["Item"])


def environments_of(served: Served) -> int:
    """The server's execution environments: its child processes started by multiprocessing."""
    found = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(status.read_text().rsplit(") ", 1)[1].split()[1])
            command = (status.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        found += parent == served.process.pid and b"multiprocessing" in command
    return found


def test_fifty_callbacks_for_one_room_at_once_are_all_stored(served: Served):
    assert post_callback(served, "start") == 200
    before = environments_of(served)
    joins = [("join", f"guest-{n:02d}") for n in range(AT_ONCE)]
    assert at_once(served, joins) == [200] * AT_ONCE
    assert environments_of(served) > before  # more than one environment ran them
    room = room_state(served)
    assert set(room.others) == {identity for _, identity in joins} and room.phone == {}

    # Half leave while as many others join, all at once, in any order.
    leaving = [("leave", f"guest-{n:02d}") for n in range(0, AT_ONCE, 2)]
    arriving = [("join", f"late-{n:02d}") for n in range(len(leaving))]
    assert at_once(served, leaving + arriving) == [200] * (len(leaving) + len(arriving))
    staying = {f"guest-{n:02d}" for n in range(1, AT_ONCE, 2)} | {identity for _, identity in arriving}
    assert set(room_state(served).others) == staying


def test_a_second_server_on_the_same_table_is_one_more_environment(served: Served, capsys):
    """docs/local.md: `dialin serve --table dialin-local` with AWS_ENDPOINT_URL_DYNAMODB at the
    first one's embedded DynamoDB serves the same table: calls and callbacks through either."""
    shared = {"AWS_ENDPOINT_URL_DYNAMODB": served.dynamodb}
    with dialin_serve(flags=["--table", LOCAL_TABLE], **shared) as second:
        assert second.dynamodb == served.dynamodb
        assert post_callback(second, "start", room="ClinicRoom1") == 200  # the account sends callbacks
        code = cli.main(["call", "--to", "+15555550101", "--digits", "246810", "--url", second.url])
        out = capsys.readouterr().out
        assert code == 0 and "Joined room ClinicRoom1 as alice-" in out, out
        assert post_callback(second, "join", "through-the-second") == 200
    assert "through-the-second" in room_state(served).others


def test_make_crowd_runs_a_small_crowd_and_reports_it(tmp_path: Path):
    """bench/crowd.py, small: its own dialin serve and Twilio stand-in (a low 429 threshold),
    every caller in its room, the extra callers held until a place frees, the report written."""
    import sys as _sys

    bench = Path(__file__).resolve().parents[2] / "bench"
    _sys.path.insert(0, str(bench))
    try:
        import crowd  # type: ignore[import-not-found]

        argv = ["--rooms", "2", "--callers", "3", "--video", "1", "--hold", "0", "--timeout", "90"]
        argv += ["--environments", "2", "--clients", "8", "--twilio-concurrency", "2"]
        code = crowd.main([*argv, "--result", str(tmp_path / "crowd.json")])
    finally:
        _sys.path.remove(str(bench))
    result = json.loads((tmp_path / "crowd.json").read_text(encoding="utf-8"))
    assert code == 0, result
    assert result["callbacks_lost_or_failed"] == result["callers_with_an_error"] == 0
    assert result["callers_not_in_their_room"] == result["rooms_whose_state_disagrees"] == 0
    assert result["extra_caller"]["joined while full"] == 0
    assert result["extra_caller"]["joined when a place freed"] == 2
    assert result["calls_api"]["updates_accepted"] >= 1 and result["calls_api"]["most_in_flight"] <= 2
