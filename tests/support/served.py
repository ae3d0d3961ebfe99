"""`dialin serve` as its own process, as a user starts it: free ports, the embedded DynamoDB,
the demo seed, its output read line by line (bounded in time)."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dialin_tools import cli

STARTUP_SECONDS = 90  # a bound, not an expectation: the machine may be busy
DIALIN = Path(sys.executable).with_name("dialin")
ROOT = Path(__file__).resolve().parents[2]
LOCAL_URL = re.compile(r"http://127(?:\.\d{1,3}){3}:\d+")  # any loopback address


def pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Queue a process's output lines as they come; None when it closes."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def read_until(
    lines: queue.Queue[str | None], seen: list[str], until: re.Pattern[str], seconds: float
) -> re.Match[str] | None:
    """Collect queued lines into ``seen`` until one matches ``until`` (bounded in time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if line is None:
            return None
        seen.append(line)
        match = until.search(line)
        if match:
            return match
    return None


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str = ""
    dynamodb: str = ""
    lines: list[str] = field(default_factory=list)
    banner_end: int = 0
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def read(self, until: re.Pattern[str], seconds: float) -> str:
        """Collect output lines until one matches ``until`` (bounded in time)."""
        match = read_until(self._queue, self.lines, until, seconds)
        if match:
            return match.string
        raise AssertionError("dialin serve did not print the expected line:\n" + "\n".join(self.lines))

    def pump(self) -> None:
        pump(self.process, self._queue)


@contextlib.contextmanager
def dialin_serve(flags: Sequence[str] = (), **settings: str) -> Iterator[Served]:
    """Start `dialin serve` on free ports (``flags``: more options; ``settings``: extra
    environment variables); Ctrl-C it afterwards and check it stopped cleanly."""
    command = [str(DIALIN)] if DIALIN.exists() else [sys.executable, "-m", "dialin_tools.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN", "PIN_PEPPER", "AWS_PROFILE")}
    env.update(settings, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [*command, "serve", "--port", "0", "--dynamodb-port", "0", *flags],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(process)
    threading.Thread(target=served.pump, daemon=True).start()
    try:
        first = served.read(re.compile(r"API on (http://127\.0\.0\.1:\d+)"), STARTUP_SECONDS)
        served.url = _url(first)
        table = served.read(re.compile(r"^DynamoDB: "), STARTUP_SECONDS)
        served.dynamodb = _url(table)  # embedded, or the other server's it shares (--table)
        served.read(re.compile(r"^Ctrl-C stops\.$"), STARTUP_SECONDS)
        served.banner_end = len(served.lines)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    served.read(re.compile(r"^dialin serve: stopped\.$"), 10)
    assert code == 0, "\n".join(served.lines)


def _url(line: str) -> str:
    found = LOCAL_URL.search(line)
    assert found is not None, line
    return found.group(0)


def room(served: Served, *args: str) -> None:
    """``dialin room ARGS`` against ``served``: a signed room callback, answered 200."""
    assert cli.main(["room", *args, "--url", served.url]) == 0
