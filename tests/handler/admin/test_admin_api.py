"""The real AdminFunction handler (/admin/...) on moto: every route, good and bad input,
duplicates, idempotent retries. What it writes is read back by the voice function's reader."""

from __future__ import annotations

from typing import Any

import pytest
from support.admin_events import AdminHandler, admin_module
from support.modules import modules_after_import
from support.voice import TABLE, Clock

from dialin.admin.api import AdminApp
from dialin.admin.table import Admin
from dialin.core.pins import hash_pin
from dialin.voice.directory import Directory
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

PIN_NUMBER = "+15555550101"  # the seed's PIN number
DIRECT_NUMBER = "+15555550100"


def items(client: Any) -> list[dict[str, Any]]:
    found = client.scan(TableName=TABLE)["Items"]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


@pytest.fixture
def api(dynamodb: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> AdminHandler:
    module = admin_module()
    app = AdminApp(Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock))
    monkeypatch.setattr(module, "admin", app)
    return AdminHandler(module, app)


def test_create_pin_answers_the_pin_once_with_numbers_and_one_tap_strings(api: AdminHandler, dynamodb: Any):
    status, body = api.call(
        "POST", "/admin/pins", {"room": "Visit-42", "identity": "dr-jones", "label": "Visit"}
    )
    assert status == 201
    pin = body["pin"]
    assert pin.isdigit() and len(pin) == api.app.admin.pin_length == 10  # the stack's PinLength
    assert body["id"] == hash_pin(DEV_PIN_PEPPER, pin)
    assert body["numbers"] == [PIN_NUMBER]
    assert body["dial"] == [f"tel:{PIN_NUMBER},,{pin}#"]
    assert (body["room"], body["identity"], body["label"]) == ("Visit-42", "dr-jones", "Visit")
    assert body["valid_until"] is None and body["expires_at"] is None and body["ends_with_room"] is False
    # The voice function's own reader finds it; the PIN itself is stored nowhere.
    grant = Directory(dynamodb, TABLE).pin_grant(body["id"])
    assert grant is not None and (grant.room, grant.identity) == ("Visit-42", "dr-jones")
    assert pin not in str(items(dynamodb))


def test_create_pin_with_a_window_a_scope_and_a_length(api: AdminHandler, clock: Clock):
    status, body = api.call(
        "POST",
        "/admin/pins",
        {
            "room": "Visit-42",
            "number": PIN_NUMBER,
            "valid_from": "2030-01-31T09:00:00Z",
            "valid_until": "2030-01-31T10:00:00Z",
            "length": 7,
            "on_duplicate": "replace",
        },
    )
    assert status == 201, body
    assert len(body["pin"]) == 7 and body["identity"] is None  # a guest PIN
    assert body["numbers"] == [PIN_NUMBER]
    assert (body["valid_from"], body["valid_until"]) == ("2030-01-31T09:00:00Z", "2030-01-31T10:00:00Z")
    assert body["expires_at"] == "2030-02-01T10:00:00Z"  # the TTL: a day after the window ends
    assert body["on_duplicate"] == "replace"


def test_a_pin_of_one_account_is_offered_on_that_accounts_numbers(api: AdminHandler):
    mine, theirs = "AC" + "1" * 32, "AC" + "2" * 32
    api.call("POST", "/admin/routes", {"number": "+15551230001", "mode": "pin", "account": mine})
    api.call("POST", "/admin/routes", {"number": "+15551230002", "mode": "pin", "account": theirs})
    status, body = api.call("POST", "/admin/pins", {"room": "Tenant", "account": mine})
    assert status == 201 and body["account"] == mine
    assert body["numbers"] == ["+15551230001", PIN_NUMBER]  # its account's, and the shared one
    assert api.call("GET", "/admin/routes")[1]["routes"][0]["account"] == mine


def test_a_pin_scoped_to_a_number_without_a_pin_route_works_on_no_number(api: AdminHandler):
    status, body = api.call("POST", "/admin/pins", {"room": "Visit-42", "number": DIRECT_NUMBER})
    assert status == 201
    assert body["numbers"] == [] and body["dial"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "room"),
        ({"room": ""}, "room"),
        ({"room": "x" * 129}, "room"),
        ({"room": 42}, "room"),
        ({"room": "R", "identity": "a\x00b"}, "identity"),
        ({"room": "R", "identity": "dialout-alice"}, "identity"),  # dial-out's legs only
        ({"room": "R", "number": "5551230000"}, "number"),
        ({"room": "R", "valid_until": "2020-01-01T00:00:00Z"}, "valid_until"),
        ({"room": "R", "valid_from": "2030-02-01", "valid_until": "2030-01-01"}, "valid_until"),
        ({"room": "R", "valid_from": "tomorrow"}, "valid_from"),
        ({"room": "R", "valid_from": True}, "valid_from"),
        ({"room": "R", "on_duplicate": "kick"}, "on_duplicate"),
        ({"room": "R", "length": 4}, "length"),
        ({"room": "R", "length": "8"}, "length"),
        ({"room": "R", "ends_with_room": "yes"}, "ends_with_room"),
        ({"room": "R", "account": "AC123"}, "account"),
        ({"room": "R", "label": "x" * 201}, "label"),
        ({"room": "R", "pin": "246810"}, "pin"),  # the PIN is always generated by the server
        ([], "body"),
    ],
)
def test_bad_pin_input_is_a_400_naming_the_field_and_writes_nothing(
    api: AdminHandler, dynamodb: Any, body: Any, field: str
):
    before = items(dynamodb)
    status, answer = api.call("POST", "/admin/pins", body)
    assert (status, answer["error"], answer["field"]) == (400, "invalid_request", field)
    assert answer["message"]
    assert items(dynamodb) == before


def test_a_body_that_is_not_json_is_a_400(api: AdminHandler):
    status, answer = api.call("POST", "/admin/pins", raw="room=Board")
    assert (status, answer["field"]) == (400, "body")


def test_an_idempotent_retry_makes_no_second_pin_and_names_the_first(
    api: AdminHandler, dynamodb: Any, clock: Clock
):
    key = {"Idempotency-Key": "visit-42-create"}
    status, first = api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers=key)
    assert status == 201
    before = items(dynamodb)
    clock.now += 3600
    status, retry = api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers=key)
    assert (status, retry["error"], retry["pin_id"]) == (409, "conflict", first["id"])
    assert "pin" not in retry
    assert items(dynamodb) == before
    # Another key is another PIN; the same key a day later is a new request.
    assert (
        api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers={"Idempotency-Key": "other"})[0] == 201
    )
    clock.now += 86_400
    status, later = api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers=key)
    assert status == 201 and later["id"] != first["id"]


def test_a_bad_idempotency_key_is_a_400(api: AdminHandler, dynamodb: Any):
    before = items(dynamodb)
    status, answer = api.call("POST", "/admin/pins", {"room": "R"}, headers={"Idempotency-Key": "x" * 256})
    assert (status, answer["field"]) == (400, "idempotency_key")
    assert items(dynamodb) == before


def test_list_a_rooms_pins_without_the_pins(api: AdminHandler):
    created = [
        api.call("POST", "/admin/pins", {"room": "Visit-42", "identity": who})[1] for who in ("a", "b")
    ]
    api.call("POST", "/admin/pins", {"room": "Visit-43"})
    status, body = api.call("GET", "/admin/pins", query={"room": "Visit-42"})
    assert status == 200
    assert sorted(p["id"] for p in body["pins"]) == sorted(c["id"] for c in created)
    assert {p["identity"] for p in body["pins"]} == {"a", "b"}
    assert all("pin" not in p for p in body["pins"])
    assert all(c["pin"] not in str(body) for c in created)
    assert api.call("GET", "/admin/pins", query={"room": "Nobody"}) == (200, {"pins": [], "unreadable": 0})


def test_listing_or_revoking_pins_needs_a_room(api: AdminHandler):
    for method in ("GET", "DELETE"):
        status, body = api.call(method, "/admin/pins")
        assert (status, body["field"]) == (400, "room")


def test_revoke_one_pin(api: AdminHandler, dynamodb: Any):
    created = api.call("POST", "/admin/pins", {"room": "Visit-42"})[1]
    status, body = api.call("DELETE", f"/admin/pins/{created['id']}")
    assert (status, body) == (200, {"revoked": [created["id"]]})
    assert Directory(dynamodb, TABLE).pin_grant(created["id"]) is None
    assert api.call("GET", "/admin/pins", query={"room": "Visit-42"})[1]["pins"] == []
    status, body = api.call("DELETE", f"/admin/pins/{created['id']}")
    assert (status, body["error"], body["field"]) == (404, "not_found", "pin_id")
    status, body = api.call("DELETE", "/admin/pins/246810")  # an id, never a PIN
    assert (status, body["field"]) == (400, "pin_id")


def test_revoke_all_of_a_room_leaves_the_others(api: AdminHandler, dynamodb: Any):
    doomed = [api.call("POST", "/admin/pins", {"room": "Visit-42"})[1]["id"] for _ in range(3)]
    kept = api.call("POST", "/admin/pins", {"room": "Visit-43"})[1]["id"]
    status, body = api.call("DELETE", "/admin/pins", query={"room": "Visit-42"})
    assert status == 200 and sorted(body["revoked"]) == sorted(doomed)
    directory = Directory(dynamodb, TABLE)
    assert all(directory.pin_grant(pin_id) is None for pin_id in doomed)
    assert directory.pin_grant(kept) is not None
    assert directory.pin_grant(hash_pin(DEV_PIN_PEPPER, "246810")) is not None  # the seed's PINs
    assert api.call("DELETE", "/admin/pins", query={"room": "Visit-42"}) == (200, {"revoked": []})


def test_routes_create_list_replace_remove(api: AdminHandler, dynamodb: Any):
    number = "+15551230000"
    status, body = api.call("POST", "/admin/routes", {"number": number, "room": "Board", "attempts": 4})
    assert (status, body["room"], body["mode"], body["attempts"]) == (201, "Board", "direct", 4)
    status, body = api.call("POST", "/admin/routes", {"number": number, "room": "Other"})
    assert (status, body["error"]) == (409, "conflict")
    assert Directory(dynamodb, TABLE).route(number).room == "Board"
    status, body = api.call("PUT", f"/admin/routes/{number}", {"mode": "pin", "greeting": "Hello"})
    assert (status, body["mode"], body["room"], body["greeting"]) == (200, "pin", None, "Hello")
    assert Directory(dynamodb, TABLE).route(number).mode == "pin"
    status, body = api.call("PUT", "/admin/routes/%2B15551230009", {"room": "New"})  # encoded +: a new route
    assert (status, body["number"]) == (200, "+15551230009")
    status, body = api.call("GET", "/admin/routes")
    assert [r["number"] for r in body["routes"]] == sorted(
        [DIRECT_NUMBER, PIN_NUMBER, number, "+15551230009"]
    )
    status, body = api.call("DELETE", f"/admin/routes/{number}")
    assert (status, body["number"]) == (200, number)
    assert Directory(dynamodb, TABLE).route(number) is None
    status, body = api.call("DELETE", f"/admin/routes/{number}")
    assert (status, body["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/admin/routes", {"number": "+1555", "room": "R"}, "number"),
        ("POST", "/admin/routes", {"number": "+15551230000"}, "room"),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "mode": "sip"}, "mode"),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "attempts": 11}, "attempts"),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "attempts": "3"}, "attempts"),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "greeting": "\x07"}, "greeting"),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "colour": "red"}, "colour"),
        (
            "POST",
            "/admin/routes",
            {"number": "+15551230000", "mode": "pin", "pin_input": "speech"},
            "pin_input",
        ),
        (
            "POST",
            "/admin/routes",
            {"number": "+15551230000", "room": "R", "pin_input": "dtmf speech"},
            "pin_input",
        ),
        (
            "POST",
            "/admin/routes",
            {"number": "+15551230000", "room": "R", "prompts": {"HELLO": "x"}},
            "prompts",
        ),
        ("POST", "/admin/routes", {"number": "+15551230000", "room": "R", "prompts": ["x"]}, "prompts"),
        ("PUT", "/admin/routes/+15551230000", {"number": "+15551230001", "room": "R"}, "number"),
        ("PUT", "/admin/routes/5551230000", {"room": "R"}, "number"),
        ("DELETE", "/admin/routes/not-a-number", None, "number"),
    ],
)
def test_bad_route_input_is_a_400_naming_the_field_and_writes_nothing(
    api: AdminHandler, dynamodb: Any, method: str, path: str, body: Any, field: str
):
    before = items(dynamodb)
    status, answer = api.call(method, path, body)
    assert (status, answer["field"]) == (400, field), answer
    assert items(dynamodb) == before


def test_a_route_with_a_spoken_pin_and_prompts_of_its_own(api: AdminHandler, dynamodb: Any):
    body = {"number": "+15551230009", "mode": "pin", "language": "de-DE", "pin_input": "dtmf speech"}
    body["prompts"] = {"PIN_PROMPT": "Ihre Raum-PIN, bitte."}
    status, answer = api.call("POST", "/admin/routes", body)
    assert status == 201, answer
    assert (answer["pin_input"], answer["prompts"]) == (
        "dtmf speech",
        {"PIN_PROMPT": "Ihre Raum-PIN, bitte."},
    )
    route = Directory(dynamodb, TABLE).route("+15551230009")
    assert route.pin_input == "dtmf speech" and dict(route.prompts) == body["prompts"]


def test_an_unknown_route_is_a_404(api: AdminHandler):
    status, body = api.call("PATCH", "/admin/pins")
    assert (status, body["error"]) == (404, "not_found")


def test_a_table_fault_is_a_503_and_never_a_crash(api: AdminHandler, monkeypatch: pytest.MonkeyPatch):
    api.app.admin.table = "missing-table"
    status, body = api.call("POST", "/admin/pins", {"room": "Visit-42"})
    assert (status, body["error"]) == (503, "unavailable")


def test_logs_never_hold_the_pin(api: AdminHandler, emitted: Any):
    body = api.call("POST", "/admin/pins", {"room": "Visit-42"})[1]
    api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers={"Idempotency-Key": "k"})
    api.call("POST", "/admin/pins", {"room": "Visit-42"}, headers={"Idempotency-Key": "k"})
    out = emitted()
    assert body["pin"] not in out.text
    assert "admin request" in out.text


def test_nothing_of_the_admin_code_is_imported_on_the_voice_webhooks_path():
    voice = modules_after_import("voice")
    assert "dialin.voice.app" in voice
    assert not {m for m in voice if m.startswith(("dialin.admin", "dialin.rooms.pins"))}
    admin = modules_after_import("admin")
    assert {"dialin.admin.api", "dialin.rooms.pins"} <= admin  # the probe sees them where they are used
    assert "twilio.rest" not in admin and "aws_lambda_powertools.event_handler" not in admin
