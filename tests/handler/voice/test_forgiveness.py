"""Typos forgiven, through the real voice handler on moto: a PIN that matches after typos of
it takes those failures back from the caller's counter and the budgets; random guesses stay
counted; what a refund costs; a refund never counted twice, across a window or past its cap."""

from __future__ import annotations

from typing import Any

import pytest
from support.attacker import call_in, enter
from support.callers import ALICE_PIN, CALLER, PIN_NUMBER
from support.twiml import verbs
from support.voice import TABLE, Handler, throttle

from dialin.guard.defences import caller_key, number_key, stack_key
from dialin.guard.forgiveness import PER_WINDOW_FACTOR
from dialin.guard.lockout import Counter
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

TYPO = "246811"  # ALICE_PIN with its last digit changed
SWAPPED = "426810"  # its first two digits swapped
GUESS = "999999"


@pytest.fixture
def ops(dynamodb: Any) -> list[str]:
    """The DynamoDB operations made, by name, from when the test asks (``ops.clear()``)."""
    seen: list[str] = []
    dynamodb.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, **_: seen.append(model.name)
    )
    return seen


def counters(dynamodb: Any, attested: bool = False) -> list[int]:
    keys = [caller_key(DEV_PIN_PEPPER, CALLER, PIN_NUMBER, attested)]
    if not attested:
        keys += [number_key(DEV_PIN_PEPPER, PIN_NUMBER), stack_key()]
    items = [dynamodb.get_item(TableName=TABLE, Key=key).get("Item") for key in keys]
    return [Counter.from_item(item).failures if item else -1 for item in items]


def tries(
    handler: Handler, *entries: str, attested: bool = False, caller: str = CALLER, sid: str = ""
) -> Any:
    """One call entering ``entries`` in turn; the last answer."""
    root = call_in(handler, caller, PIN_NUMBER, attested, sid=sid)
    for digits in entries:
        root = enter(handler, root, caller, PIN_NUMBER, digits, attested, sid=sid)
    return root


def test_a_typo_then_the_pin_gives_back_every_failure_it_spent(voice_handler: Handler, dynamodb: Any):
    root = call_in(voice_handler, CALLER, PIN_NUMBER)
    root = enter(voice_handler, root, CALLER, PIN_NUMBER, TYPO)
    assert counters(dynamodb) == [1, 1, 1]
    root = enter(voice_handler, root, CALLER, PIN_NUMBER, SWAPPED)
    assert counters(dynamodb) == [2, 2, 2]
    joined = enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert joined.find("Connect/Room") is not None
    assert counters(dynamodb) == [0, 0, 0]


def test_the_step_url_carries_a_keyed_hash_never_the_digits(voice_handler: Handler):
    root = tries(voice_handler, TYPO)
    action = root.find("Gather").get("action")
    assert "&f=" in action and "&e=" in action
    assert TYPO not in action and ALICE_PIN not in action


def test_random_guesses_before_the_pin_stay_counted(voice_handler: Handler, dynamodb: Any, ops: list[str]):
    root = call_in(voice_handler, CALLER, PIN_NUMBER)
    root = enter(voice_handler, root, CALLER, PIN_NUMBER, GUESS)
    root = enter(voice_handler, root, CALLER, PIN_NUMBER, TYPO)
    ops.clear()
    assert enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN).find("Connect/Room") is not None
    assert counters(dynamodb)[:3] == [1, 1, 1]  # only the typo was taken back
    assert ops[:6] == ["BatchGetItem", *["UpdateItem"] * 5]  # the claim, then four counters


def test_what_forgiveness_costs(voice_handler: Handler, ops: list[str]):
    """No failure before the PIN: one read (the PIN with the caller's counters), no write. A
    typo before it: the call's refund claimed (one conditional write), then one conditional
    UpdateItem per counter it spent, four unattested, three attested."""
    root = call_in(voice_handler, CALLER, PIN_NUMBER)
    ops.clear()
    enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert ops == ["BatchGetItem"]
    root = tries(voice_handler, GUESS)
    ops.clear()
    enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert ops == ["BatchGetItem"]  # nothing to forgive: nothing written
    root = tries(voice_handler, TYPO, attested=True)
    ops.clear()
    enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN, attested=True)
    assert ops == ["BatchGetItem", *["UpdateItem"] * 4]  # claim, 2 own, 1 budget


def test_a_retried_request_refunds_once(voice_handler: Handler, dynamodb: Any):
    root = tries(voice_handler, GUESS, TYPO)
    for _ in range(2):  # Twilio's retry: the same signed request again
        enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert counters(dynamodb) == [1, 1, 1]


def test_a_retry_refunds_once_though_another_call_refunded_in_between(voice_handler: Handler, dynamodb: Any):
    """The budgets are shared: call B's refund between call A's request and its retry must not
    let A's retry refund the number's and the stack's budget again."""
    first, second = "CA" + "a" * 32, "CA" + "b" * 32
    a = tries(voice_handler, GUESS, TYPO, sid=first)
    other = "+14155550177"
    b = tries(voice_handler, TYPO, caller=other, sid=second)
    assert counters(dynamodb) == [2, 3, 3]
    enter(voice_handler, a, CALLER, PIN_NUMBER, ALICE_PIN, sid=first)  # A: its typo refunded
    enter(voice_handler, b, other, PIN_NUMBER, ALICE_PIN, sid=second)  # B: its typo refunded
    enter(voice_handler, a, CALLER, PIN_NUMBER, ALICE_PIN, sid=first)  # Twilio retries A's request
    assert counters(dynamodb) == [1, 1, 1]  # the guess stays counted, once everywhere


def test_a_failure_of_a_window_that_has_ended_is_not_taken_from_the_next(
    voice_handler: Handler, dynamodb: Any
):
    root = tries(voice_handler, TYPO)
    key = number_key(DEV_PIN_PEPPER, PIN_NUMBER)
    # Another caller's failure started a new window after this call's typo.
    item = dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
    item["window_start"] = {"N": str(int(item["window_start"]["N"]) + 1)}
    dynamodb.put_item(TableName=TABLE, Item=item)
    enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert counters(dynamodb) == [0, 1, 0]


def test_a_window_forgives_at_most_ten_times_its_limit(voice_handler: Handler, dynamodb: Any):
    root = tries(voice_handler, TYPO)
    key = number_key(DEV_PIN_PEPPER, PIN_NUMBER)
    most = PER_WINDOW_FACTOR * voice_handler.app.settings.number_ceiling
    dynamodb.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET forgiven = :f",
        ExpressionAttributeValues={":f": {"N": str(most)}},
    )
    enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert counters(dynamodb) == [0, 1, 0]


def test_a_refund_that_cannot_be_written_still_lets_the_caller_in(voice_handler: Handler, dynamodb: Any):
    root = tries(voice_handler, TYPO)
    dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", throttle)
    joined = enter(voice_handler, root, CALLER, PIN_NUMBER, ALICE_PIN)
    assert verbs(joined)[0] == "Say" and joined.find("Connect/Room") is not None
