"""Room-aware joining end to end: `dialin serve` as a process, `dialin call` processes that
wait on hold or stay in a room, and `dialin room` posting signed room callbacks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.processes import Running
from support.served import Served, dialin_serve, room

from dialin.speech import messages
from dialin_tools import cli

WAIT = "60"  # seconds a held call waits for its move: a bound, not an expectation


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def call(served: Served, *args: str) -> Running:
    return Running.start("call", "--url", served.url, *args)


def test_a_held_caller_joins_the_moment_the_room_starts(served: Served):
    room(served, "end", "DailyStandup")  # the stack now receives room callbacks
    caller = call(served, "--to", "+15555550100", "--wait-for-move", WAIT)
    caller.read(messages.NOT_STARTED)
    caller.read(r"\(pause, \d+ s\)")
    room(served, "start", "DailyStandup")
    code, out = caller.finish()
    assert code == 0, out
    assert "moved by the Calls API" in out
    assert "joins room DailyStandup as phone-0123-" in out
    assert out.count("POST /voice/") == 1  # one webhook; the move needed no poll
    served.read(re.compile(r"Calls API \(stand-in\): CA\w+… moved: <Connect> to room DailyStandup"), 30)


def test_a_full_room_holds_the_next_caller_and_a_removed_one_stays_out(served: Served):
    add = ["route", "add", "+15555550170", "--room", "Small", "--phone-limit", "1", "--local"]
    assert cli.main([*add, "--endpoint-url", served.dynamodb]) == 0
    room(served, "start", "Small")
    first = call(served, "--to", "+15555550170", "--stay", WAIT)
    identity = first.read(r"joins room Small as (phone-0123-\w+)").group(1)
    second = call(served, "--to", "+15555550170", "--from", "+14155550999", "--wait-for-move", WAIT)
    second.read(messages.MEETING_FULL)
    room(served, "leave", "Small", identity)  # the host removes the first caller
    code, out = first.finish()
    assert code == 0, out  # it joined: being removed later is no failure to join
    assert "leaves room Small" in out and messages.SESSION_ENDED in out
    assert re.search(r"^Joined room Small as phone-0123-\w+, then left it; the call ended: ", out, re.M), out
    assert out.count("joins room") == 1  # never put back in
    code, out = second.finish()
    assert code == 0, out
    assert "moved by the Calls API" in out and "joins room Small as phone-0999-" in out


def test_a_held_caller_costs_one_webhook_a_minute_in_simulated_time(served: Served):
    """The account sends callbacks, none for this room (not started, or a lost room-created):
    `dialin call` holds, never tries a <Connect>, and gives up at MaxWaitSeconds (600 s of
    simulated time, which `dialin serve`'s clock follows) after one request a minute."""
    room(served, "end", "Elsewhere")
    add = ["route", "add", "+15555550171", "--room", "NoCallbacks", "--local"]
    assert cli.main([*add, "--endpoint-url", served.dynamodb]) == 0
    code, out = call(served, "--to", "+15555550171").finish()
    assert code == 1, out
    assert messages.NOT_STARTED in out and messages.GAVE_UP in out
    assert "<Connect> to room" not in out and "joins room" not in out
    requests = re.split(r"^\[\d+\] POST /voice/\w+ -> 200.*$", out, flags=re.M)[1:]
    assert 9 <= len(requests) <= 11, out  # was 56: a request every 20 s, two per <Connect> try
    held = [sum(int(n) for n in re.findall(r"\(pause, (\d+) s\)", text)) for text in requests]
    assert all(seconds >= 55 for seconds in held[:-1]), held  # each document holds a minute
    assert 590 <= sum(held) <= 600, held  # the goodbye is said inside the last one, at 600 s
