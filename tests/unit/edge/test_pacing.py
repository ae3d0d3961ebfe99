"""edge.pacing: 429 and 5xx retried with capped, jittered backoff inside a batch's deadline;
after a 429 the batch sends nothing new."""

from __future__ import annotations

from dialin.edge.pacing import CAP_SECONDS, DONE, MAX_ATTEMPTS, SKIPPED, Pace


class Time:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pace(time: Time, seconds: float = 5.0) -> Pace:
    # The jitter's upper bound, so the waits are the most backoff allows.
    return Pace(seconds, clock=lambda: time.now, sleep=time.sleep, jitter=lambda low, high: high)


def answers(*statuses: int | None):
    queue = list(statuses)
    tries: list[int | None] = []

    def attempt() -> tuple[str, str, int | None]:
        status = queue.pop(0)
        tries.append(status)
        return ("failed", f"twilio {status}", status) if status else (DONE, "", None)

    return attempt, tries


def test_a_429_is_retried_with_growing_capped_waits_and_throttles_the_batch():
    time = Time()
    batch = pace(time, seconds=60)
    attempt, tries = answers(429, 429, 429, 429, None)
    assert batch.send(attempt) == (DONE, "")
    assert tries == [429, 429, 429, 429, None]
    assert time.slept == [0.25, 0.5, 1.0, 2.0] and max(time.slept) <= CAP_SECONDS
    assert batch.retries == 4 and batch.throttled
    untried, not_sent = answers(None)
    assert batch.send(untried) == (SKIPPED, "throttled") and not_sent == []


def test_a_5xx_is_retried_without_throttling_the_batch():
    time = Time()
    batch = pace(time)
    attempt, tries = answers(503, None)
    assert batch.send(attempt) == (DONE, "")
    assert tries == [503, None] and not batch.throttled


def test_a_refusal_for_good_is_not_retried():
    time = Time()
    batch = pace(time)
    attempt, tries = answers(400)
    assert batch.send(attempt) == ("failed", "twilio 400")
    assert tries == [400] and time.slept == [] and not batch.throttled


def test_retries_stop_at_the_deadline_and_at_max_attempts():
    time = Time()
    batch = pace(time, seconds=1.0)
    attempt, tries = answers(*[503] * MAX_ATTEMPTS)
    assert batch.send(attempt) == ("failed", "twilio 503")
    assert sum(time.slept) <= 1.0 and len(tries) == 3  # waits 0.25, 0.5; 1.0 more would pass it
    time = Time()
    batch = pace(time, seconds=600)
    attempt, tries = answers(*[503] * MAX_ATTEMPTS)
    batch.send(attempt)
    assert len(tries) == MAX_ATTEMPTS


def test_the_default_jitter_waits_at_random_within_the_bound():
    time = Time()
    batch = Pace(60, clock=lambda: time.now, sleep=time.sleep)
    attempt, _ = answers(*[500] * MAX_ATTEMPTS)
    batch.send(attempt)
    bounds = [min(CAP_SECONDS, 0.25 * 2**n) for n in range(len(time.slept))]
    assert all(0 <= wait <= bound for wait, bound in zip(time.slept, bounds, strict=True))


def test_nothing_is_begun_after_the_deadline():
    time = Time()
    batch = pace(time, seconds=3.0)
    time.now = 3.5  # the batch's other requests took that long
    attempt, tries = answers(None)
    assert batch.send(attempt) == (SKIPPED, "out of time") and tries == []
