"""Execution environments for `dialin serve`, as Lambda keeps them: up to N per function, each
a process of its own that imports the function's handler once, so it has its own module,
clients and caches; one invocation at a time per environment, and several at once per
function. A function's first environment starts with the server (its cold start happens
in the background); more start on demand, when every existing one is busy, up to the limit;
beyond it a request waits for the first environment to come free (Lambda would throttle).

`dialin call`'s simulated seconds travel with each invocation: the environment moves its
apps' clocks forward by that much for that invocation alone (``lib.simulated_time``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DEFAULT_ENVIRONMENTS = 8
MAX_ENVIRONMENTS = 64
STOP_SECONDS = 5


class FunctionFailed(Exception):
    """The handler raised (its traceback is the message), or its environment died."""


def serve_environment(code_dir: str, handler: str, function: str, conn: Connection, quiet: bool) -> None:
    """One environment's life, in its own process: import the handler, then run invocations.
    ``quiet``: the handler's logs and metrics (its stdout) go nowhere; a failure still comes
    back with its traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; it stops us by PID
    if quiet:  # at the descriptor: the logger was made with this process's stdout already
        nowhere = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, sys.stdout.fileno())
        os.close(nowhere)
        warnings.simplefilter("ignore")
    from dialin_tools.commands.serve.handlers import LocalContext, load_handler
    from dialin_tools.lib.simulated_time import follow_simulated_time

    try:
        module, run = load_handler(Path(code_dir), handler)
        clocks = follow_simulated_time(module)
    except Exception:  # an import error fails every invocation, as an Init error does on Lambda
        failure = traceback.format_exc()
        while _receive(conn) is not None:
            conn.send(("error", failure))
        return
    while (message := _receive(conn)) is not None:
        event, seconds = message
        try:
            with contextlib.ExitStack() as ahead:
                for clock in clocks:
                    ahead.enter_context(clock.ahead(seconds))
                answer: tuple[str, Any] = ("ok", run(event, LocalContext(function_name=function)))
        except Exception:
            answer = ("error", traceback.format_exc())
        conn.send(answer)


def _receive(conn: Connection) -> Any:
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


class NotDelivered(FunctionFailed):
    """The environment had stopped before it got the event: another one may take it."""


@dataclass
class Environment:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    dead: bool = False

    def invoke(self, event: Mapping[str, Any], seconds: float) -> Any:
        pid = self.process.pid
        try:
            self.conn.send((dict(event), seconds))
        except OSError as exc:
            self.dead = True
            raise NotDelivered(f"the execution environment (pid {pid}) had stopped: {exc}") from None
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.dead = True
            raise FunctionFailed(f"the execution environment (pid {pid}) stopped: {exc!r}") from None
        if status != "ok":
            raise FunctionFailed(value)
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(timeout=STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=STOP_SECONDS)


@dataclass
class _Function:
    code_dir: Path
    handler: str
    idle: queue.LifoQueue[Environment] = field(default_factory=queue.LifoQueue)  # warmest first
    started: list[Environment] = field(default_factory=list)


class Environments:
    """Each function's environments; ``invoke`` runs an event in a free one."""

    def __init__(self, limit: int = DEFAULT_ENVIRONMENTS, quiet: bool = False) -> None:
        self.limit = limit
        self.quiet = quiet
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter, as Lambda's
        self._closed = False

    def add(self, function: str, code_dir: Path, handler: str) -> None:
        """Declare a function and start its first environment (in the background)."""
        with self._lock:
            if function in self._functions:
                return
            entry = self._functions[function] = _Function(code_dir, handler)
            entry.idle.put(self._start(function, entry))

    def _start(self, function: str, entry: _Function) -> Environment:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=serve_environment,
            args=(str(entry.code_dir), entry.handler, function, theirs, self.quiet),
            name=f"dialin-env-{function}-{len(entry.started) + 1}",
            daemon=True,
        )
        process.start()
        theirs.close()
        environment = Environment(process, ours)
        entry.started.append(environment)
        return environment

    def _take(self, function: str) -> tuple[_Function, Environment]:
        """A free environment: an idle one, else a new one while under the limit, else the
        first to come free (looking again each half second: one that dies frees its place)."""
        entry = self._functions[function]
        wait = 0.0
        while True:
            try:
                return entry, entry.idle.get(timeout=wait) if wait else entry.idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise FunctionFailed("dialin serve is stopping")
                if len(entry.started) < self.limit:
                    return entry, self._start(function, entry)
            wait = 0.5

    def invoke(self, function: str, event: Mapping[str, Any], seconds: float = 0.0) -> Any:
        """The handler's answer to ``event``; FunctionFailed when it raised."""
        while True:
            entry, environment = self._take(function)
            try:
                return environment.invoke(event, seconds)
            except NotDelivered:
                continue  # the event never reached a handler: the next environment takes it
            finally:
                if environment.dead or not environment.process.is_alive():
                    with self._lock, contextlib.suppress(ValueError):  # replaced on demand
                        entry.started.remove(environment)
                    environment.stop()  # reaped, not left a zombie
                else:
                    entry.idle.put(environment)

    def counts(self) -> dict[str, int]:
        """Environments started per function (for the banner and the tests)."""
        with self._lock:
            return {name: len(entry.started) for name, entry in self._functions.items()}

    def pids(self) -> list[int]:
        with self._lock:
            return [env.process.pid for entry in self._functions.values() for env in entry.started]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            everyone = [env for entry in self._functions.values() for env in entry.started]
        for environment in everyone:
            environment.stop()
