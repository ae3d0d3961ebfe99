"""`dialin` commands run as processes of their own (beside a `dialin serve`), their output
read line by line as it comes, bounded in time."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
from dataclasses import dataclass, field

from support.served import DIALIN, ROOT, STARTUP_SECONDS, pump, read_until


def environment() -> dict[str, str]:
    drop = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE_URL", "PIN_PEPPER", "AWS_PROFILE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Running:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    @classmethod
    def start(cls, *args: str) -> Running:
        command = [str(DIALIN)] if DIALIN.exists() else ["python", "-m", "dialin_tools.cli"]
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [*command, *args],
            cwd=ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running = cls(process)
        threading.Thread(target=pump, args=(process, running._queue), daemon=True).start()
        return running

    def read(self, until: str, seconds: float = STARTUP_SECONDS) -> re.Match[str]:
        """Collect lines until one matches the pattern ``until``."""
        match = read_until(self._queue, self.lines, re.compile(until), seconds)
        if match:
            return match
        self.stop()
        raise AssertionError(f"no line matching {until!r}:\n" + "\n".join(self.lines))

    def finish(self, seconds: float = STARTUP_SECONDS) -> tuple[int, str]:
        """Wait for the process to end: its exit status and all it printed."""
        code = self.process.wait(timeout=seconds)
        while (line := self._queue.get(timeout=seconds)) is not None:
            self.lines.append(line)
        return code, "\n".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
