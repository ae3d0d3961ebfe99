"""Bounds no number of lines or attested numbers buys past (issue 18), through the real voice
handler on moto: attested callers' failures spend a stack-wide budget of their own; every
caller's failures are bounded over 24 hours too; above a ceiling a PIN is not looked up, so a
call already past its first step gets no guess (nor a join) from it."""

from __future__ import annotations

from typing import Any

from support.attacker import call_in, enter, fail_call, is_slow_path, voice_handler_with
from support.callers import ALICE_PIN, PIN_NUMBER
from support.twiml import said, verbs
from support.voice import TABLE, Clock

from dialin.guard.defences import number_key, stack_key
from dialin.guard.lockout import Counter
from dialin.speech import messages
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

WRONG = "999999"


def attested_number(n: int) -> str:
    return f"+1415555{n:04d}"


def test_attested_callers_share_a_budget_of_their_own(dynamodb: Any, monkeypatch: Any):
    """Each attested number fails once (never near its own lock); the attested budget spends
    and then closes for every attested caller, and spares unattested ones."""
    handler = voice_handler_with(
        dynamodb, Clock(), monkeypatch, ATTESTED_FAILURE_BUDGET=2, ATTESTED_FAILURE_CEILING=4
    )
    for n in range(2):
        fail_call(handler, attested_number(n), PIN_NUMBER, attested=True, guesses=1)
    assert is_slow_path(call_in(handler, attested_number(50), PIN_NUMBER, attested=True))
    for n in range(2, 4):
        fail_call(handler, attested_number(n), PIN_NUMBER, attested=True, guesses=1)
    refused = call_in(handler, attested_number(51), PIN_NUMBER, attested=True)
    assert verbs(refused) == ["Say", "Hangup"] and said(refused) == messages.TRY_LATER
    assert verbs(call_in(handler, "+14155550199", PIN_NUMBER)) == ["Gather"]  # unattested: its own budgets


def test_a_caller_keeping_under_the_short_lock_is_locked_out_by_the_day(dynamodb: Any, monkeypatch: Any):
    """9 failures every 16 minutes never reach the 10 of a 15-minute window: the 24-hour
    counter (20) locks the caller out for a day after its 20th."""
    clock = Clock()
    handler = voice_handler_with(dynamodb, clock, monkeypatch)
    caller, failures = attested_number(7), 0
    while failures < 20:
        for _ in range(3):  # three calls of three wrong PINs
            fail_call(handler, caller, PIN_NUMBER, attested=True, guesses=3)
            failures += 3
        clock.now += 16 * 60
    locked = call_in(handler, caller, PIN_NUMBER, attested=True)
    assert said(locked) == messages.LOCKED_OUT
    clock.now += 23 * 3600
    assert said(call_in(handler, caller, PIN_NUMBER, attested=True)) == messages.LOCKED_OUT
    clock.now += 2 * 3600
    assert verbs(call_in(handler, caller, PIN_NUMBER, attested=True)) == ["Gather"]


def failures(client: Any, key: dict[str, Any]) -> int:
    item = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    return Counter.from_item(item).failures if item else 0


def test_above_a_ceiling_a_pin_is_not_used_nor_counted(dynamodb: Any, monkeypatch: Any):
    """A call asked for its PIN before the stack's ceiling was reached (by other calls in the
    meantime) enters a valid PIN: it is not used (no join), nothing is counted."""
    clock = Clock()
    handler = voice_handler_with(
        dynamodb, clock, monkeypatch, STACK_FAILURE_BUDGET=1, STACK_FAILURE_CEILING=2
    )
    asked = call_in(handler, "+14155550111", PIN_NUMBER, sid="CA" + "1" * 32)
    assert verbs(asked) == ["Gather"]
    for n in range(2):
        fail_call(handler, f"+1415666{n:04d}", PIN_NUMBER, guesses=1)
    before = failures(dynamodb, stack_key()), failures(dynamodb, number_key(DEV_PIN_PEPPER, PIN_NUMBER))
    answer = enter(handler, asked, "+14155550111", PIN_NUMBER, ALICE_PIN, sid="CA" + "1" * 32)
    assert answer.find("Connect/Room") is None and said(answer) == messages.TRY_LATER
    after = failures(dynamodb, stack_key()), failures(dynamodb, number_key(DEV_PIN_PEPPER, PIN_NUMBER))
    assert before == after == (2, 2)
