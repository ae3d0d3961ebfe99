"""Forgiving typos, pure: which codes are typos of a PIN, the keyed hashes a failed attempt
leaves in the step URL (never the digits), and how many of a call's failures are forgiven."""

from __future__ import annotations

import random

import pytest

from dialin.calls.steps import PinState, Speech, Urls, query_pairs
from dialin.core.errors import BadState
from dialin.guard.forgiveness import HASH_HEX, PER_CALL, failure_hash, forgivable, is_failure_hash, typos

PEPPER = "pepper"
SID = "CA" + "1" * 32
PIN = "4815162342"


def test_the_typos_of_a_pin_are_one_digit_changed_or_two_neighbours_swapped():
    found = typos("1223")
    assert "9223" in found and "1229" in found  # a digit changed
    assert "2123" in found and "1232" in found  # neighbours swapped
    assert "1223" not in found and "2213" not in found and "122" not in found
    # 9 per digit, plus one per pair of different neighbours (2-2 swapped is no typo).
    assert len(found) == 9 * 4 + 2
    assert len(typos(PIN)) == 9 * 10 + 9


def test_a_failure_leaves_a_short_keyed_hash_salted_by_the_call():
    value = failure_hash(PEPPER, SID, "4815162343")
    assert len(value) == HASH_HEX and is_failure_hash(value)
    assert "4815162343" not in value
    assert failure_hash(PEPPER, "CA" + "2" * 32, "4815162343") != value  # another call
    assert failure_hash("other pepper", SID, "4815162343") != value  # another key


def test_only_typos_of_the_pin_that_matched_are_forgiven():
    typo, swapped = "4815162343", "8415162342"
    guess = "7777777777"
    failed = [failure_hash(PEPPER, SID, code) for code in (typo, guess)]
    assert forgivable(PEPPER, SID, PIN, failed) == 1
    assert forgivable(PEPPER, SID, PIN, [failure_hash(PEPPER, SID, swapped)]) == 1
    assert forgivable(PEPPER, SID, PIN, [failure_hash(PEPPER, SID, guess)]) == 0
    assert forgivable(PEPPER, SID, PIN, []) == 0
    # A hash made in another call never matches in this one.
    assert forgivable(PEPPER, SID, PIN, [failure_hash(PEPPER, "CA" + "2" * 32, typo)]) == 0


def test_at_most_per_call_failures_are_forgiven_in_one_call():
    failed = [failure_hash(PEPPER, SID, code) for code in sorted(typos(PIN))[:5]]
    assert forgivable(PEPPER, SID, PIN, failed) == PER_CALL == 2


def test_random_guesses_are_almost_never_typos():
    """A 32-bit hash: a random guess passes for one of ~99 typos about once in 43 million."""
    rng = random.Random(7)  # noqa: S311 - reproducible guesses
    guesses = [str(rng.randrange(10**9, 10**10)) for _ in range(2000)]
    failed = [failure_hash(PEPPER, SID, code) for code in guesses]
    assert sum(forgivable(PEPPER, SID, PIN, [value]) for value in failed) == 0


def test_the_pin_step_url_carries_the_failures_and_when_they_began():
    state = PinState(attempt=1, max_attempts=3, speech=Speech(), expires=1000)
    after = state.with_failure("0a1b2c3d", 900).with_failure("ffffffff", 950)
    assert after.failed == ("0a1b2c3d", "ffffffff") and after.failed_since == 900
    query = after.query()
    assert query["f"] == "0a1b2c3d.ffffffff" and query["e"] == 900
    url = Urls("https://x").pin(after)
    assert "f=0a1b2c3d.ffffffff" in url
    assert PinState.from_query(dict(query_pairs(query))) == after
    assert "f=" not in Urls("https://x").pin(state)  # no failure, no parameter


@pytest.mark.parametrize("value", ["0A1B2C3D", "0a1b2c3", "0a1b2c3d.", "4815162343", "zzzzzzzz"])
def test_a_malformed_failure_list_is_refused(value: str):
    with pytest.raises(BadState):
        PinState.from_query({"m": "3", "f": value})


def test_no_more_failures_than_attempts():
    with pytest.raises(BadState):
        PinState.from_query({"m": "2", "f": ".".join(["0a1b2c3d"] * 3)})
