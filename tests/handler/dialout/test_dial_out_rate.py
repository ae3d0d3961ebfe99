"""Dial-out's call rate (dialin.dialout.rate): a sliding hour counted in moto's DynamoDB.

The bound: never more than the limit in any 3,600 s span, across slot and hour edges; a
call holds its place for 60 to 65 minutes.
"""

from __future__ import annotations

import random
from typing import Any

from support.voice import TABLE

from dialin.core.keys import dial_out_rate_key
from dialin.dialout.rate import SLOT_SECONDS, WINDOW_SECONDS, CallRate, slot_counts

# On a slot edge (and an hour edge): 1,800,000,000 = 6,000,000 × 300 = 500,000 × 3,600.
EDGE = 1_800_000_000


def _most_in_any_hour(times: list[int]) -> int:
    """The most allowed calls in any closed span of 3,600 s."""
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered if start <= t <= start + WINDOW_SECONDS) for start in ordered), default=0
    )


def _stored(client: Any) -> dict[int, int]:
    item = client.get_item(TableName=TABLE, Key=dial_out_rate_key(), ConsistentRead=True).get("Item", {})
    return slot_counts(item)


def test_a_burst_at_an_hour_edge_gets_no_more_than_the_limit(empty_table: Any):
    """The review's attack: 60 an hour; one call starts an hour, then 200 tries in the 10 s
    before that hour's end and the 11 s after it. A fixed window let 119 through in 21 s;
    the sliding hour lets 59 (the first call holds its place)."""
    rate = CallRate(empty_table, TABLE)
    assert rate.allow(EDGE - WINDOW_SECONDS, 60)
    tries = [EDGE - 10 + i * 21 // 200 for i in range(200)]
    allowed = [now for now in tries if rate.allow(now, 60)]
    assert len(allowed) == 59
    assert all(now < EDGE for now in allowed)  # the first 59, all before the edge
    assert _most_in_any_hour([EDGE - WINDOW_SECONDS, *allowed]) == 60
    assert sum(_stored(empty_table).values()) == 60  # the refused calls took their counts back


def test_no_hour_ever_holds_more_than_the_limit(empty_table: Any):
    """Three hours of tries, bursty and at slot edges, from a seeded schedule: every
    3,600 s span holds at most the limit, and the limit is reached (the window is used)."""
    rate = CallRate(empty_table, TABLE)
    draw = random.Random(18)  # noqa: S311 - a reproducible schedule, not a secret
    tries: list[int] = []
    for _ in range(40):  # bursts of 1-12 tries around random moments, edges included
        moment = EDGE + draw.randrange(0, 3 * WINDOW_SECONDS)
        if draw.random() < 0.5:
            moment -= moment % SLOT_SECONDS  # exactly on a slot edge
        tries += [moment + draw.randrange(-3, 4) for _ in range(draw.randrange(1, 13))]
    allowed = [now for now in sorted(tries) if rate.allow(now, 8)]
    assert _most_in_any_hour(allowed) == 8
    assert len(allowed) >= 16  # calls were allowed again in later hours


def test_a_call_holds_its_place_for_60_to_65_minutes(empty_table: Any):
    rate = CallRate(empty_table, TABLE)
    start = EDGE + 299  # the end of a slot: held 60 minutes and 1 s
    assert [rate.allow(start, 2) for _ in range(3)] == [True, True, False]
    assert rate.allow(start + WINDOW_SECONDS, 2) is False  # exactly an hour later: still held
    assert rate.allow(start + WINDOW_SECONDS + 1, 2) is True  # the next slot: free again
    rate_2 = CallRate(empty_table, TABLE)
    later = EDGE + 10 * WINDOW_SECONDS  # the start of a slot: held 65 minutes
    assert [rate_2.allow(later, 1), rate_2.allow(later, 1)] == [True, False]
    assert rate_2.allow(later + WINDOW_SECONDS + SLOT_SECONDS - 1, 1) is False
    assert rate_2.allow(later + WINDOW_SECONDS + SLOT_SECONDS, 1) is True


def test_a_call_with_a_clock_behind_counts_calls_from_later_slots(empty_table: Any):
    """A call counted from a clock a little ahead (a later slot) is counted by one whose
    clock is behind, so no two clocks together exceed the limit."""
    rate = CallRate(empty_table, TABLE)
    assert rate.allow(EDGE + SLOT_SECONDS, 1) is True
    assert rate.allow(EDGE + SLOT_SECONDS - 1, 1) is False


def test_stale_slots_are_removed_and_the_item_stays_small(empty_table: Any):
    rate = CallRate(empty_table, TABLE)
    for hour in range(3):
        for minute in range(0, 60, 5):
            assert rate.allow(EDGE + hour * WINDOW_SECONDS + minute * 60, 1000)
    assert len(_stored(empty_table)) == WINDOW_SECONDS // SLOT_SECONDS + 2  # the hour and a slot of margin
    much_later = EDGE + 30 * WINDOW_SECONDS  # a gap of over a day: old slots are removed too
    assert rate.allow(much_later, 1000)
    assert _stored(empty_table) == {much_later // SLOT_SECONDS: 1}
    item = empty_table.get_item(TableName=TABLE, Key=dial_out_rate_key())["Item"]
    assert int(item["expires_at"]["N"]) >= much_later + WINDOW_SECONDS + SLOT_SECONDS


def test_a_limit_of_zero_allows_nothing_and_writes_nothing(empty_table: Any):
    assert CallRate(empty_table, TABLE).allow(EDGE, 0) is False
    assert "Item" not in empty_table.get_item(TableName=TABLE, Key=dial_out_rate_key())


def test_concurrent_calls_never_pass_the_limit_together(empty_table: Any, boto_session: Any):
    """Eight invocations at once, each with its own client: each one's count lands while
    the ones before it are still between their count and their check (botocore's after-call
    hook starts the next). With a limit of 3, three are placed and the five others took
    their counts back."""
    outcomes: list[bool] = []

    def invocation(depth: int) -> None:
        client = boto_session.client("dynamodb")
        started = False

        def start_next(**_: Any) -> None:
            nonlocal started
            if not started and depth < 8:
                started = True
                invocation(depth + 1)

        client.meta.events.register("after-call.dynamodb.UpdateItem", start_next)
        outcomes.append(CallRate(client, TABLE).allow(EDGE, 3))

    invocation(1)
    assert sorted(outcomes) == [False] * 5 + [True] * 3
    assert sum(_stored(empty_table).values()) == 3
