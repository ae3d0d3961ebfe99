"""Moving and removing phone callers end to end: `dialin serve` as a process, a `dialin call`
that stays in its room, and `dialin callers` acting through the served admin API, whose Calls
API stand-in moves the call (the caller's process hears the new TwiML)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.processes import Running
from support.served import Served, dialin_serve, room

from dialin.speech import messages
from dialin_tools import cli

STAY = "60"  # seconds a caller stays in a room for a move: a bound, not an expectation


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def callers(served: Served, *args: str) -> int:
    return cli.main(["callers", *args, "--url", served.url])


def test_a_caller_moves_to_a_breakout_and_back_then_is_removed(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    room(served, "start", "DailyStandup")
    room(served, "start", "Breakout-2")
    caller = Running.start("call", "--url", served.url, "--to", "+15555550100", "--stay", STAY)
    identity = caller.read(r"joins room DailyStandup as (phone-0123-\w+)").group(1)
    served.read(re.compile(r"/joined 200"), 30)  # its participant-connected callback was handled
    assert (
        callers(served, "move", "--room", "DailyStandup", "--identity", identity, "--to", "Breakout-2") == 0
    )
    assert f"Moved {identity} from room DailyStandup to Breakout-2" in capsys.readouterr().out
    caller.read("Moving you to Breakout-2")
    caller.read(rf"joins room Breakout-2 as {identity}")
    served.read(re.compile(r"/joined 200"), 30)  # connected to the breakout: no longer mid-move
    monkeypatch.setenv("DIALIN_URL", served.url)  # --local: the running `dialin serve`
    move_back = ["callers", "move", "--room", "Breakout-2", "--identity", identity, "--to", "DailyStandup"]
    assert cli.main([*move_back, "--local"]) == 0
    caller.read(rf"joins room DailyStandup as {identity}")
    served.read(re.compile(r"/joined 200"), 30)
    assert callers(served, "remove", "--room", "DailyStandup", "--identity", identity) == 0
    assert f"Removed {identity} (connected) from room DailyStandup" in capsys.readouterr().out
    code, out = caller.finish()
    # `dialin call` counts a call that ends in <Hangup> as not joined (exit 1), whatever came before.
    assert code == 1 and out.rstrip().endswith("the call was hung up."), out
    assert messages.REMOVED in out, out
    assert out.count("joins room") == 3  # never put back in after the removal
    # Refusals: an unknown caller is 1 (refused), and nothing was moved.
    assert callers(served, "remove", "--room", "DailyStandup", "--identity", "nobody") == 1
    assert "no phone caller 'nobody'" in capsys.readouterr().err
