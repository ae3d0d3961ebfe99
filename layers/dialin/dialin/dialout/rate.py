"""The dial-out function's per-stack call rate: calls placed in a fixed hour, counted in the
table (pk ``RATE#DIALOUT``, ``core.keys``; the dial-out role may write no other item)."""

from __future__ import annotations

from typing import Any

from ..core.keys import dial_out_rate_key
from ..guard.lockout import FailureCounters, LockoutPolicy

WINDOW_SECONDS = 3600


class CallRate:
    """Errors from botocore propagate: a call that cannot be counted is not placed."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.counters = FailureCounters(client, table_name)

    def allow(self, now: int, per_hour: int) -> bool:
        """Count one call about to be placed; False when the hour's calls are used up."""
        if per_hour <= 0:
            return False
        policy = LockoutPolicy(max_failures=per_hour + 1, window_seconds=WINDOW_SECONDS, lock_seconds=0)
        return self.counters.record_failure(dial_out_rate_key(), now, policy).failures <= per_hour
