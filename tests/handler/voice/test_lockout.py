"""Brute force: per-call attempts, per-caller lockout in the table (moto), the pure policy."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.callers import ALICE_PIN, CALLER, DIRECT, INCOMING, PIN_NUMBER, gather_action, post
from support.twiml import parse, said, verbs
from support.voice import TABLE, Handler, local_settings

from dialin.core.config import Settings
from dialin.guard.lockout import CALLER_SK, Counter, FailureCounters, LockoutPolicy, counter_key, dialed_label
from dialin.speech import messages
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

POLICY = LockoutPolicy(max_failures=10, window_seconds=900, lock_seconds=3600)
WRONG = "999999"


@dataclass
class Calls:
    """DynamoDB operations the handler makes, as botocore sends them."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.seen.append((model.name, params))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]

    def keys_read(self) -> list[str]:
        keys = []
        for name, params in self.seen:
            if name == "GetItem":
                keys.append(params["Key"]["pk"]["S"])
            if name == "BatchGetItem":
                keys += [k["pk"]["S"] for spec in params["RequestItems"].values() for k in spec["Keys"]]
        return keys


@pytest.fixture
def calls(dynamodb: Any) -> Calls:
    recorder = Calls()
    dynamodb.meta.events.register("before-parameter-build.dynamodb", recorder)
    return recorder


def fail_one_call(handler: Handler, attempts: int = 3, caller: str = CALLER) -> Any:
    """One call that enters a wrong PIN ``attempts`` times (fewer if the call ends first)."""
    root = parse(post(handler, INCOMING, To=PIN_NUMBER, From=caller))
    for _ in range(attempts):
        if verbs(root) != ["Gather"]:
            break
        root = parse(post(handler, gather_action(root), To=PIN_NUMBER, From=caller, Digits=WRONG))
    return root


# The pure policy.


def test_policy_locks_at_the_threshold_for_lock_seconds():
    assert not POLICY.is_locked(None, 0)
    assert not POLICY.is_locked(Counter(9, 1000, 1500), 1500)
    assert POLICY.is_locked(Counter(10, 1000, 1500), 1500)
    assert POLICY.locked_until(Counter(10, 1000, 1500)) == 1500 + 3600
    assert POLICY.is_locked(Counter(10, 1000, 1500), 1500 + 3599)
    assert not POLICY.is_locked(Counter(10, 1000, 1500), 1500 + 3600)


def test_policy_window_restarts_unless_locked():
    assert POLICY.after_failure(None, 100) == Counter(1, 100, 100)
    assert POLICY.after_failure(Counter(3, 100, 200), 999) == Counter(4, 100, 999)
    assert POLICY.after_failure(Counter(3, 100, 200), 1000) == Counter(1, 1000, 1000)
    # A failure during a lock (a call already in progress) adds, past the window too.
    assert POLICY.after_failure(Counter(10, 100, 500), 2000) == Counter(11, 100, 2000)
    assert POLICY.after_failure(Counter(10, 100, 500), 4100) == Counter(1, 4100, 4100)


def test_settings_read_thresholds_with_defaults_and_bounds():
    assert (Settings.from_env({}).lockout_failures, Settings.from_env({}).lockout_seconds) == (10, 3600)
    env = {"LOCKOUT_FAILURES": "5", "LOCKOUT_WINDOW_SECONDS": "120", "LOCKOUT_SECONDS": "99999999"}
    s = Settings.from_env(env)
    assert (s.lockout_failures, s.lockout_window_seconds, s.lockout_seconds) == (5, 120, 604_800)


def test_template_parameters_feed_the_settings_with_the_same_defaults(template: dict[str, Any]):
    env = template["Resources"]["VoiceFunction"]["Properties"]["Environment"]["Variables"]
    params = template["Parameters"]
    defaults = Settings.from_env({})
    for var, param, value in (
        ("LOCKOUT_FAILURES", "LockoutFailures", defaults.lockout_failures),
        ("LOCKOUT_WINDOW_SECONDS", "LockoutWindowSeconds", defaults.lockout_window_seconds),
        ("LOCKOUT_SECONDS", "LockoutSeconds", defaults.lockout_seconds),
    ):
        assert env[var] == {"Ref": param}
        assert params[param]["Default"] == value


def test_dialed_label_never_holds_the_full_number():
    assert dialed_label("+15555550101") == "+1..0101"
    assert dialed_label("+15555550101") != "+15555550101"
    assert dialed_label("anonymous") == dialed_label("") == "other"


# The counters in the table follow the policy.


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=14))
def test_table_counter_follows_the_policy(dynamodb: Any, gaps: list[int]):
    counters = FailureCounters(dynamodb, TABLE)
    policy = LockoutPolicy(max_failures=4, window_seconds=900, lock_seconds=3600)
    key = counter_key(DEV_PIN_PEPPER, f"+1415555{len(gaps):04d}{sum(gaps)}"[:15])
    dynamodb.delete_item(TableName=TABLE, Key=key)
    now, expected = 1_800_000_000, None
    for gap in gaps:
        now += gap
        expected = policy.after_failure(expected, now)
        assert counters.record_failure(key, now, policy) == expected


def test_counter_item_holds_no_number_and_expires(dynamodb: Any):
    FailureCounters(dynamodb, TABLE).record_failure(
        counter_key(DEV_PIN_PEPPER, CALLER), 1_800_000_000, POLICY
    )
    items = [i for i in dynamodb.scan(TableName=TABLE)["Items"] if i["sk"]["S"] == CALLER_SK]
    assert len(items) == 1
    assert items[0]["pk"]["S"].startswith("FAIL#")
    assert CALLER not in json.dumps(items) and CALLER[1:] not in json.dumps(items)
    assert int(items[0]["expires_at"]["N"]) >= 1_800_000_000 + 3600


# The real handler.


def test_ten_failures_lock_the_caller_then_no_pin_is_asked(voice_handler: Handler, calls: Calls):
    for _ in range(3):
        assert said(fail_one_call(voice_handler)) == messages.PIN_FAILED
    # The 10th failure is the first attempt of the 4th call: told at once, no more attempts.
    locked = fail_one_call(voice_handler, attempts=1)
    assert verbs(locked) == ["Say", "Hangup"] and said(locked) == messages.LOCKED_OUT
    calls.seen.clear()
    again = parse(post(voice_handler, INCOMING, To=PIN_NUMBER))
    assert verbs(again) == ["Say", "Hangup"] and said(again) == messages.LOCKED_OUT
    # One round trip (route and counter together), no PIN lookup.
    assert calls.names() == ["BatchGetItem"]
    assert not any(key.startswith("PIN#") for key in calls.keys_read())


def test_lock_is_per_caller_and_lifts_after_lock_seconds(voice_handler: Handler):
    for _ in range(4):
        fail_one_call(voice_handler)
    assert said(parse(post(voice_handler, INCOMING, To=PIN_NUMBER))) == messages.LOCKED_OUT
    other = parse(post(voice_handler, INCOMING, To=PIN_NUMBER, From="+14155550999"))
    assert verbs(other) == ["Gather"]
    # A locked caller still reaches a direct number: it asks for no PIN.
    assert parse(post(voice_handler, INCOMING, To=DIRECT)).find("Connect/Room") is not None
    voice_handler.app.clock.now += 3600
    assert verbs(parse(post(voice_handler, INCOMING, To=PIN_NUMBER))) == ["Gather"]


def test_failures_spread_beyond_the_window_do_not_lock(voice_handler: Handler):
    for _ in range(6):
        fail_one_call(voice_handler, attempts=3)
        voice_handler.app.clock.now += 16 * 60
    assert verbs(parse(post(voice_handler, INCOMING, To=PIN_NUMBER))) == ["Gather"]


def test_unattested_failure_updates_its_counter_and_both_budgets_and_success_writes_nothing(
    voice_handler: Handler, calls: Calls
):
    root = parse(post(voice_handler, INCOMING, To=PIN_NUMBER))
    calls.seen.clear()
    root = parse(post(voice_handler, gather_action(root), To=PIN_NUMBER, Digits=WRONG))
    assert calls.names() == ["BatchGetItem", "UpdateItem", "UpdateItem", "UpdateItem", "UpdateItem"]
    sks = [params["Key"]["sk"]["S"] for _, params in calls.seen[1:]]
    assert sks == ["CALLER_NUMBER", "CALLER_NUMBER_DAY", "NUMBER", "STACK"]
    assert all(params["Key"]["pk"]["S"].startswith("FAIL#") for _, params in calls.seen[1:])
    calls.seen.clear()
    joined = parse(post(voice_handler, gather_action(root), To=PIN_NUMBER, Digits=ALICE_PIN))
    assert joined.find("Connect/Room") is not None
    assert calls.names() == ["BatchGetItem"]  # the PIN and the counters that decide before it is used


def test_silence_is_not_counted_but_short_input_is(voice_handler: Handler, calls: Calls):
    root = parse(post(voice_handler, INCOMING, To=PIN_NUMBER))
    calls.seen.clear()
    root = parse(post(voice_handler, gather_action(root), To=PIN_NUMBER, Digits=""))
    assert calls.names() == []
    parse(post(voice_handler, gather_action(root), To=PIN_NUMBER, Digits="12"))
    assert calls.names() == ["UpdateItem"] * 4  # no lookup for a non-PIN, but a counted guess


def test_withheld_numbers_share_one_counter(voice_handler: Handler):
    for anonymous in ("anonymous", "", "+266696687", "+86282452253"):
        fail_one_call(voice_handler, caller=anonymous)
    locked = parse(post(voice_handler, INCOMING, To=PIN_NUMBER, From="anonymous"))
    assert said(locked) == messages.LOCKED_OUT


def test_thresholds_come_from_settings(dynamodb: Any, clock: Any, voice_handler: Handler):
    from dialin.edge.credentials import Credentials
    from dialin.voice.app import VoiceApp

    strict = local_settings(LOCKOUT_FAILURES=2, LOCKOUT_SECONDS=600)
    voice_handler.module.voice = VoiceApp.on_table(strict, dynamodb, Credentials(strict), clock=clock)
    root = fail_one_call(voice_handler, attempts=3)
    assert said(root) == messages.LOCKED_OUT  # after the 2nd failure, not the 3rd attempt
    clock.now += 600
    assert verbs(parse(post(voice_handler, INCOMING, To=PIN_NUMBER))) == ["Gather"]


def test_per_call_attempt_limit_still_holds(voice_handler: Handler):
    root = fail_one_call(voice_handler, attempts=3)
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.PIN_FAILED
