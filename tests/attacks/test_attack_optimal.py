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

from typing import Any

import pytest
from support.attacker import LIVE_PINS, Campaign, even_odds_guesses, watch
from support.voice import Clock

from dialin.core.config import Settings
from dialin.core.pins import RECOMMENDED_PIN_LENGTH

ATTESTED_LINES = SPOOFED_LINES = 1000
HOURS = 2
HOURS_PER_YEAR = 24 * 365


class Crowd(Campaign):
    """The first ``attested_lines`` lines call from attested numbers of the attacker's own,
    the rest from fresh spoofed caller IDs."""

    attested_lines = ATTESTED_LINES

    def _call(self, line: int, rng: Any) -> float:
        self.attested = line < self.attested_lines
        return super()._call(line, rng)


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
