"""The dial-out function's per-stack call rate: a sliding hour, counted in the table (pk
``RATE#DIALOUT``, sk ``RATE``, ``core.keys``; the dial-out role may write no other item).

The item holds one counter per 5-minute slot (``c<slot>``, slot = epoch seconds // 300) and
``expires_at`` (TTL)::

  pk = RATE#DIALOUT, sk = RATE
  c5912340 ... c5912352  N  calls counted in that slot
  expires_at             N  TTL: once the last counted call has left the window

A call is counted first (one atomic ``ADD`` to its slot, answering the item as it now is),
then allowed only if the slots that may hold a call of the last hour, its own slot and the
12 before it, together hold at most the limit (slots after its own, written by a clock a
little ahead, count too); a refused call takes its count back (a second ``ADD``).

Bound: at most ``per_hour`` calls are allowed in any 3,600 s span of their clocks. Take the
allowed call of a span whose count was written last: the item it was answered held every
other allowed call of the span (counted before, never taken back), each in a slot between
its own slot minus 12 and later ones, and it was allowed only if they and it were at most
``per_hour``. The check is conservative, never the other way: a call holds its place for
60 to 65 minutes (the slot's remainder), and a refused call in flight holds one for the
milliseconds until it takes it back.

The proof takes the calls' clocks to agree within a slot (Lambda clocks agree within
milliseconds); a slot is removed only once it is stale for a clock a slot ahead, too.

Cost: one UpdateItem (1 write unit; the item holds at most 15 counters, under 1 KB) per call
placed; a refused call two. Stale slots are removed by the next call's update (the 12 slots
before the window's margin, named blindly); older ones, left by a gap of over an hour, by
one more UpdateItem when a call's answer shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..core.keys import dial_out_rate_key

WINDOW_SECONDS = 3600
SLOT_SECONDS = 300
# Slots before a call's own that may still hold a call of the last hour.
SLOTS_BACK = WINDOW_SECONDS // SLOT_SECONDS
SLOT = re.compile(r"^c([0-9]+)$")


def slot_of(now: int) -> int:
    return now // SLOT_SECONDS


def slot_name(slot: int) -> str:
    return f"c{slot}"


def slot_counts(item: Mapping[str, Any]) -> dict[int, int]:
    """``{slot: calls}`` from the item's ``c<slot>`` attributes."""
    counts = {}
    for name, value in item.items():
        match = SLOT.match(name)
        if match and "N" in value:
            counts[int(match.group(1))] = int(value["N"])
    return counts


def calls_in_window(counts: Mapping[int, int], slot: int) -> int:
    """The calls that may fall in the hour before a call of ``slot``: its slot, the
    ``SLOTS_BACK`` before it and any after it."""
    return sum(calls for counted, calls in counts.items() if counted >= slot - SLOTS_BACK)


class CallRate:
    """Errors from botocore propagate: a call that cannot be counted is not placed."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def allow(self, now: int, per_hour: int) -> bool:
        """Count one call about to be placed; False when the last hour's calls are used up."""
        if per_hour <= 0:
            return False
        slot = slot_of(now)
        # Stale: before the window of a call whose clock is a slot ahead of ours, too.
        oldest = slot - SLOTS_BACK - 1
        counts = slot_counts(self._add(slot, 1, remove=range(oldest - SLOTS_BACK, oldest)))
        stale = [counted for counted in counts if counted < oldest]
        if calls_in_window(counts, slot) > per_hour:
            self._add(slot, -1, remove=stale)
            return False
        if stale:
            self._add(slot, 0, remove=stale)
        return True

    def _add(self, slot: int, calls: int, remove: range | list[int]) -> dict[str, Any]:
        names = {"#slot": slot_name(slot)}
        names.update({f"#old{i}": slot_name(old) for i, old in enumerate(remove) if old != slot})
        expression = "ADD #slot :calls SET expires_at = :expires"
        if len(names) > 1:
            expression += " REMOVE " + ", ".join(name for name in names if name != "#slot")
        answer = self.client.update_item(
            TableName=self.table_name,
            Key=dial_out_rate_key(),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":calls": {"N": str(calls)},
                # One slot to spare: a call whose clock is a little behind may write it last.
                ":expires": {"N": str((slot + 2) * SLOT_SECONDS + WINDOW_SECONDS)},
            },
            ReturnValues="ALL_NEW",
        )
        return dict(answer.get("Attributes", {}))
