"""GET and DELETE /admin/lockouts: the real AdminFunction handler on moto, after real calls to the
real voice handler have locked a caller out; what it lifts, the voice function no longer sees."""

from __future__ import annotations

from typing import Any

import pytest
from support.admin_events import AdminHandler, admin_event
from support.callers import ALICE_PIN, CALLER, INCOMING, PIN_NUMBER, gather_action, post
from support.twiml import parse, said, verbs
from support.voice import TABLE, Clock, Handler

from dialin.admin.api import AdminApp
from dialin.admin.table import Admin
from dialin.core.keys import day_counter_key
from dialin.guard.budgets import ATTESTED_VERSTAT
from dialin.guard.defences import caller_key, number_key, stack_key
from dialin.guard.lockout import LockoutPolicy
from dialin.speech import messages
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

WRONG = "999999"
LOCKED_UNTIL = "2027-01-15T09:00:00Z"  # the clock's 1_800_000_000 plus LockoutSeconds (3600)
NOBODY = {"scope": "attested", "number": None, "failures": 0, "locked": False, "locked_until": None}


def wrong_pins(voice: Handler, times: int, caller: str = CALLER, **params: str) -> None:
    """Calls to the PIN number that enter a wrong PIN ``times`` times (three a call)."""
    while times > 0:
        root = parse(post(voice, INCOMING, To=PIN_NUMBER, From=caller, **params))
        for _ in range(min(3, times)):
            root = parse(post(voice, gather_action(root), To=PIN_NUMBER, From=caller, Digits=WRONG, **params))
        times -= 3


def items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def keys(client: Any) -> set[tuple[str, str]]:
    return {(item["pk"]["S"], item["sk"]["S"]) for item in items(client)}


def as_pair(key: dict[str, Any]) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


def test_a_locked_out_caller_is_listed_with_until_when_and_cleared(api: AdminHandler, voice_handler: Handler):
    wrong_pins(voice_handler, 10)
    assert said(parse(post(voice_handler, INCOMING, To=PIN_NUMBER))) == messages.LOCKED_OUT
    status, body = api.call("GET", "/admin/lockouts", query={"caller": CALLER})
    assert status == 200, body
    assert body == {
        "counters": [
            NOBODY,  # attested calls: none were
            {
                "scope": "number",
                "number": PIN_NUMBER,
                "failures": 10,
                "locked": True,
                "locked_until": LOCKED_UNTIL,
            },
        ],
        "locked": 1,
    }
    assert api.call("DELETE", "/admin/lockouts", query={"caller": CALLER}) == (200, {"cleared": 1})
    # Their next call hears the PIN prompt, and the PIN works.
    root = parse(post(voice_handler, INCOMING, To=PIN_NUMBER))
    assert verbs(root) == ["Gather"] and said(root).endswith(messages.PIN_PROMPT)
    joined = parse(post(voice_handler, gather_action(root), To=PIN_NUMBER, Digits=ALICE_PIN))
    assert joined.find("Connect/Room") is not None
    assert api.call("GET", "/admin/lockouts", query={"caller": CALLER})[1]["locked"] == 0
    assert api.call("DELETE", "/admin/lockouts", query={"caller": CALLER}) == (200, {"cleared": 0})


def test_failures_below_the_limit_are_counted_but_not_locked(api: AdminHandler, voice_handler: Handler):
    wrong_pins(voice_handler, 2, StirVerstat=ATTESTED_VERSTAT)  # attested: the stack-wide counter
    status, body = api.call("GET", "/admin/lockouts", query={"caller": CALLER, "number": PIN_NUMBER})
    assert status == 200
    assert body["counters"] == [
        {"scope": "attested", "number": None, "failures": 2, "locked": False, "locked_until": None},
        {"scope": "number", "number": PIN_NUMBER, "failures": 0, "locked": False, "locked_until": None},
    ]


def test_the_stacks_lockout_rules_decide_who_is_locked(
    dynamodb: Any, clock: Clock, api: AdminHandler, voice_handler: Handler, monkeypatch: pytest.MonkeyPatch
):
    """The admin function reads the stack's Lockout* parameters (template.yaml passes them)."""
    wrong_pins(voice_handler, 3)
    strict = AdminApp(Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock), LockoutPolicy(max_failures=3))
    monkeypatch.setattr(api.module, "admin", strict)
    counter = api.call("GET", "/admin/lockouts", query={"caller": CALLER})[1]["counters"][1]
    assert (counter["failures"], counter["locked"], counter["locked_until"]) == (3, True, LOCKED_UNTIL)
    clock.now += 3600  # the lock is over
    assert api.call("GET", "/admin/lockouts", query={"caller": CALLER})[1]["locked"] == 0


def test_every_withheld_number_is_the_one_caller_withheld(api: AdminHandler, voice_handler: Handler):
    wrong_pins(voice_handler, 10, caller="anonymous")
    assert said(parse(post(voice_handler, INCOMING, To=PIN_NUMBER, From="restricted"))) == messages.LOCKED_OUT
    status, body = api.call("GET", "/admin/lockouts", query={"caller": "withheld"})
    assert status == 200
    assert [(c["scope"], c["number"], c["locked"]) for c in body["counters"]] == [
        ("number", PIN_NUMBER, True)
    ]
    assert api.call("DELETE", "/admin/lockouts", query={"caller": "restricted"}) == (200, {"cleared": 1})
    assert verbs(parse(post(voice_handler, INCOMING, To=PIN_NUMBER, From="anonymous"))) == ["Gather"]


def test_clearing_one_number_deletes_that_counter_only_never_a_budget(
    api: AdminHandler, voice_handler: Handler
):
    other = "+15555550177"
    api.call("POST", "/admin/routes", {"number": other, "mode": "pin"})
    wrong_pins(voice_handler, 10)
    client = api.app.admin.client
    before = keys(client)
    only_other = {"caller": CALLER, "number": other}
    assert api.call("DELETE", "/admin/lockouts", query=only_other) == (200, {"cleared": 0})
    assert keys(client) == before
    only_pin_number = {"caller": CALLER, "number": PIN_NUMBER}
    assert api.call("DELETE", "/admin/lockouts", query=only_pin_number) == (200, {"cleared": 1})
    own_key = caller_key(DEV_PIN_PEPPER, CALLER, PIN_NUMBER, attested=False)
    own, day = as_pair(own_key), as_pair(day_counter_key(own_key))
    assert before - keys(client) == {own, day}  # its counter and the 24-hour one beside it
    budgets = {as_pair(number_key(DEV_PIN_PEPPER, PIN_NUMBER)), as_pair(stack_key())}
    assert budgets <= keys(client)  # shared by every caller: not the admin's to lift


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({}, "caller", "give the caller: ?caller=NUMBER"),
        ({"caller": ""}, "caller", "give the caller: ?caller=NUMBER"),
        ({"caller": "4155550123"}, "caller", "caller must be an E.164 phone number"),
        ({"caller": "+1 (415) 555-0123"}, "caller", "caller must be an E.164 phone number"),
        ({"caller": " 14155550123"}, "caller", "write the + of an E.164 number as %2B"),
        ({"caller": CALLER, "number": "15555550101"}, "number", "number must be an E.164 phone number"),
        ({"caller": CALLER, "nubmer": PIN_NUMBER}, "nubmer", "unknown query parameter 'nubmer'"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_bad_input_is_a_400_naming_it_and_changes_nothing(
    api: AdminHandler, voice_handler: Handler, method: str, query: dict[str, str], field: str, message: str
):
    wrong_pins(voice_handler, 10)
    before = items(api.app.admin.client)
    status, body = api.call(method, "/admin/lockouts", query=query)
    assert (status, body["error"], body["field"]) == (400, "invalid_request", field), body
    assert message in body["message"]
    assert items(api.app.admin.client) == before


def test_a_caller_given_twice_is_refused(api: AdminHandler, voice_handler: Handler):
    """API Gateway keeps the last of a repeated key in queryStringParameters: never guess which."""
    wrong_pins(voice_handler, 10)
    event = admin_event("DELETE", "/admin/lockouts")
    event["queryStringParameters"] = {"caller": CALLER}
    event["multiValueQueryStringParameters"] = {"caller": ["+14155550999", CALLER]}
    response = api.module.lambda_handler(event, LocalContext(function_name="AdminFunction"))
    assert response["statusCode"] == 400 and "give caller once" in response["body"]
    assert api.call("GET", "/admin/lockouts", query={"caller": CALLER})[1]["locked"] == 1


def test_logs_never_hold_the_callers_number(api: AdminHandler, voice_handler: Handler, emitted: Any):
    wrong_pins(voice_handler, 10)
    emitted()
    api.call("GET", "/admin/lockouts", query={"caller": CALLER})
    api.call("DELETE", "/admin/lockouts", query={"caller": CALLER})
    api.call("GET", "/admin/lockouts", query={"caller": "+1415555012345678"})  # 16 digits: refused
    out = emitted()
    assert "admin request" in out.text and "admin request refused" in out.text
    assert CALLER[2:] not in out.text and "1415555012345678" not in out.text


def test_a_table_fault_is_a_503(api: AdminHandler):
    api.app.admin.table = "missing-table"
    status, body = api.call("DELETE", "/admin/lockouts", query={"caller": CALLER})
    assert (status, body["error"]) == (503, "unavailable")
