"""The dial-out function's per-stack call rate: calls placed in a fixed hour, counted in the
table (pk ``RATE#DIALOUT``; the dial-out role may write no other item)."""

from __future__ import annotations

from typing import Any

from ..guard.lockout import FailureCounters, LockoutPolicy

RATE_KEY = {"pk": {"S": "RATE#DIALOUT"}, "sk": {"S": "RATE"}}
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
        return self.counters.record_failure(RATE_KEY, now, policy).failures <= per_hour
