"""Forgiveness against the attacker who holds one valid PIN, through the real voice handler on
moto and a simulated clock: "wrong, wrong, own PIN, and again" from spoofed caller IDs (and
from attested numbers of its own) gets no guess refunded, so the bound of docs/brute-force.md
holds; guesses that are typos of its own PIN are refunded, but only up to each window's cap,
and they are never more than the ~99 codes next to that PIN, ever.

`make attacks` prints the measured rates (docs/brute-force.md quotes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.attacker import (
    PIN_NUMBERS,
    Campaign,
    add_live_pins,
    add_pin_numbers,
    even_odds_guesses,
    voice_handler_with,
    watch,
)
from support.voice import TABLE, Clock, Handler

from dialin.core.pins import RECOMMENDED_PIN_LENGTH
from dialin.core.records import number_attribute
from dialin.guard.defences import number_key, stack_key
from dialin.guard.forgiveness import PER_WINDOW_FACTOR, typos
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

LINES = 100
ATTESTED_LINES = 10  # each attested number has a counter of its own: the rate scales by line
LIVE_PINS = 200
HOURS = 2
HOURS_PER_YEAR = 24 * 365
# Small budgets, so a short farming run reaches the cap of forgiveness: 10 x 8 a window.
SMALL = {"NUMBER_FAILURE_BUDGET": 4, "NUMBER_FAILURE_CEILING": 8, "STACK_FAILURE_BUDGET": 100}


@pytest.fixture
def pins(empty_table: Any, clock: Clock) -> Iterator[list[str]]:
    add_pin_numbers(empty_table)
    made = add_live_pins(empty_table, clock, LIVE_PINS)
    from dialin.edge.observability import logger

    level = logger.log_level
    logger.setLevel("ERROR")  # thousands of requests: their log lines would only slow the run
    yield made
    logger.setLevel(level)


def guesses_per_hour(
    handler: Handler, client: Any, clock: Clock, lines: int, **kind: Any
) -> tuple[float, int, Campaign]:
    """(wrong PINs looked up per hour, refunds tried, the campaign)."""
    table = watch(client)
    campaign = Campaign(handler, clock, lines, **kind)
    campaign.run(HOURS)
    return (table.lookups() - campaign.own_entries) / HOURS, table.refunds(), campaign


def test_a_pin_holder_gets_no_guess_refunded_and_the_bound_holds(
    pins: list[str],
    empty_table: Any,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    handler = voice_handler_with(empty_table, clock, monkeypatch)
    own = pins[0]
    spoofed, spoofed_refunds, spoofed_run = guesses_per_hour(
        handler, empty_table, clock, LINES, attested=False, own_pin=own
    )
    clock.now += 86_400  # a fresh day
    owned, owned_refunds, owned_run = guesses_per_hour(
        handler, empty_table, clock, ATTESTED_LINES, attested=True, own_pin=own
    )
    per_line = owned / ATTESTED_LINES
    rate = spoofed + per_line * LINES
    # It is after the other 199 PINs.
    years = even_odds_guesses(LIVE_PINS - 1, RECOMMENDED_PIN_LENGTH) / rate / HOURS_PER_YEAR
    report = (
        f"\nthe attacker holding one valid PIN (wrong, wrong, own PIN, again), {LIVE_PINS} live PINs,"
        f" {HOURS} simulated hours:"
        f"\n  {LINES} lines, spoofed unattested caller IDs: {spoofed:.0f} guesses/hour"
        f" ({spoofed_run.calls} calls, {spoofed_run.own_entries} with its own PIN, {spoofed_refunds} refunds)"
        f"\n  attested numbers of its own: {per_line:.1f} guesses/hour each ({owned_run.calls} calls"
        f" from {ATTESTED_LINES}, {owned_refunds} refunds)"
        f"\n  {LINES} lines and {LINES} attested numbers: {rate:.0f} guesses/hour;"
        f" {RECOMMENDED_PIN_LENGTH}-digit PINs: even odds after {years:.1f} years"
    )
    with capsys.disabled():
        print(report)
    assert spoofed_run.joined == owned_run.joined == 0
    assert spoofed_run.own_entries > 0 and owned_run.own_entries > 0
    assert spoofed_refunds == owned_refunds == 0  # its guesses are no typos of its PIN
    # The same bound as without a PIN (docs/brute-force.md): the stack's ceiling per window
    # plus one guess per line in flight, and 10 a window for each attested number.
    assert spoofed <= 240 + LINES
    assert per_line <= 10 * 1.1
    assert rate <= 240 + LINES + LINES * 10 * 1.1
    assert years > 1


def forgiven(client: Any, key: dict[str, Any]) -> int:
    item = client.get_item(TableName=TABLE, Key=key).get("Item") or {}
    return number_attribute(item, "forgiven") or 0


def test_typos_of_its_own_pin_are_refunded_only_to_the_cap_and_are_never_new_codes(
    pins: list[str], empty_table: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    """Typo, typo, own PIN: the typos are forgiven until a window has forgiven ten times its
    ceiling; then they count, and the budgets close the door as for any guess. Every one of
    them is one of the 99 codes next to the PIN it holds, however long it farms."""
    handler = voice_handler_with(empty_table, clock, monkeypatch, **SMALL)
    own = pins[0]
    table = watch(empty_table)
    farm = Campaign(handler, clock, 3, attested=False, own_pin=own, farm=True)
    farm.run(0.5)
    assert farm.codes <= typos(own) and len(typos(own)) <= 9 * RECOMMENDED_PIN_LENGTH + 9
    assert farm.joined == 0 and table.refunds() > 0
    cap = PER_WINDOW_FACTOR * SMALL["NUMBER_FAILURE_CEILING"]
    by_number = [forgiven(empty_table, number_key(DEV_PIN_PEPPER, number)) for number in PIN_NUMBERS]
    assert max(by_number) == cap  # forgiveness stopped at the cap...
    assert forgiven(empty_table, stack_key()) <= PER_WINDOW_FACTOR * 240
    assert farm.slow_calls + farm.refused_calls > 0  # ...and the budgets closed as for any guess
