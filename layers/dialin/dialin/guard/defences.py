"""The brute-force defences of the PIN steps, on the table: which counters a caller's
failures spend, what they allow at the first step, and counting a failure at the PIN step.

The rules are in ``dialin.guard.lockout`` (a caller's own counter) and ``dialin.guard.budgets`` (who is
attested, the per-number and per-stack budgets); this module only reads and writes them.
Cost: the first step reads every counter that applies with the route (one BatchGetItem),
and each PIN step reads them again with the PIN (one BatchGetItem), so no lookup happens
above a ceiling; a failed PIN updates the caller's two counters and the budgets that apply
(one for an attested caller, two for anyone else); a PIN that matches after typos of it
refunds the same counters (``forgive``), once per call.

Items (``FAIL#`` like every counter, so the voice role writes nothing else; numbers are
never stored, only their HMAC; keys built by ``core.keys``)::

  pk = FAIL#<HMAC(pepper, From)>,           sk = CALLER         attested caller, stack-wide
  pk = FAIL#<HMAC(pepper, From + " " + To)>, sk = CALLER_NUMBER unattested caller on one number
  the same pk,                              sk = ..._DAY        either caller's 24-hour counter
  pk = FAIL#NUMBER#<HMAC(pepper, To)>,      sk = NUMBER         unattested failures on one number
  pk = FAIL#STACK,                          sk = STACK          unattested failures on the stack
  pk = FAIL#STACK,                          sk = ATTESTED       attested failures on the stack
  pk = FAIL#<HMAC(pepper, "refund " + CallSid)>, sk = REFUND    a call's typo refund, once
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.config import Settings
from ..core.keys import (
    attested_budget_key,
    caller_number_counter_key,
    day_counter_key,
    number_budget_key,
    refund_key,
    stack_budget_key,
)
from ..core.records import MalformedRecord
from .budgets import Budget, Budgets, Gate, Guard, caller_of
from .forgiveness import PER_WINDOW_FACTOR, forgivable
from .lockout import AlreadyCounted, Counter, FailureCounters, LockoutPolicy, caller_hash, counter_key

# A call's refund claim outlives any retry of its request (Twilio retries within seconds).
REFUND_CLAIM_SECONDS = 3600
DAY_SECONDS = 86_400


def caller_key(pepper: str, from_number: str, to_number: str, attested: bool) -> dict[str, Any]:
    caller = caller_of(from_number)
    if attested:
        return counter_key(pepper, caller)
    return caller_number_counter_key(caller_hash(pepper, f"{caller} {to_number}"))


def number_key(pepper: str, to_number: str) -> dict[str, Any]:
    return number_budget_key(caller_hash(pepper, to_number))


def stack_key() -> dict[str, Any]:
    return stack_budget_key()


def counting(budget: Budget) -> LockoutPolicy:
    """A budget's counter rules for ``FailureCounters``: a fixed window, no lock beyond it."""
    return LockoutPolicy(max_failures=budget.hard + 1, window_seconds=budget.window_seconds, lock_seconds=0)


@dataclass(frozen=True)
class Caller:
    """One call's identity for the counters: who calls, which number, and whether the
    caller ID is attested."""

    from_number: str
    to_number: str
    attested: bool

    def keys(self, pepper: str) -> list[dict[str, Any]]:
        """Counter keys: the caller's own, its 24-hour one, then the budgets that apply (the
        attested callers' one, or the number's and the stack's)."""
        own = caller_key(pepper, self.from_number, self.to_number, self.attested)
        if self.attested:
            return [own, day_counter_key(own), attested_budget_key()]
        return [own, day_counter_key(own), number_key(pepper, self.to_number), stack_key()]


def daily(limit: int) -> LockoutPolicy:
    """The 24-hour counter: ``limit`` failures in a day lock PIN entry for a day after the last."""
    return LockoutPolicy(max_failures=limit, window_seconds=DAY_SECONDS, lock_seconds=DAY_SECONDS)


DAILY_DEFAULT = daily(20)


def policies(settings: Settings) -> tuple[LockoutPolicy, Budgets]:
    window = settings.budget_window_seconds
    return (
        LockoutPolicy(
            max_failures=settings.lockout_failures,
            window_seconds=settings.lockout_window_seconds,
            lock_seconds=settings.lockout_seconds,
        ),
        Budgets(
            number=Budget(settings.number_budget, settings.number_ceiling, window),
            stack=Budget(settings.stack_budget, settings.stack_ceiling, window),
            attested=Budget(settings.attested_budget, settings.attested_ceiling, window),
        ),
    )


def parse_counter(item: dict[str, Any] | None) -> Counter | None:
    """Raises MalformedRecord for an item without the counter's shape."""
    return Counter.from_item(item) if item is not None else None


@dataclass
class Defences:
    counters: FailureCounters
    lockout: LockoutPolicy
    budgets: Budgets
    day: LockoutPolicy = DAILY_DEFAULT

    def guard(self, caller: Caller, items: list[Counter | None], now: float) -> Guard:
        """The guard from the counters read (in ``Caller.keys`` order): at the first step, with
        the route, and at each PIN step, with the PIN, before it is used."""
        locked = self.lockout.is_locked(items[0], now) or self.day.is_locked(items[1], now)
        if caller.attested:
            return Guard(attested=True, locked=locked, gate=self.budgets.attested.gate(items[2], now))
        return Guard(locked=locked, gate=self.budgets.gate(items[2], items[3], now))

    def count_failure(self, caller: Caller, pepper: str, now: int, request: str = "") -> tuple[Guard, bool]:
        """Count a failed PIN; the guard after it, and True when this failure was new
        (False: a retry of a request already counted, which spends nothing more)."""
        keys = caller.keys(pepper)
        try:
            own = self.counters.record_failure(keys[0], now, self.lockout, request)
        except AlreadyCounted as counted:
            return Guard(attested=caller.attested, locked=self.lockout.is_locked(counted.counter, now)), False
        day = self.counters.record_failure(keys[1], now, self.day)
        locked = self.lockout.is_locked(own, now) or self.day.is_locked(day, now)
        if caller.attested:
            attested = self.counters.record_failure(keys[2], now, counting(self.budgets.attested))
            return Guard(attested=True, locked=locked, gate=self.budgets.attested.gate(attested, now)), True
        number = self.counters.record_failure(keys[2], now, counting(self.budgets.number))
        stack = self.counters.record_failure(keys[3], now, counting(self.budgets.stack))
        return Guard(locked=locked, gate=self.budgets.gate(number, stack, now)), True

    def limits(self, caller: Caller) -> list[int]:
        """Each counter's limit, in ``Caller.keys`` order."""
        own = [self.lockout.max_failures, self.day.max_failures]
        if caller.attested:
            return [*own, self.budgets.attested.hard]
        return [*own, self.budgets.number.hard, self.budgets.stack.hard]

    def forgive(
        self, caller: Caller, pepper: str, call_sid: str, pin: str, failed: tuple[str, ...], since: int
    ) -> tuple[int, int]:
        """``pin`` matched: refund the call's ``failed`` attempts that were typos of it
        (``dialin.guard.forgiveness``) from every counter they spent, each counter at most
        ``PER_WINDOW_FACTOR`` times its limit per window. (typos found, counters refunded)."""
        typos = forgivable(pepper, call_sid, pin, failed)
        if not typos:
            return 0, 0
        claim = refund_key(caller_hash(pepper, f"refund {call_sid}"))
        if not self.counters.claim_refund(claim, since + REFUND_CLAIM_SECONDS):
            return typos, 0  # a retry of this call's request: refunded before
        refunded = 0
        for key, limit in zip(caller.keys(pepper), self.limits(caller), strict=True):
            most = PER_WINDOW_FACTOR * limit
            refunded += self.counters.refund(key, typos, since, most)
        return typos, refunded


__all__ = ["Caller", "Defences", "Gate", "MalformedRecord", "daily", "parse_counter", "policies"]
