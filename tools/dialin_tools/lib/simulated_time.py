"""The call player's simulated time, as `dialin serve` follows it.

`dialin call` never waits for real time: it reports a <Pause> or a <Gather> timeout and goes
on. To keep the call flow's timing true (``MaxWaitSeconds``, the session-ended check), each
of its requests says how many seconds it has simulated so far, in ``SIMULATED_SECONDS_HEADER``.
Only `dialin serve` reads it: it drops the header before building the event, and moves the
clock it injected into the handlers' apps forward by that much for that request alone. The
handlers keep their injected clock and never see the header; a deployed stack ignores it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SIMULATED_SECONDS_HEADER = "X-Dialin-Simulated-Seconds"
MAX_SIMULATED_SECONDS = 86_400  # a day: longer than any call's simulated pauses


def simulated_seconds(value: str | None) -> float:
    """The header's value; anything but a number in [0, a day] counts as none."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    return seconds if 0 <= seconds <= MAX_SIMULATED_SECONDS else 0.0


class SimulatedClock:
    """``clock()`` plus the simulated seconds of the request this thread is serving."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._offset = threading.local()

    def __call__(self) -> float:
        return self.clock() + getattr(self._offset, "seconds", 0.0)

    @contextmanager
    def ahead(self, seconds: float) -> Iterator[None]:
        """Within this block, on this thread, the clock reads ``seconds`` later."""
        self._offset.seconds = seconds
        try:
            yield
        finally:
            self._offset.seconds = 0.0


def follow_simulated_time(module: Any) -> list[SimulatedClock]:
    """Wrap the clock of each app the handler module created at import (the voice function's
    ``voice.clock``, dial-out's ``dial_out.clock``) in a SimulatedClock; once, however often
    it is asked (routes of one function share its module)."""
    clocks = []
    for app in vars(module).values():
        clock = getattr(app, "clock", None)
        if isinstance(app, type) or not callable(clock):
            continue
        if not isinstance(clock, SimulatedClock):
            clock = SimulatedClock(clock)
            app.clock = clock
        clocks.append(clock)
    return clocks
