"""An honest crowd never trips the budgets: 10,000 calls an hour on one PIN number, 2% of
them typing a typo of their PIN before the right one, every caller unattested (the worst
case: attested callers spend no budget) and 5% withheld (one shared counter), through the
real voice handler on moto with a simulated clock. Nobody hears the slow path, "try again
later" or a lockout, and every call joins. Before typos were forgiven the number's budget
(20) was spent by the 20th typo, about six minutes in, and its ceiling (60) closed PIN entry
to every unattested caller about 18 minutes in, for the rest of the hour.

The suite plays the first 20 minutes of that hour (3,333 calls, 67 typos): the same rates,
so the budgets (a fixed window of an hour) reach the same counts at the same moments, and
the slice already carries more typos than the ceiling. ``DIALIN_CROWD_FULL=1`` plays the
whole hour, every call in full (docs/brute-force.md gives both runs).

Every typo call is played in full: only its steps write (a failure, then its refund). A call
without a typo writes nothing (checked), and a right PIN is looked up and joins whatever the
budgets say, so a clean call's fate is its first step, which reads the counters. Those only
rise at a typo step (a refund lowers them again, within the same window) and a later call in
the same gap can only find a window ended; so the first step of the first clean call after
each typo step is played (for withheld callers, who share one counter, also the first
withheld one), and one call in ``SAMPLE`` in full: every state a clean caller met is met, at
a twentieth of the requests (each moto request costs 5-25 ms on 2 busy cores)."""

from __future__ import annotations

import heapq
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.attacker import SECONDS_PER_GUESS, call_in, enter, is_slow_path
from support.twiml import verbs
from support.voice import TABLE, Clock, Handler

from dialin.admin.specs import make_pin_spec
from dialin.admin.table import Admin
from dialin.core.records import Route
from dialin.guard.budgets import WITHHELD, caller_of
from dialin.guard.defences import number_key, stack_key
from dialin.guard.lockout import Counter
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

NUMBER = "+15555550199"
CALLS_PER_HOUR = 10_000
TYPO_SHARE = 0.02
WITHHELD_SHARE = 0.05
PINS = 20
FULL = os.environ.get("DIALIN_CROWD_FULL") == "1"
MINUTES = 60 if FULL else 20
CALLS = CALLS_PER_HOUR * MINUTES // 60
SAMPLE = 1 if FULL else 100


@dataclass
class Dialer:
    n: int
    at: float
    caller: str
    pin: str
    typo: str = ""  # the wrong entry before the PIN ("": none)

    @property
    def sid(self) -> str:
        return f"CA{self.n:032x}"


def typo_of(pin: str, rng: random.Random) -> str:
    """A slip of the finger: one digit changed (four times in five) or two neighbours swapped."""
    pairs = [i for i in range(len(pin) - 1) if pin[i] != pin[i + 1]]
    if rng.random() < 0.2 and pairs:
        i = rng.choice(pairs)
        return pin[:i] + pin[i + 1] + pin[i] + pin[i + 2 :]
    i = rng.randrange(len(pin))
    return pin[:i] + rng.choice([d for d in "0123456789" if d != pin[i]]) + pin[i + 1 :]


def the_crowd(pins: list[str], start: float, rng: random.Random) -> list[Dialer]:
    arrivals = sorted(start + rng.uniform(0, MINUTES * 60) for _ in range(CALLS))
    typos = set(rng.sample(range(CALLS), round(CALLS * TYPO_SHARE)))
    crowd = []
    for n, at in enumerate(arrivals):
        withheld = rng.random() < WITHHELD_SHARE
        caller = (
            "anonymous" if withheld else f"+1{rng.randrange(201, 989)}{rng.randrange(2_000_000, 9_999_999)}"
        )
        pin = rng.choice(pins)
        crowd.append(Dialer(n, at, caller, pin, typo_of(pin, rng) if n in typos else ""))
    return crowd


@pytest.fixture
def town_hall(empty_table: Any, clock: Clock) -> Iterator[list[str]]:
    empty_table.put_item(
        TableName=TABLE, Item=Route(number=NUMBER, mode="pin", room="", attempts=3).to_item()
    )
    admin = Admin(empty_table, TABLE, DEV_PIN_PEPPER, clock=clock)
    pins = [admin.add_pin(make_pin_spec("TownHall", now=clock.now)).pin for _ in range(PINS)]
    from dialin.edge.observability import logger

    level = logger.log_level
    logger.setLevel("ERROR")  # thousands of requests: their log lines would only slow the run
    yield pins
    logger.setLevel(level)


@dataclass
class Run:
    """Plays the crowd's steps in time order. ``failures[kind]``: typo steps played so far
    (kind ``withheld`` only for withheld callers; ``any`` for all)."""

    handler: Handler
    clock: Clock
    writes: list[int]
    failures: dict[str, int] = field(default_factory=lambda: {"any": 0, WITHHELD: 0})
    probed: dict[str, int] = field(default_factory=lambda: {"any": -1, WITHHELD: -1})
    played: int = 0
    joined: int = 0

    def step(self, dialer: Dialer, root: Any, entry: str) -> Any:
        before = self.writes[0]
        if entry:
            root = enter(self.handler, root, dialer.caller, NUMBER, entry, sid=dialer.sid)
        else:
            root = call_in(self.handler, dialer.caller, NUMBER, sid=dialer.sid)
        if not dialer.typo:
            assert self.writes[0] == before, "a call without a typo wrote to the table"
        if entry == dialer.pin:
            assert root.find("Connect/Room") is not None, (dialer.n, verbs(root))
            self.joined += 1
        else:
            assert verbs(root) == ["Gather"] and not is_slow_path(root), (dialer.n, entry, verbs(root))
        return root

    def entries(self, dialer: Dialer) -> tuple[str, ...]:
        """What this call is played for: a typo call, a sampled call, in full; the first clean
        call of its kind since a failure, its first step only (the step that decides: a right
        PIN is looked up and joins whatever the budgets say); any other, not at all."""
        if dialer.typo:
            return ("", dialer.typo, dialer.pin)
        if dialer.n % SAMPLE == 0:
            return ("", dialer.pin)
        kind = WITHHELD if caller_of(dialer.caller) == WITHHELD else "any"
        if self.probed[kind] == self.failures[kind] and self.probed["any"] == self.failures["any"]:
            return ()
        self.probed.update({kind: self.failures[kind], "any": self.failures["any"]})
        return ("",)

    def play(self, crowd: list[Dialer]) -> None:
        queue: list[tuple[float, int, int, Any]] = [(d.at, d.n, 0, None) for d in crowd]
        heapq.heapify(queue)
        planned: dict[int, tuple[str, ...]] = {}
        while queue:
            at, n, step, root = heapq.heappop(queue)
            dialer = crowd[n]
            entries = planned.setdefault(n, self.entries(dialer))
            if not entries:
                continue
            self.clock.now = at
            root = self.step(dialer, root, entries[step])
            self.played += step == 0
            if entries[step] == dialer.typo and dialer.typo:
                self.failures["any"] += 1
                self.failures[WITHHELD] += caller_of(dialer.caller) == WITHHELD
            if step + 1 < len(entries):  # the prompt, then the digits typed
                heapq.heappush(queue, (at + SECONDS_PER_GUESS, n, step + 1, root))
            else:
                planned.pop(n)


def test_ten_thousand_honest_calls_an_hour_two_percent_with_a_typo_slow_nobody(
    town_hall: list[str], empty_table: Any, voice_handler: Handler, clock: Clock
):
    writes = [0]

    def written(model: Any, **_: Any) -> None:
        writes[0] += model.name in ("UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem")

    empty_table.meta.events.register("before-parameter-build.dynamodb", written)
    crowd = the_crowd(town_hall, clock.now + 1, random.Random(17))  # noqa: S311 - a reproducible crowd
    run = Run(voice_handler, clock, writes)
    started = time.perf_counter()
    run.play(crowd)
    seconds = time.perf_counter() - started
    typos = sum(1 for d in crowd if d.typo)
    budget = empty_table.get_item(TableName=TABLE, Key=number_key(DEV_PIN_PEPPER, NUMBER)).get("Item")
    print(
        f"\nhonest crowd: {CALLS} calls in {MINUTES} minutes, {typos} with a typo; {run.played} played,"
        f" {run.joined} to the room ({writes[0]} writes), none slowed or refused; the number's budget ends at"
        f" {Counter.from_item(budget).failures if budget else 0} ({seconds:.1f} s)"
    )
    assert typos == round(CALLS * TYPO_SHARE) > 60  # more than the number's ceiling
    assert run.joined == sum(1 for d in crowd if d.typo or d.n % SAMPLE == 0)  # those played in full
    assert budget is not None and Counter.from_item(budget).failures == 0
    stack = empty_table.get_item(TableName=TABLE, Key=stack_key())["Item"]
    assert Counter.from_item(stack).failures == 0
