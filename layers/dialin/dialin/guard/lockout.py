"""Brute-force lockout: failed PINs counted per caller (the call's ``From``), in the table.

Item (the number itself is never stored)::

  pk = FAIL#<hex HMAC-SHA256(pepper, From)>, sk = CALLER
  failures      N  failed PINs since window_start
  window_start  N  epoch seconds: when the current window began
  last_failure  N  epoch seconds
  last_request  S  the idempotency token of the last failure counted (a retry counts once)
  expires_at    N  TTL: once both the window and any lock are over
  forgiven      N  failures refunded in this window (typos, ``dialin.guard.forgiveness``)

A call refunds once, however often its request is retried and whatever other calls refund
meanwhile: ``claim_refund`` writes its own item first (``pk = FAIL#<HMAC(pepper, "refund "
+ CallSid)>``, ``sk = REFUND``, only ``expires_at``).

A caller is locked out while ``failures >= max_failures`` and ``now < last_failure +
lock_seconds``. A failure inside the window (or during a lock) adds one; the first failure
after the window has passed (and no lock holds) starts a new window at one.

Cost: one conditional UpdateItem per failed PIN; the first failure of a fresh window after
an old one costs a second (the restart). A success writes nothing, unless it forgives typos
made earlier in the call: then its refund claim and one conditional UpdateItem per counter
(``refund``). The lock
is read with the route in the first step's one BatchGetItem (``Directory.route_and_counters``).

Which counters a failure spends (an attested caller's stack-wide, anyone else's per dialed
number, the budgets) and how withheld numbers are counted: ``dialin.guard.budgets`` (the rules)
and ``dialin.guard.defences`` (their items). The same
counter rules also count the budgets (a fixed window, no lock) and dial-out's calls.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..core.keys import CALLER_SK as CALLER_SK  # re-exported
from ..core.keys import caller_counter_key
from ..core.records import MalformedRecord, number_attribute
from ..core.validation import is_e164
from ..edge.dynamo import is_conditional_failure

# Restart and increment can race with another failure of the same caller; a bounded retry.
UPDATE_TRIES = 3


def caller_hash(pepper: str, number: str) -> str:
    return hmac.new(pepper.encode("utf-8"), number.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def counter_key(pepper: str, number: str) -> dict[str, dict[str, str]]:
    return caller_counter_key(caller_hash(pepper, number))


def dialed_label(number: str) -> str:
    """The dialed number as a metric dimension: country hint and last four digits
    (``+1..0101``), never the full number. Anything not E.164 is ``other``."""
    return f"{number[:2]}..{number[-4:]}" if is_e164(number) else "other"


def _required_int(item: Mapping[str, Any], name: str) -> int:
    value = number_attribute(item, name)
    if value is None:
        raise MalformedRecord(f"counter attribute {name} is missing")
    return value


@dataclass(frozen=True)
class Counter:
    failures: int
    window_start: int
    last_failure: int

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Counter:
        return cls(
            failures=_required_int(item, "failures"),
            window_start=_required_int(item, "window_start"),
            last_failure=_required_int(item, "last_failure"),
        )


@dataclass(frozen=True)
class LockoutPolicy:
    """Pure rules: no table, no clock. Times are epoch seconds."""

    max_failures: int = 10
    window_seconds: int = 900
    lock_seconds: int = 3600

    def locked_until(self, counter: Counter | None) -> int | None:
        if counter is None or counter.failures < self.max_failures:
            return None
        return counter.last_failure + self.lock_seconds

    def is_locked(self, counter: Counter | None, now: float) -> bool:
        until = self.locked_until(counter)
        return until is not None and now < until

    def counts_on(self, counter: Counter | None, now: float) -> bool:
        """A failure now adds to ``counter`` (else it starts a new window)."""
        if counter is None:
            return True
        return now < counter.window_start + self.window_seconds or self.is_locked(counter, now)

    def after_failure(self, counter: Counter | None, now: int) -> Counter:
        """What ``FailureCounters.record_failure`` stores: the model the table follows."""
        if counter is not None and self.counts_on(counter, now):
            return Counter(counter.failures + 1, counter.window_start, now)
        return Counter(1, now, now)

    def expires_at(self, now: int) -> int:
        # Late enough that neither the window nor a lock starting now is cut short.
        return now + max(self.window_seconds, self.lock_seconds) + 60


class FailureCounters:
    """Data access for the counters. Errors from botocore propagate to the caller."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def _update(
        self, key: dict[str, Any], restart: bool, now: int, policy: LockoutPolicy, request: str = ""
    ) -> Counter:
        values = {
            ":now": {"N": str(now)},
            ":one": {"N": "1"},
            ":exp": {"N": str(policy.expires_at(now))},
            ":max": {"N": str(policy.max_failures)},
            ":window_floor": {"N": str(now - policy.window_seconds)},
            ":lock_floor": {"N": str(now - policy.lock_seconds)},
        }
        # Mirrors LockoutPolicy.counts_on, evaluated atomically by DynamoDB.
        counts_on = (
            "attribute_not_exists(pk) OR window_start > :window_floor"
            " OR (failures >= :max AND last_failure > :lock_floor)"
        )
        if restart:
            expression = (
                "SET failures = :one, window_start = :now, last_failure = :now, expires_at = :exp"
                " REMOVE forgiven"
            )
            condition = f"NOT ({counts_on})"
        else:
            expression = (
                "SET window_start = if_not_exists(window_start, :now), last_failure = :now,"
                " expires_at = :exp ADD failures :one"
            )
            condition = counts_on
        if request:
            # Twilio's retry of the same request (I-Twilio-Idempotency-Token) counts once.
            values[":req"] = {"S": request}
            expression = expression.replace(
                "last_failure = :now,", "last_failure = :now, last_request = :req,"
            )
            condition = f"({condition}) AND (attribute_not_exists(last_request) OR last_request <> :req)"
        response = self.client.update_item(
            TableName=self.table_name,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return Counter.from_item(response["Attributes"])

    def record_failure(
        self, key: dict[str, Any], now: int, policy: LockoutPolicy, request: str = ""
    ) -> Counter:
        """Count one failed PIN; returns the counter as stored. ``request``: the request's
        idempotency token; a failure already counted under it is not counted again."""
        restart = False
        for _ in range(UPDATE_TRIES - 1):
            try:
                return self._update(key, restart, now, policy, request)
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                restart = not restart  # the other case holds (or a concurrent failure changed it)
        try:
            return self._update(key, restart, now, policy, request)
        except ClientError as exc:
            if not request or not is_conditional_failure(exc):
                raise
            item = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
            if item is None or item.get("last_request", {}).get("S") != request:
                raise
            raise AlreadyCounted(Counter.from_item(item)) from None

    def claim_refund(self, key: dict[str, Any], expires: int) -> bool:
        """The call's refund item written, if it was not already: False means this call (a
        retry of its request) refunded before."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeValues={":exp": {"N": str(expires)}},
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            return False
        return True

    def refund(self, key: dict[str, Any], failures: int, since: int, most: int) -> bool:
        """Take back ``failures`` counted at or after ``since`` (epoch seconds) by one call, if
        they are still in the counter's window (it began by then) and the window has forgiven
        at most ``most`` in all. True when refunded. A missing item (expired) is never created."""
        if failures < 1 or most < failures:
            return False
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD failures :minus, forgiven :k",
                ConditionExpression=(
                    "failures >= :k AND window_start <= :since"
                    " AND (attribute_not_exists(forgiven) OR forgiven <= :room)"
                ),
                ExpressionAttributeValues={
                    ":k": {"N": str(failures)},
                    ":minus": {"N": str(-failures)},
                    ":since": {"N": str(since)},
                    ":room": {"N": str(most - failures)},
                },
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            return False
        return True


class AlreadyCounted(Exception):
    """This request's failure was counted before (a retry): the counter as it stands."""

    def __init__(self, counter: Counter) -> None:
        super().__init__("already counted")
        self.counter = counter
