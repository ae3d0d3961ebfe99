"""Bad input an operator or a client can send gets a clear refusal, never a 500 or a
silent acceptance: deeply nested JSON, names with invisible or edge spaces, a CSV that does
not parse (issue 20)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from support.admin_events import AdminHandler
from support.dial_events import calls_event
from support.voice import TABLE

from dialin.admin.bulk import read_rows
from dialin.admin.specs import make_pin_spec
from dialin.admin.table import Admin
from dialin.core.errors import Conflict, Invalid
from dialin.core.records import Route
from dialin.core.validation import MAX_JSON_DEPTH, json_too_deep, new_name_problem
from dialin.dialout.request import BadDialRequest, DialOutSettings, parse_request
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB: json.loads alone raises RecursionError


def test_json_loads_alone_would_crash_on_the_deep_body():
    with pytest.raises(RecursionError):
        json.loads(DEEP)


@pytest.mark.parametrize(
    "body", [DEEP, '{"room": ' + DEEP + "}", '{"prompts": {"a": ' + "[" * 9 + "]" * 9 + "}}"]
)
def test_a_deeply_nested_admin_body_is_400_and_changes_nothing(api: AdminHandler, dynamodb: Any, body: str):
    before = dynamodb.scan(TableName=TABLE)["Count"]
    status, answer = api.call("POST", "/admin/pins", raw=body)
    assert status == 400 and f"deeper than {MAX_JSON_DEPTH} levels" in answer["message"], answer
    assert dynamodb.scan(TableName=TABLE)["Count"] == before


def test_a_deeply_nested_dial_out_body_is_refused_before_parsing():
    with pytest.raises(BadDialRequest, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        parse_request(calls_event(None, raw=DEEP), DialOutSettings(caller_number="+15555550100"), "req-1")


def test_nesting_is_counted_outside_strings_only():
    assert not json_too_deep('{"room": "[[[[[[[[[[[[[[[[[[", "x": [[1]]}')
    assert not json_too_deep('{"a\\\\": "\\"[[[[[[[[[[[["}')
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1))
    assert not json_too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Board\u200b", "invisible character U+200B at position 6"),
        ("\u200dBoard", "invisible character U+200D at position 1"),  # a joiner outside a word
        ("Bo\ufeffard", "invisible character U+FEFF at position 3"),
        ("Bo\u200dard", "invisible character U+200D at position 3"),  # Latin needs no joiner
        (" Board", "leading whitespace"),
        ("Board ", "trailing whitespace"),
    ],
)
def test_names_that_look_like_others_are_refused_saying_which_character(name: str, problem: str):
    assert problem in (new_name_problem(name, "room") or "")


@pytest.mark.parametrize("name", ["Board", "می\u200cخواهم", "क्\u200dष", "👩\u200d💻 team", "Board Room"])
def test_joiners_inside_words_and_inner_spaces_stay_allowed(name: str):
    assert new_name_problem(name, "room") is None


def test_the_admin_api_refuses_an_invisible_room_name_and_creates_nothing(api: AdminHandler, dynamodb: Any):
    before = dynamodb.scan(TableName=TABLE)["Count"]
    status, answer = api.call("POST", "/admin/pins", {"room": "Board\u200b", "identity": "alice"})
    assert status == 400 and "U+200B" in answer["message"], answer
    assert dynamodb.scan(TableName=TABLE)["Count"] == before


def test_a_dial_out_to_a_room_with_a_trailing_space_is_refused():
    body = {"to": "+15555550123", "room": "Board "}
    with pytest.raises(BadDialRequest, match="trailing whitespace"):
        parse_request(
            calls_event(body),
            DialOutSettings(
                caller_number="+15555550100", allowed_prefixes=("+1",), from_numbers=("+15555550100",)
            ),
            "req-1",
        )


def test_a_csv_with_an_unclosed_quote_is_refused_with_its_line(tmp_path: Path):
    path = tmp_path / "rows.csv"
    path.write_text(
        'kind,room,identity\npin,Board,alice\npin,"Board,bob\npin,Clinic,carol\n', encoding="utf-8"
    )
    with pytest.raises(Invalid, match=r"^line 3: the CSV does not parse"):
        read_rows(path)
    path.write_text('kind,room,identity\npin,"Board"x,alice\n', encoding="utf-8")
    with pytest.raises(Invalid, match=r"^line 2: the CSV does not parse"):
        read_rows(path)
    path.write_text('kind,"room\npin,Board\n', encoding="utf-8")
    with pytest.raises(Invalid, match=r"^line 1 \(the header row\): the CSV does not parse"):
        read_rows(path)


def test_a_deeply_nested_json_import_file_is_refused(tmp_path: Path):
    path = tmp_path / "rows.json"
    path.write_text('{"pins": ' + DEEP + "}", encoding="utf-8")
    with pytest.raises(Invalid, match="deeper than"):
        read_rows(path)


def test_admin_api_messages_speak_the_api_and_the_cli_its_flags(api: AdminHandler):
    route = {"number": "+15555550177", "mode": "direct", "room": "Board"}
    assert api.call("POST", "/admin/routes", route)[0] in (200, 201)
    status, answer = api.call("POST", "/admin/routes", route)
    assert status == 409 and "PUT /admin/routes/{number} replaces it" in answer["message"], answer
    assert "--" not in answer["message"]
    status, answer = api.call("POST", "/admin/routes", {"number": "+15555550178", "mode": "direct"})
    assert status == 400 and "--room" not in answer["message"] and "needs a room" in answer["message"]
    try:
        Admin(api.app.admin.client, TABLE, DEV_PIN_PEPPER).add_route(Route("+15555550177", room="Board"))
    except Conflict as exc:
        assert "use --replace to overwrite it" in exc.for_cli() and "--replace" not in str(exc)
    else:
        pytest.fail("a second route for one number must be refused")


def test_the_admin_api_warns_of_what_it_accepts_but_will_not_do(api: AdminHandler):
    status, saved = api.call(
        "POST", "/admin/routes", {"number": "+15555550179", "room": "Board", "language": "xx-YY"}
    )
    assert status == 201 and saved["language"] == "xx-YY"
    assert saved["warnings"] == [
        "no prompts in xx-YY: callers hear English prompts (catalogues: de, en, es, fr, pt); "
        "give the route its own texts in prompts"
    ]
    status, saved = api.call("PUT", "/admin/routes/+15555550179", {"room": "Board", "language": "fr-FR"})
    assert status == 200 and "warnings" not in saved
    status, created = api.call("POST", "/admin/pins", {"room": "Board", "number": "+15555550198"})
    assert status == 201 and created["warnings"] == [
        "number +15555550198 has no PIN route: the PIN works once it has one"
    ]
    status, created = api.call("POST", "/admin/pins", {"room": "Board", "number": "+15555550101"})
    assert status == 201 and "warnings" not in created


def test_an_unclosed_string_of_escaped_quotes_is_a_plain_400(api: AdminHandler):
    """100 KB of \\" after an opening quote: the depth check reads it once (a naive string
    pattern retried from every quote and took minutes) and the body is refused."""
    unclosed = '"' + '\\"' * 50_000
    assert not json_too_deep(unclosed) and not json_too_deep(unclosed + "[" * 9)  # inside the string
    assert json_too_deep("[" * 9 + unclosed)
    status, answer = api.call("POST", "/admin/pins", raw=unclosed)
    assert status == 400 and "JSON object" in answer["message"], answer


def test_pins_of_a_room_named_before_the_stricter_rule_can_still_be_listed_and_revoked(api: AdminHandler):
    """A room made as "Board " (now refused for new names) is still found to clean it up."""
    admin = api.app.admin
    spec = dataclasses.replace(make_pin_spec("Board", now=admin.clock()), room="Board ")  # as written before
    admin.create_pin(spec)
    status, listed = api.call("GET", "/admin/pins", query={"room": "Board "})
    assert status == 200 and len(listed["pins"]) == 1, listed
    status, revoked = api.call("DELETE", "/admin/pins", query={"room": "Board "})
    assert status == 200 and len(revoked["revoked"]) == 1, revoked
