"""PIN guessing as an attacker would play it, through the real voice handler on moto: spoofed
caller IDs, attested numbers of one's own, withheld numbers, a victim's number, scripted
requests that skip the pause, replays and state the signature did not cover."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.attacker import (
    PIN_NUMBERS,
    add_pin_numbers,
    call_in,
    enter,
    fail_call,
    is_slow_path,
    voice_handler_with,
    watch,
)
from support.callers import ALICE_PIN, gather_action, twilio_post
from support.twiml import parse, said, verbs
from support.voice import TABLE, Clock, Handler

from dialin.guard.budgets import WITHHELD_VALUES
from dialin.guard.defences import caller_key
from dialin.guard.lockout import Counter
from dialin.speech import messages
from dialin.voice.flow import PIN_STEP_SECONDS
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

A, B, C = PIN_NUMBERS
VICTIM = "+14155550777"
# Small budgets so a test spends them in a few calls; the rules are the defaults' rules.
SMALL = {"NUMBER_FAILURE_BUDGET": 4, "NUMBER_FAILURE_CEILING": 8, "STACK_FAILURE_BUDGET": 100}


@pytest.fixture
def make(dynamodb: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Any:
    add_pin_numbers(dynamodb)

    def make(**env: Any) -> Handler:
        return voice_handler_with(dynamodb, clock, monkeypatch, **env)

    return make


def spoofed(n: int) -> str:
    return f"+1212555{n:04d}"


def test_fresh_spoofed_caller_ids_spend_the_numbers_budget(make: Any, dynamodb: Any, clock: Clock):
    """Today each fresh caller ID gets a counter of its own: guessing never slows down."""
    handler = make(**SMALL)
    for n in range(4):
        fail_call(handler, spoofed(n), A, guesses=1)
    slow = call_in(handler, spoofed(100), A)
    assert is_slow_path(slow)
    query = dict(parse_qsl(urlsplit(gather_action(slow)).query))
    assert query["m"] == "1" and int(query["d"]) == int(clock.now) + 20  # one attempt, after the pause
    for n in range(4, 8):
        fail_call(handler, spoofed(n), A, guesses=1)
    table = watch(dynamodb)
    refused = call_in(handler, spoofed(200), A)
    assert verbs(refused) == ["Say", "Hangup"] and said(refused) == messages.TRY_LATER
    assert table.lookups() == 0
    # Another number has its own budget; the stack's is far from spent.
    assert verbs(call_in(handler, spoofed(201), B)) == ["Gather"]
    # The window ends: open again.
    clock.now += 3600
    assert verbs(call_in(handler, spoofed(202), A)) == ["Gather"]


def test_the_stack_budget_bounds_guessing_spread_over_every_number(make: Any):
    """Per-number budgets multiply with the numbers; only the stack-wide one bounds an
    attack on unscoped PINs."""
    handler = make(NUMBER_FAILURE_BUDGET=100, STACK_FAILURE_BUDGET=6, STACK_FAILURE_CEILING=9)
    for n in range(9):
        fail_call(handler, spoofed(n), PIN_NUMBERS[n % 3], guesses=1)
    for number in PIN_NUMBERS:
        assert said(call_in(handler, spoofed(99), number)) == messages.TRY_LATER


def test_a_call_in_progress_ends_when_its_failure_spends_the_budget(make: Any):
    handler = make(NUMBER_FAILURE_BUDGET=2, NUMBER_FAILURE_CEILING=3)
    root = call_in(handler, spoofed(1), A)
    root = enter(handler, root, spoofed(1), A, "1" * 10)
    assert verbs(root) == ["Gather"]
    root = enter(handler, root, spoofed(1), A, "2" * 10)  # the budget is now spent
    assert said(root) == messages.PIN_FAILED
    root = call_in(handler, spoofed(2), A)
    assert is_slow_path(root)
    assert said(enter(handler, root, spoofed(2), A, "3" * 10)) == messages.TRY_LATER


def test_attested_callers_pass_while_the_budgets_are_spent(make: Any):
    handler = make(**SMALL)
    for n in range(8):
        fail_call(handler, spoofed(n), A, guesses=1)
    assert said(call_in(handler, VICTIM, A)) == messages.TRY_LATER
    vouched = call_in(handler, VICTIM, A, attested=True)
    assert verbs(vouched) == ["Gather"]
    joined = enter(handler, vouched, VICTIM, A, ALICE_PIN, attested=True)
    assert joined.find("Connect/Room").text == "ClinicRoom1"


def test_a_spoofed_victim_number_never_locks_the_attested_victim(make: Any):
    """Today ten wrong PINs sent with a spoofed From lock that number out of every PIN number."""
    handler = make(STACK_FAILURE_BUDGET=1000, STACK_FAILURE_CEILING=2000)
    for _ in range(4):
        fail_call(handler, VICTIM, A)
    assert said(call_in(handler, VICTIM, A)) == messages.LOCKED_OUT  # unattested, on that number
    assert verbs(call_in(handler, VICTIM, B)) == ["Gather"]  # unattested, on another number
    assert verbs(call_in(handler, VICTIM, A, attested=True)) == ["Gather"]  # the real victim


def test_an_attested_attackers_counter_spans_every_number(make: Any):
    """Its own number cannot be spoofed, so its failures count stack-wide."""
    handler = make()
    attacker = "+16465550001"
    for number in (A, B, C, A):
        fail_call(handler, attacker, number, attested=True)
    for number in PIN_NUMBERS:
        assert said(call_in(handler, attacker, number, attested=True)) == messages.LOCKED_OUT
    assert verbs(call_in(handler, "+16465550002", A, attested=True)) == ["Gather"]


def test_every_withheld_value_is_one_caller(make: Any, dynamodb: Any):
    """Today each of anonymous, empty and the pseudo-numbers gets a counter of its own."""
    handler = make(STACK_FAILURE_BUDGET=1000, STACK_FAILURE_CEILING=2000)
    values = sorted(WITHHELD_VALUES)
    for n in range(10):
        fail_call(handler, values[n % len(values)], A, guesses=1)
    for value in values:
        assert said(call_in(handler, value, A)) == messages.LOCKED_OUT
    # Attestation does not apply to a withheld number.
    assert said(call_in(handler, "anonymous", A, attested=True)) == messages.LOCKED_OUT
    assert verbs(call_in(handler, "anonymous", B)) == ["Gather"]


def test_a_scripted_request_cannot_skip_the_slow_paths_pause(make: Any, dynamodb: Any, clock: Clock):
    """The not-before time rides in the signed step URL: a request made before it is a
    wrong PIN without a lookup, even with the right PIN."""
    handler = make(**SMALL)
    for n in range(4):
        fail_call(handler, spoofed(n), A, guesses=1)
    slow = call_in(handler, spoofed(50), A)
    table = watch(dynamodb)
    early = enter(handler, slow, spoofed(50), A, ALICE_PIN)
    assert said(early) == messages.PIN_FAILED and table.lookups() == 0 and table.writes() == 4
    slow = call_in(handler, spoofed(51), A)
    clock.now += 20
    assert enter(handler, slow, spoofed(51), A, ALICE_PIN).find("Connect/Room") is not None


def test_a_replayed_pin_step_expires(make: Any, dynamodb: Any, clock: Clock):
    handler = make()
    prompt = call_in(handler, spoofed(1), A)
    clock.now += PIN_STEP_SECONDS + 1
    table = watch(dynamodb)
    late = enter(handler, prompt, spoofed(1), A, ALICE_PIN)
    assert said(late) == messages.STEP_EXPIRED
    assert table.seen == []


def test_a_retried_pin_request_counts_once(make: Any, dynamodb: Any):
    handler = make()
    prompt = call_in(handler, VICTIM, A)
    event = twilio_post(gather_action(prompt), From=VICTIM, To=A, Digits="1" * 10)
    event["headers"]["I-Twilio-Idempotency-Token"] = "token-1"
    event["multiValueHeaders"]["I-Twilio-Idempotency-Token"] = ["token-1"]
    for _ in range(3):
        assert verbs(parse(handler(event))) == ["Gather"]
    key = caller_key(DEV_PIN_PEPPER, VICTIM, A, attested=False)
    item = dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
    assert Counter.from_item(item).failures == 1
    event["headers"]["I-Twilio-Idempotency-Token"] = "token-2"
    event["multiValueHeaders"]["I-Twilio-Idempotency-Token"] = ["token-2"]
    handler(event)
    assert Counter.from_item(dynamodb.get_item(TableName=TABLE, Key=key)["Item"]).failures == 2


def test_state_comes_from_exactly_the_signed_pairs(make: Any, dynamodb: Any):
    """A step URL with a repeated key: the signature covers both values, API Gateway's
    single-value map keeps the last one. Today that one was read (here: 10 attempts)."""
    handler = make()
    action = gather_action(call_in(handler, spoofed(1), A)).replace("&m=3&", "&m=3&m=10&")
    table = watch(dynamodb)
    root = parse(handler(twilio_post(action, From=spoofed(1), To=A, Digits="1" * 10)))
    assert said(root) == messages.UNAVAILABLE
    assert table.lookups() == 0
