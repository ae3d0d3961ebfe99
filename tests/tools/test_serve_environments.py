"""`dialin serve`'s execution environments: a process per environment, each importing the
handler once; several invocations of one function at once, never more environments than the
limit; simulated seconds per invocation; failures answered, dead environments replaced."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dialin_tools.commands.serve.environments import Environments, FunctionFailed

HANDLER = """
import os, time

IMPORTED_AT = time.time()
invocations = 0


class App:
    def __init__(self):
        self.clock = time.time


app = App()


def handler(event, context):
    global invocations
    invocations += 1
    if event.get("fail"):
        raise ValueError("the handler failed")
    time.sleep(event.get("sleep", 0))
    if event.get("exit"):
        os._exit(3)
    return {"pid": os.getpid(), "invocations": invocations, "now": app.clock(),
            "function": context.function_name, "env": os.environ.get("DIALIN_TEST_SETTING", "")}
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(HANDLER, encoding="utf-8")
    return tmp_path


@pytest.fixture
def pool(code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Environments]:
    monkeypatch.setenv("DIALIN_TEST_SETTING", "from the server's environment")
    environments = Environments(limit=3)
    environments.add("Fn", code_dir, "app.handler")
    try:
        yield environments
    finally:
        pids = environments.pids()
        environments.close()
        assert all(not _alive(pid) for pid in pids)  # stopped by their process ids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ", 1)[1][0] != "Z"


def test_invocations_run_at_once_in_their_own_processes_up_to_the_limit(pool: Environments):
    assert pool.counts() == {"Fn": 1}  # the first one starts with the server
    with ThreadPoolExecutor(max_workers=6) as threads:
        answers = list(threads.map(lambda _: pool.invoke("Fn", {"sleep": 0.5}), range(6)))
    pids = {a["pid"] for a in answers}
    assert len(pids) == 3 and os.getpid() not in pids and pool.counts() == {"Fn": 3}
    assert sorted(a["invocations"] for a in answers) == [1, 1, 1, 2, 2, 2]  # each its own module
    assert {a["function"] for a in answers} == {"Fn"}
    assert {a["env"] for a in answers} == {"from the server's environment"}


def test_a_warm_environment_is_reused(pool: Environments):
    first = pool.invoke("Fn", {})
    second = pool.invoke("Fn", {})
    assert first["pid"] == second["pid"] and second["invocations"] == 2 and pool.counts() == {"Fn": 1}


def test_simulated_seconds_move_the_apps_clock_for_that_invocation_only(pool: Environments):
    ahead = pool.invoke("Fn", {}, seconds=600)
    now = pool.invoke("Fn", {})
    assert ahead["now"] - time.time() > 590
    assert abs(now["now"] - time.time()) < 60


def test_a_failing_handler_is_an_error_and_a_dead_environment_is_replaced(pool: Environments):
    with pytest.raises(FunctionFailed, match="ValueError: the handler failed"):
        pool.invoke("Fn", {"fail": True})
    before = pool.invoke("Fn", {})["pid"]
    with pytest.raises(FunctionFailed, match="stopped"):
        pool.invoke("Fn", {"exit": True})
    after = pool.invoke("Fn", {})
    assert after["pid"] != before and after["invocations"] == 1  # a cold start


def test_beyond_the_limit_a_request_waits_for_a_free_environment(code_dir: Path):
    environments = Environments(limit=1)
    environments.add("Fn", code_dir, "app.handler")
    try:
        started = threading.Event()

        def slow() -> dict:
            started.set()
            return environments.invoke("Fn", {"sleep": 0.5})

        with ThreadPoolExecutor(max_workers=2) as threads:
            first = threads.submit(slow)
            started.wait()
            second = threads.submit(environments.invoke, "Fn", {})
            assert first.result()["pid"] == second.result()["pid"]
        assert environments.counts() == {"Fn": 1}
    finally:
        environments.close()


def test_an_import_error_fails_every_invocation(tmp_path: Path):
    (tmp_path / "app.py").write_text("raise RuntimeError('cannot start')\n", encoding="utf-8")
    environments = Environments(limit=1)
    environments.add("Broken", tmp_path, "app.handler")
    try:
        for _ in range(2):
            with pytest.raises(FunctionFailed, match="RuntimeError: cannot start"):
                environments.invoke("Broken", {})
    finally:
        environments.close()


def test_a_request_waiting_at_the_limit_gets_an_environment_when_the_busy_one_dies(code_dir: Path):
    environments = Environments(limit=1)
    environments.add("Fn", code_dir, "app.handler")
    try:
        assert environments.invoke("Fn", {})["invocations"] == 1  # warm
        with ThreadPoolExecutor(max_workers=2) as threads:
            dying = threads.submit(environments.invoke, "Fn", {"sleep": 0.3, "exit": False})
            time.sleep(0.1)
            waiting = threads.submit(environments.invoke, "Fn", {})
            dying.result()
            assert waiting.result(timeout=30)["invocations"] >= 1
        with ThreadPoolExecutor(max_workers=2) as threads:
            crash = threads.submit(environments.invoke, "Fn", {"exit": True, "sleep": 0.3})
            time.sleep(0.1)
            after = threads.submit(environments.invoke, "Fn", {})
            with pytest.raises(FunctionFailed):
                crash.result(timeout=30)
            assert after.result(timeout=30)["invocations"] == 1  # a new environment, not a hang
    finally:
        environments.close()
