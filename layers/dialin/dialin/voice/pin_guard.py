"""The PIN steps' side of the brute-force defences (``dialin.guard``): the counters read
before a PIN is used, a failure counted, a matching PIN's typos forgiven. Apart from
``voice.app`` so each step there stays one read and a decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..calls.call import Call
from ..calls.steps import PinState
from ..core.records import MalformedRecord
from ..core.validation import mask_number
from ..edge import faults
from ..edge.observability import count, logger
from ..guard.budgets import Gate, Guard
from ..guard.defences import Caller, Defences, parse_counter
from ..guard.lockout import Counter


def counter(item: dict[str, Any] | None, where: str) -> Counter | None:
    """A malformed counter (only our bug or a hand edit: callers cannot write it) is
    reported and read as none, so it cannot lock a caller out of direct numbers for
    good; the next failure overwrites it (its conditions fail, so the window restarts)."""
    try:
        return parse_counter(item)
    except MalformedRecord as exc:
        faults.report(where, exc)
        return None


def caller_of(call: Call, state: PinState) -> Caller:
    return Caller(call.from_number, call.to_number, state.attested)


@dataclass
class PinGuard:
    defences: Defences
    pepper: Callable[[], str]  # read when needed (the app's credentials, cached there)

    def before_lookup(
        self, call: Call, state: PinState, items: list[dict[str, Any] | None], now: float
    ) -> Guard:
        """The guard from the counters read with the PIN: locked out, or a ceiling reached
        (``Gate.CLOSED``), and the PIN is not used, nor the attempt counted."""
        items_read = [counter(item, "pin") for item in items]
        return self.defences.guard(caller_of(call, state), items_read, now)

    def refuses(self, guard: Guard) -> bool:
        return guard.locked or guard.gate is Gate.CLOSED

    def count_failure(self, call: Call, state: PinState, now: int) -> Guard:
        """Record a failed PIN against every counter that applies; the guard after it.

        A failure that cannot be recorded is a fault (the call ends politely): guessing must
        not go on uncounted while the table is throttled.
        """
        pepper = self.pepper()
        guard, new = self.defences.count_failure(caller_of(call, state), pepper, now, call.request_token)
        if not new:
            count("PinFailureRetries")
        elif guard.locked:
            count("CallersLockedOut")
            logger.warning("caller locked out", extra={"step": "pin", "from": mask_number(call.from_number)})
        return guard

    def forgive(self, call: Call, state: PinState) -> None:
        """A PIN that matched: refund this call's failures that were typos of it (none, no
        write). A refund that cannot be written is a fault reported, never the caller's."""
        if not state.failed:
            return
        try:
            pepper = self.pepper()
            typos, refunded = self.defences.forgive(
                caller_of(call, state), pepper, call.sid, call.digits, state.failed, state.failed_since
            )
        except faults.SERVICE_FAULTS as exc:
            faults.report("pin", exc)
            return
        if typos:
            count("PinFailuresForgiven", typos)
        logger.info("pin failures forgiven", extra={"step": "pin", "typos": typos, "counters": refunded})
