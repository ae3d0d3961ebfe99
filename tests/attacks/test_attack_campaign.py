"""The simulated campaign: 100 parallel lines against 200 live unscoped PINs on three PIN
numbers, with the default settings, through the real voice handler on moto and a simulated
clock. It measures the guesses (PIN lookups) the attacker gets per hour, once with a fresh
spoofed unattested caller ID on every call and once with 100 attested numbers of its own,
and checks the worst case of docs/brute-force.md: more than a year for even odds.

`make attacks` prints the measured rates (docs/brute-force.md quotes them).
"""

from __future__ import annotations

from typing import Any

import pytest
from support.attacker import LIVE_PINS, Campaign, even_odds_guesses, watch
from support.voice import Clock

from dialin.core.pins import RECOMMENDED_PIN_LENGTH

LINES = 100
HOURS = 2  # two budget windows and lock periods: the steady state, not one lucky burst
HOURS_PER_YEAR = 24 * 365


def measure(stack: Any, empty_table: Any, clock: Clock, attested: bool) -> tuple[float, Campaign]:
    table = watch(empty_table)
    campaign = Campaign(stack, clock, LINES, attested=attested)
    campaign.run(HOURS)
    return table.lookups() / HOURS, campaign


def test_campaign_guesses_per_hour_and_the_worst_case(
    stack: Any, empty_table: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
):
    spoofed, spoofed_run = measure(stack, empty_table, clock, attested=False)
    clock.now += 86_400  # a fresh day: the budgets and locks of the first campaign are over
    owned, owned_run = measure(stack, empty_table, clock, attested=True)
    rate = spoofed + owned
    years = even_odds_guesses(LIVE_PINS, RECOMMENDED_PIN_LENGTH) / rate / HOURS_PER_YEAR
    report = (
        f"\ncampaign, {LINES} lines, {LIVE_PINS} live PINs, {HOURS} simulated hours:"
        f"\n  spoofed unattested caller IDs: {spoofed:.0f} guesses/hour"
        f" ({spoofed_run.calls} calls, {spoofed_run.slow_calls} slowed, {spoofed_run.refused_calls} refused)"
        f"\n  {LINES} attested numbers of its own: {owned:.0f} guesses/hour ({owned_run.calls} calls)"
        f"\n  both at once: {rate:.0f} guesses/hour; {RECOMMENDED_PIN_LENGTH}-digit PINs: even odds after"
        f" {years:.1f} years"
    )
    with capsys.disabled():  # shown by `make attacks`, without the handler's own output
        print(report)
    assert spoofed_run.joined == owned_run.joined == 0
    # The budgets, not the lines, bound unattested guessing: the stack's ceiling per window,
    # plus at most one guess of each call already past its first step when it closed.
    assert spoofed <= 240 + LINES
    # Attested numbers: their own lock alone (10 failures, then an hour).
    assert owned <= LINES * 10 * 1.1
    assert years > 1
