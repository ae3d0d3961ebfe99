"""The optimal attacker of docs/brute-force.md's bound: 1,000 attested numbers of its own and
1,000 lines with fresh spoofed caller IDs, all dialing in the same second (a burst at the
budget windows' start), against 200 live unscoped PINs with the default settings, through
the real voice handler on moto and a simulated clock. Whatever the count of lines or
attested numbers, the guesses per hour stay within the formula

    G <= StackFailureCeiling + AttestedFailureCeiling + C     (per FailureBudgetWindowSeconds)

where C is the PIN lookups in flight when a ceiling is reached (the voice function's
concurrency; 0 in this sequential simulation), and 200 live 10-digit PINs stay above a year
to even odds. `make attacks` prints the figures (docs/brute-force.md quotes them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.attacker import Campaign, add_pin_numbers, even_odds_guesses, voice_handler_with, watch
from support.voice import TABLE, Clock

from dialin.admin.specs import make_pin_spec
from dialin.admin.table import Admin
from dialin.core.config import Settings
from dialin.core.pins import RECOMMENDED_PIN_LENGTH
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

ATTESTED_LINES = SPOOFED_LINES = 1000
LIVE_PINS = 200
HOURS = 2
HOURS_PER_YEAR = 24 * 365


class Crowd(Campaign):
    """The first ``attested_lines`` lines call from attested numbers of the attacker's own,
    the rest from fresh spoofed caller IDs."""

    attested_lines = ATTESTED_LINES

    def _call(self, line: int, rng: Any) -> float:
        self.attested = line < self.attested_lines
        return super()._call(line, rng)


@pytest.fixture
def stack(empty_table: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    add_pin_numbers(empty_table)
    admin = Admin(empty_table, TABLE, DEV_PIN_PEPPER, clock=clock)
    for n in range(LIVE_PINS):
        admin.add_pin(make_pin_spec(f"Room{n % 20}", now=clock.now))
    from dialin.edge.observability import logger

    level = logger.log_level
    logger.setLevel("ERROR")
    yield voice_handler_with(empty_table, clock, monkeypatch)
    logger.setLevel(level)


def test_the_optimal_attacker_stays_within_the_formula(
    stack: Any, empty_table: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
):
    table = watch(empty_table)
    # A refused line redials when the windows it closed open again (they opened with the burst).
    lines = ATTESTED_LINES + SPOOFED_LINES
    crowd = Crowd(stack, clock, lines, attested=True, stagger=0.001, redial_after=3600)
    crowd.run(HOURS)
    rate = table.lookups() / HOURS
    defaults = Settings.from_env({})
    formula = defaults.stack_ceiling + defaults.attested_ceiling  # C = 0 here
    years = even_odds_guesses(LIVE_PINS, RECOMMENDED_PIN_LENGTH) / rate / HOURS_PER_YEAR
    with capsys.disabled():
        print(
            f"\nthe optimal attacker, {ATTESTED_LINES} attested numbers and {SPOOFED_LINES} spoofed lines"
            f" in one burst, {LIVE_PINS} live PINs, {HOURS} simulated hours:"
            f"\n  {rate:.0f} guesses/hour (formula: {formula} + C), {crowd.calls} calls,"
            f" {crowd.refused_calls} refused; {RECOMMENDED_PIN_LENGTH}-digit PINs:"
            f" even odds after {years:.1f} years"
        )
    assert crowd.joined == 0
    assert rate <= formula
    assert years > 1
