"""`dialin serve` as a process of its own (free ports, embedded DynamoDB, the demo seed), and
`dialin` commands run as processes beside it, their output read line by line as it comes."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_SECONDS = 90  # a bound, not an expectation: the machine may be busy
DIALIN = Path(sys.executable).with_name("dialin")
ROOT = Path(__file__).resolve().parents[2]


def command() -> list[str]:
    return [str(DIALIN)] if DIALIN.exists() else [sys.executable, "-m", "dialin_tools.cli"]


def environment() -> dict[str, str]:
    drop = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE_URL", "PIN_PEPPER", "AWS_PROFILE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Running:
    """A process whose output lines are collected as they come."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    @classmethod
    def start(cls, *args: str) -> Running:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [*command(), *args],
            cwd=ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running = cls(process)
        threading.Thread(target=running._pump, daemon=True).start()
        return running

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read(self, until: str, seconds: float = STARTUP_SECONDS) -> re.Match[str]:
        """Collect lines until one matches the pattern ``until`` (bounded in time)."""
        pattern = re.compile(until)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(f"no line matching {until!r}:\n" + "\n".join(self.lines))

    def finish(self, seconds: float = STARTUP_SECONDS) -> tuple[int, str]:
        code = self.process.wait(timeout=seconds)
        while True:
            line = self._queue.get(timeout=seconds)
            if line is None:
                break
            self.lines.append(line)
        return code, "\n".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Served:
    running: Running
    url: str
    dynamodb: str


@contextmanager
def serve() -> Iterator[Served]:
    running = Running.start("serve", "--port", "0", "--dynamodb-port", "0")
    try:
        url = running.read(r"API on (http://127\.0\.0\.1:\d+)").group(1)
        dynamodb = running.read(r"DynamoDB: embedded at (http://127\.0\.0\.1:\d+)").group(1)
        running.read(r"^Ctrl-C stops\.$")
        yield Served(running, url, dynamodb)
    finally:
        running.stop()
