"""Calls to Twilio's REST API at Twilio's pace.

Twilio limits concurrent REST requests per account (error 20429, HTTP 429) and sometimes
answers 5xx. A request answered so is retried with "full jitter" exponential backoff
(a random wait up to ``base * 2**attempt``, capped) while the batch's deadline allows. After
a 429 the batch stops adding load: requests not yet begun are not sent at all (``SKIPPED``),
and whoever runs the batch hands them back to their own retry path (a held caller's hold
loop, the next sweep). Only requests whose repeat is harmless go through here: moving a call
to TwiML it already has is; placing a call is not (dial-out never retries).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DONE = "done"  # answered: moved, gone, or refused for good; the caller reads its own outcome
SKIPPED = "skipped"  # never sent: the account was throttled before its turn

THROTTLED = 429
RETRY_STATUSES = frozenset({THROTTLED, 500, 502, 503, 504})
# Seconds into a batch after which no request is begun (retries included): the last one
# begun may take the REST client's 6 s timeout, and all must end inside the functions' 10 s.
BATCH_SECONDS = 3.0
BASE_SECONDS = 0.25
CAP_SECONDS = 2.0
MAX_ATTEMPTS = 5

# One try: (its outcome, the reason when not done, Twilio's HTTP status or None).
Attempt = Callable[[], tuple[str, str, int | None]]


@dataclass
class Pace:
    """One batch's retry budget, shared by the threads that send it."""

    seconds: float = BATCH_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform
    deadline: float = field(init=False)
    _throttled: threading.Event = field(init=False, default_factory=threading.Event)
    retries: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.deadline = self.clock() + self.seconds

    @property
    def throttled(self) -> bool:
        return self._throttled.is_set()

    @property
    def open(self) -> bool:
        """Whether a request may still be begun: not throttled, not past the deadline."""
        return not self.throttled and self.clock() <= self.deadline

    def send(self, attempt: Attempt) -> tuple[str, str]:
        """``attempt``'s outcome and reason after the retries this batch can afford;
        ``SKIPPED`` when the account was already throttled before it began."""
        if self.throttled:
            return SKIPPED, "throttled"
        if self.clock() > self.deadline:  # its turn came too late in the invocation
            return SKIPPED, "out of time"
        outcome, reason = "", ""
        for n in range(MAX_ATTEMPTS):
            outcome, reason, status = attempt()
            if status not in RETRY_STATUSES:
                return outcome, reason
            if status == THROTTLED:
                self._throttled.set()
            wait = self.jitter(0.0, min(CAP_SECONDS, BASE_SECONDS * 2**n))
            if n == MAX_ATTEMPTS - 1 or self.clock() + wait > self.deadline:
                break
            with self._lock:
                self.retries += 1
            self.sleep(wait)
        return outcome, reason
