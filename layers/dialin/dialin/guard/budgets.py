"""Who a caller is for brute-force purposes, and the failure budgets every PIN number and the
stack share. Pure rules: no table, no clock (the handler passes ``now``); the counters they
read live in the table (``dialin.guard.defences``).

Attestation (Twilio's ``StirVerstat``) says only that a caller ID was not spoofed, not that
the caller is honest; it decides *whose* counter a failure spends:

- an attested caller (``TN-Validation-Passed-A``): one counter per caller across the stack
  (nobody else can spend it), and the attested callers' own stack-wide budget (anyone can
  buy attested numbers: without it their count would be the attacker's to choose); the
  unattested budgets never apply to it;
- anyone else (any other verstat, none, a withheld number): one counter per (caller, dialed
  number), and the dialed number's and the stack's budgets. Every withheld value is one
  caller, ``withheld``.

Every caller's counter has a 24-hour counter beside it (``daily``), whatever the short
window allows: a caller who keys just under the short lock, window after window, is
locked out by the long one.

A budget is a fixed window of ``window_seconds``: at ``soft`` failures it is *spent* (callers
it applies to get the slow path: one attempt per call, after a pause), at ``hard`` it is
*closed* (they hear "please try again later" until the window ends).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

ATTESTED_VERSTAT = "TN-Validation-Passed-A"
WITHHELD = "withheld"
# What carriers put in From when the number is withheld: Twilio passes these through.
WITHHELD_VALUES = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "private",
        "unknown",
        "unavailable",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
    }
)


def caller_of(from_number: str) -> str:
    """``From`` as the counters see it: every withheld value is the one caller ``withheld``."""
    value = (from_number or "").strip()
    return WITHHELD if value.lower() in WITHHELD_VALUES else value


def is_attested(from_number: str, verstat: str) -> bool:
    return verstat == ATTESTED_VERSTAT and caller_of(from_number) != WITHHELD


class Gate(Enum):
    """What a budget lets an unattested caller do."""

    OPEN = "open"
    SLOW = "slow"  # one attempt per call, after a pause
    CLOSED = "closed"  # "please try again later"


class Windowed(Protocol):
    """A failure counter as the table holds it (``dialin.guard.lockout.Counter``)."""

    @property
    def failures(self) -> int: ...

    @property
    def window_start(self) -> int: ...


@dataclass(frozen=True)
class Budget:
    soft: int
    hard: int
    window_seconds: int

    def gate(self, counter: Windowed | None, now: float) -> Gate:
        if counter is None or now >= counter.window_start + self.window_seconds:
            return Gate.OPEN
        if counter.failures >= self.hard:
            return Gate.CLOSED
        return Gate.SLOW if counter.failures >= self.soft else Gate.OPEN


@dataclass(frozen=True)
class Budgets:
    number: Budget = Budget(soft=20, hard=60, window_seconds=3600)
    stack: Budget = Budget(soft=60, hard=240, window_seconds=3600)
    attested: Budget = Budget(soft=60, hard=240, window_seconds=3600)

    def gate(self, number: Windowed | None, stack: Windowed | None, now: float) -> Gate:
        gates = (self.number.gate(number, now), self.stack.gate(stack, now))
        for worst in (Gate.CLOSED, Gate.SLOW):
            if worst in gates:
                return worst
        return Gate.OPEN


@dataclass(frozen=True)
class Guard:
    """What the brute-force defences decided for this caller (see this module)."""

    attested: bool = False
    locked: bool = False  # the caller's own counters (the short window's or the day's)
    gate: Gate = Gate.OPEN  # the budgets that apply: the attested callers' or the unattested ones
