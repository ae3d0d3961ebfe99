"""`dialin serve` runs the template's Schedule events, as EventBridge would."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from dialin_tools.commands.serve.handlers import load_module
from dialin_tools.commands.serve.schedules import Schedules, scheduled_event
from dialin_tools.lib import template as tpl

HANDLER = """
SEEN = []
def lambda_handler(event, context):
    SEEN.append((event, context.function_name))
    return {"ended": len(SEEN) % 2}
"""


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86_400),
        ("cron(0 9 * * ? *)", None),
        ("rate(one minute)", None),
        ("rate(1 fortnight)", None),
    ],
)
def test_rates_are_read_as_eventbridge_writes_them(expression, seconds):
    assert tpl.rate_seconds(expression) == seconds


def test_the_template_schedules_the_phone_only_check_every_minute():
    found = {(s.function, s.event): s for s in tpl.schedules(tpl.load())}
    check = found[("RoomEventsFunction", "PhoneOnlyCheck")]
    assert check.seconds == 60 and check.handler == "app.lambda_handler"
    assert (check.code_dir / "app.py").is_file()


def test_the_scheduled_event_is_shaped_as_eventbridge_sends_it():
    event = scheduled_event("RoomEventsFunction", datetime.datetime(2026, 12, 7, 9, 0))
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["time"] == "2026-12-07T09:00:00Z"


def test_a_schedule_runs_its_handler_until_stopped_under_the_functions_lock(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(HANDLER, encoding="utf-8")
    event = tpl.ScheduleEvent("SweepFunction", "Sweep", 60, code, "app.lambda_handler")
    lock = threading.Lock()
    printed: list[str] = []
    schedules = Schedules([event], every=0.02, lock_for=lambda function: lock, log=printed.append).start()
    seen = load_module(code, "app").SEEN
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    with lock:  # a run never overlaps an invocation of the same function
        count = len(seen)
        time.sleep(0.1)
        assert len(seen) == count
    schedules.stop()
    stopped = len(seen)
    time.sleep(0.1)
    assert len(seen) == stopped >= 3
    assert all(function == "SweepFunction" and e["source"] == "aws.events" for e, function in seen)
    assert printed and all(line == "schedule Sweep (SweepFunction): {'ended': 1}" for line in printed)
    assert not any(t.is_alive() for t in schedules._threads)
