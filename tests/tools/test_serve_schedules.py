"""`dialin serve` runs the template's Schedule events, as EventBridge would."""

from __future__ import annotations

import datetime
import time

import pytest

from dialin_tools.commands.serve.environments import Environments
from dialin_tools.commands.serve.schedules import Schedules, scheduled_event
from dialin_tools.lib import template as tpl

HANDLER = """
SEEN = []
def lambda_handler(event, context):
    assert event["source"] == "aws.events" and context.function_name == "SweepFunction"
    SEEN.append(event)
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


def test_a_schedule_runs_in_the_functions_environment_until_stopped(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(HANDLER, encoding="utf-8")
    event = tpl.ScheduleEvent("SweepFunction", "Sweep", 60, code, "app.lambda_handler")
    pool = Environments(limit=1)
    pool.add("SweepFunction", code, "app.lambda_handler")
    printed: list[str] = []
    try:
        schedules = Schedules([event], 0.05, pool.invoke, log=printed.append).start()
        deadline = time.monotonic() + 60
        while len(printed) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        schedules.stop()
        stopped = len(printed)
        time.sleep(0.2)
        assert len(printed) == stopped >= 2  # every other run ended a room: printed
        assert all(line == "schedule Sweep (SweepFunction): {'ended': 1}" for line in printed)
        assert not any(t.is_alive() for t in schedules._threads)
        assert pool.counts() == {"SweepFunction": 1}  # in the function's own environment
    finally:
        pool.close()
