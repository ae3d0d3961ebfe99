"""Run template.yaml's Schedule events while `dialin serve` runs, as EventBridge would: the
scheduled event, at the template's rate (or every ``--schedule-seconds``), into the real
handler (in one of the function's environments: ``environments``)."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from dialin_tools.lib.template import ScheduleEvent


def scheduled_event(function: str, at: dt.datetime) -> dict[str, Any]:
    """The event EventBridge hands a function on a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{function}"],
        "detail": {},
    }


class Schedules:
    """One daemon thread per schedule; ``stop`` ends them all."""

    def __init__(
        self,
        events: list[ScheduleEvent],
        every: float | None,
        invoke: Callable[[str, dict[str, Any]], Any],
        log: Callable[[str], None] = print,
    ) -> None:
        self.events = events
        self.every = every
        self.invoke = invoke  # the functions' environments (``environments.Environments.invoke``)
        self.log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Schedules:
        for event in self.events:
            seconds = self.every if self.every else event.seconds
            thread = threading.Thread(target=self._run, args=(event, seconds), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def run_once(self, event: ScheduleEvent) -> Any:
        return self.invoke(event.function, scheduled_event(event.function, dt.datetime.now(dt.UTC)))

    def _run(self, event: ScheduleEvent, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                result = self.run_once(event)
            except Exception:  # as EventBridge: the run failed, the next one comes anyway
                traceback.print_exc(file=sys.stderr)
                continue
            if isinstance(result, dict) and any(result.values()):
                self.log(f"schedule {event.event} ({event.function}): {result}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
