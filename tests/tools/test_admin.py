"""Route and PIN administration against moto: validation, duplicates, import, stack targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.voice import TABLE, Clock

from dialin.admin import bulk, checks, specs, table
from dialin.admin.table import Admin
from dialin.core.pins import RECOMMENDED_PIN_LENGTH, group_digits, hash_pin
from dialin.core.records import PinGrant
from dialin.voice.directory import Directory
from dialin_tools.commands.admin.targets import stack_target
from dialin_tools.commands.serve.seed import DEMO_SEED
from dialin_tools.errors import Conflict, Invalid, NotFound
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

ALICE_PIN = "246810"  # in events/seed.json
NOW = 1_800_000_000  # conftest's clock


@pytest.fixture
def directory_admin(dynamodb: Any, clock: Clock) -> Admin:
    return Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock)


@pytest.fixture
def empty_admin(aws: None, template: dict[str, Any], clock: Clock) -> Admin:
    client = boto3.client("dynamodb", region_name="us-east-1")
    tpl.create_table(client, template, "empty")
    return Admin(client, "empty", DEV_PIN_PEPPER, clock=clock)


def snapshot(adm: Admin) -> list[dict[str, Any]]:
    items = adm.client.scan(TableName=adm.table)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


# Validation: a clear message, and nothing reaches the table.


@pytest.mark.parametrize(
    "number",
    ["4155550199", "+0415555019", "+1415", "+1 415 555 0199", "+1415555019912345", "", "+1415abc0199"],
)
def test_route_rejects_numbers_that_are_not_e164(number: str):
    with pytest.raises(Invalid, match=r"E\.164") as caught:
        specs.make_route(number, room="Room")
    if number:
        assert number not in str(caught.value)  # errors never repeat a phone number


def test_names_are_limited_to_128_characters():
    assert specs.make_route("+15551230000", room="r" * 128).room == "r" * 128
    with pytest.raises(Invalid, match="room is longer than 128 characters"):
        specs.make_route("+15551230000", room="r" * 129)
    with pytest.raises(Invalid, match="identity is longer than 128 characters"):
        specs.make_pin_spec("Room", identity="i" * 129, now=NOW)
    with pytest.raises(Invalid, match="room is longer than 128 characters"):
        specs.make_pin_spec("r" * 129, now=NOW)
    with pytest.raises(Invalid, match="control or bidirectional formatting characters"):
        specs.make_pin_spec("Room", identity="al\nice", now=NOW)


def test_a_personal_identity_may_not_pass_for_a_dial_out_leg(directory_admin: Admin):
    before = snapshot(directory_admin)
    with pytest.raises(Invalid, match="may not start with dialout-"):
        directory_admin.add_pin(specs.make_pin_spec("Room", identity="dialout-alice", now=NOW))
    assert snapshot(directory_admin) == before
    assert specs.make_pin_spec("Room", identity="alice-dialout-", now=NOW).identity == "alice-dialout-"


def test_a_direct_number_needs_a_room_and_a_pin_number_does_not():
    with pytest.raises(Invalid, match="needs a room"):
        specs.make_route("+15551230000")
    route = specs.make_route("+15551230000", mode="pin", attempts="4")
    assert (route.mode, route.room, route.attempts) == ("pin", "", 4)
    with pytest.raises(Invalid, match="attempts must be"):
        specs.make_route("+15551230000", mode="pin", attempts="11")


@pytest.mark.parametrize(
    "pin", ["12345", "1", "12a456", "12 3456", "１２３４５６", "٢٤٦٨١٠", "12345678901234567"]
)
def test_pins_must_be_6_to_16_ascii_digits(pin: str):
    with pytest.raises(Invalid, match="PIN must be") as caught:
        checks.check_pin(pin)
    if len(pin) > 2:
        assert pin not in str(caught.value)


def test_times_are_iso_8601_without_offset_meaning_utc():
    assert checks.parse_time("2030-01-31T17:00:00Z", "t") == 1_896_109_200
    assert checks.parse_time("2030-01-31T17:00:00", "t") == 1_896_109_200
    assert checks.parse_time("2030-01-31T19:00:00+02:00", "t") == 1_896_109_200
    assert checks.parse_time("2030-01-31", "t") == 1_896_048_000
    assert checks.parse_time("1896109200", "t") == 1_896_109_200
    with pytest.raises(Invalid, match="ISO-8601"):
        checks.parse_time("next tuesday", "valid-until")


def test_pin_window_must_make_sense():
    with pytest.raises(Invalid, match="later than valid-from"):
        specs.make_pin_spec("Room", valid_from="2030-02-01", valid_until="2030-01-01", now=NOW)
    with pytest.raises(Invalid, match="already past"):
        specs.make_pin_spec("Room", valid_until="2020-01-01", now=NOW)


# Routes


def test_add_list_and_remove_a_route(directory_admin: Admin, dynamodb: Any):
    route = specs.make_route(
        "+15551230000", room="Board", greeting="Hello", voice="Polly.Amy", language="en-GB"
    )
    directory_admin.add_route(route)
    assert Directory(dynamodb, TABLE).route("+15551230000") == route
    routes, bad = directory_admin.list_routes()
    assert [r.number for r in routes] == ["+15551230000", "+15555550100", "+15555550101"]
    assert bad == 0
    assert directory_admin.remove_route("+15551230000") == route
    assert Directory(dynamodb, TABLE).route("+15551230000") is None
    with pytest.raises(NotFound):
        directory_admin.remove_route("+15551230000")


def test_an_existing_route_is_kept_unless_replace(directory_admin: Admin, dynamodb: Any):
    before = snapshot(directory_admin)
    other = specs.make_route("+15555550100", room="Elsewhere")
    with pytest.raises(Conflict, match="already has a route"):
        directory_admin.add_route(other)
    assert snapshot(directory_admin) == before
    directory_admin.add_route(other, replace=True)
    assert Directory(dynamodb, TABLE).route("+15555550100").room == "Elsewhere"


# PINs


def test_generated_pin_is_stored_only_as_its_hmac(directory_admin: Admin, dynamodb: Any):
    spec = specs.make_pin_spec("ClinicRoom1", identity="bob", label="Bob", now=NOW)
    new = directory_admin.add_pin(spec)
    assert new.generated and len(new.pin) == RECOMMENDED_PIN_LENGTH and new.pin.isdigit()
    assert new.grant.pin_hash == hash_pin(DEV_PIN_PEPPER, new.pin)
    assert Directory(dynamodb, TABLE).pin_grant(new.grant.pin_hash).identity == "bob"
    assert new.pin not in json.dumps(snapshot(directory_admin))


def test_generated_pin_length(directory_admin: Admin):
    new = directory_admin.add_pin(specs.make_pin_spec("Room", now=NOW), length=10)
    assert len(new.pin) == 10
    with pytest.raises(Invalid, match="length"):
        directory_admin.add_pin(specs.make_pin_spec("Room", now=NOW), length=5)


def test_duplicate_pin_is_rejected_and_nothing_changes(directory_admin: Admin, dynamodb: Any):
    before = snapshot(directory_admin)
    spec = specs.make_pin_spec("OtherRoom", identity="mallory", now=NOW)
    with pytest.raises(Conflict, match="already in use") as caught:
        directory_admin.add_pin(spec, pin=ALICE_PIN)
    assert ALICE_PIN not in str(caught.value)
    assert snapshot(directory_admin) == before
    grant = Directory(dynamodb, TABLE).pin_grant(hash_pin(DEV_PIN_PEPPER, ALICE_PIN))
    assert (grant.room, grant.identity) == ("ClinicRoom1", "alice")


def test_short_pin_is_rejected_before_writing(directory_admin: Admin):
    before = snapshot(directory_admin)
    with pytest.raises(Invalid, match="6 to 16 digits"):
        directory_admin.add_pin(specs.make_pin_spec("Room", now=NOW), pin="12345")
    assert snapshot(directory_admin) == before


def test_a_stack_may_require_longer_pins(dynamodb: Any, clock: Clock):
    strict = Admin(dynamodb, TABLE, DEV_PIN_PEPPER, min_pin_length=8, pin_length=6, clock=clock)
    with pytest.raises(Invalid, match="8 to 16 digits"):
        strict.add_pin(specs.make_pin_spec("Room", now=NOW), pin="135792")
    assert len(strict.add_pin(specs.make_pin_spec("Room", now=NOW)).pin) == 8


def test_valid_until_sets_the_ttl_after_the_window(directory_admin: Admin, dynamodb: Any):
    spec = specs.make_pin_spec(
        "Board", valid_from="2030-01-01T09:00:00Z", valid_until="2030-01-01T17:00:00Z", now=NOW
    )
    new = directory_admin.add_pin(spec, pin="97531086")
    item = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"PIN#{new.grant.pin_hash}"}, "sk": {"S": "PIN"}}
    )
    item = item["Item"]
    assert int(item["valid_from"]["N"]) == 1_893_488_400
    assert int(item["valid_until"]["N"]) == 1_893_517_200
    assert int(item["expires_at"]["N"]) == 1_893_517_200 + specs.EXPIRY_GRACE_SECONDS
    assert PinGrant.from_item(item).usable("+15555550101", 1_893_500_000)
    assert not PinGrant.from_item(item).usable("+15555550101", 1_893_517_200)


def test_list_pins_never_holds_a_pin(directory_admin: Admin):
    grants, bad = directory_admin.list_pins()
    assert bad == 0
    assert [(g.room, g.identity, g.label) for g, _ in grants] == [
        ("ClinicRoom1", "", "Guest PIN for clinic room 1"),
        ("ClinicRoom1", "alice", "Alice, personal PIN"),
    ]
    assert ALICE_PIN not in repr(grants)


def test_revoke_by_pin(directory_admin: Admin, dynamodb: Any):
    grant = directory_admin.revoke_pin(ALICE_PIN)
    assert grant.identity == "alice"
    assert Directory(dynamodb, TABLE).pin_grant(hash_pin(DEV_PIN_PEPPER, ALICE_PIN)) is None
    with pytest.raises(NotFound):
        directory_admin.revoke_pin(ALICE_PIN)


def test_revoke_by_hash_prefix(directory_admin: Admin):
    guest_hash = hash_pin(DEV_PIN_PEPPER, "135790")
    grant = directory_admin.revoke_pin(guest_hash[: table.HASH_SHOWN].upper(), hash_prefix=True)
    assert grant.pin_hash == guest_hash
    assert [g.identity for g, _ in directory_admin.list_pins()[0]] == ["alice"]
    with pytest.raises(NotFound, match="at least 8"):
        directory_admin.revoke_pin(guest_hash[:6], hash_prefix=True)


def test_an_unknown_pin_is_never_read_as_a_hash_prefix(directory_admin: Admin):
    """Digits that are no PIN but begin another PIN's hash delete nothing."""
    pin = next(
        p
        for p in (f"{n:08d}" for n in range(10_000_000, 10_100_000))
        if hash_pin(DEV_PIN_PEPPER, p)[:8].isdigit()
    )
    directory_admin.add_pin(specs.make_pin_spec("Board"), pin=pin)
    digits = hash_pin(DEV_PIN_PEPPER, pin)[:8]
    with pytest.raises(NotFound):
        directory_admin.revoke_pin(digits)
    with pytest.raises(Invalid, match="a hash prefix") as refused:
        directory_admin.revoke_pin(digits + "x")
    assert "--hash-prefix" in refused.value.for_cli()
    assert len(directory_admin.list_pins()[0]) == 3
    assert directory_admin.revoke_pin(digits, hash_prefix=True).room == "Board"


# Import


CSV_GOOD = """kind,number,mode,room,identity,pin,valid_until,label,attempts
route,+15551230000,direct,Board,,,,,
route,+15551230001,pin,,,,,,5
pin,,,Board,carol,97531086,2030-01-31T17:00:00Z,Carol,
pin,+15551230001,,Board,,,,Guests (generated),
"""


def test_import_csv(empty_admin: Admin):
    path_rows = bulk.rows_from_csv(CSV_GOOD)
    plan = empty_admin.import_rows(path_rows)
    assert [r.number for _, r in plan.routes] == ["+15551230000", "+15551230001"]
    assert plan.routes[1][1].attempts == 5
    carol, guest = (new for _, new in plan.pins)
    assert (carol.pin, carol.generated, carol.grant.identity) == ("97531086", False, "carol")
    assert carol.expires_at == 1_896_109_200 + specs.EXPIRY_GRACE_SECONDS
    assert guest.generated and guest.grant.number == "+15551230001"
    directory = Directory(empty_admin.client, "empty")
    assert directory.route("+15551230000").room == "Board"
    assert directory.pin_grant(hash_pin(DEV_PIN_PEPPER, guest.pin)).label == "Guests (generated)"
    # Two routes, two PINs, and each PIN's membership item in its room.
    assert len(snapshot(empty_admin)) == 6
    assert sorted(e.pin_id for e in empty_admin.room_pins("Board")[0]) == sorted(
        new.grant.pin_hash for _, new in plan.pins
    )


def test_import_with_a_bad_row_writes_nothing(empty_admin: Admin):
    bad = (
        CSV_GOOD
        + "pin,,,Board,dave,12345,,,\nroute,+1555,direct,Board,,,,,\nroute,+15551230000,direct,Dup,,,,,\n"
    )
    with pytest.raises(Invalid) as caught:
        empty_admin.import_rows(bulk.rows_from_csv(bad))
    message = str(caught.value)
    assert "nothing was imported" in message
    assert "line 6: PIN must be 6 to 16 digits long" in message
    assert "line 7: number must be an E.164" in message
    assert "line 8: the same number as line 2" in message
    assert "12345" not in message
    assert snapshot(empty_admin) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind,room,colour\npin,Board,red\n", "unknown or missing CSV column"),
        ("room\nBoard\n", "unknown or missing CSV column"),
        ("kind,room,identity\nroute,Board,alice\n", "do not apply to a route"),
        ("kind,room\nmeeting,Board\n", "kind must be route or pin"),
    ],
)
def test_malformed_csv_is_rejected(empty_admin: Admin, text: str, problem: str):
    with pytest.raises(Invalid, match=problem):
        empty_admin.import_rows(bulk.rows_from_csv(text))
    assert snapshot(empty_admin) == []


def test_import_json_in_the_seed_shape(empty_admin: Admin, tmp_path: Path):
    plan = empty_admin.import_file(DEMO_SEED)
    assert (len(plan.routes), len(plan.pins)) == (2, 2)
    assert {new.pin for _, new in plan.pins} == {"246810", "135790"}
    with pytest.raises(Invalid, match=r"routes\[0\]: the number already has a route") as caught:
        empty_admin.import_file(DEMO_SEED)
    assert r"pins[0]: that PIN is already in use" in str(caught.value)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"pins": [{"pin": 246810, "room": "Board"}, {"room": "Board", "idenity": "x"}]})
    )
    with pytest.raises(Invalid) as caught:
        empty_admin.import_file(bad)
    assert "pins[0]: pin must be text" in str(caught.value)
    assert "pins[1]: field(s) idenity do not apply to a pin" in str(caught.value)


def test_import_replace_overwrites_routes_but_never_pins(
    directory_admin: Admin, tmp_path: Path, dynamodb: Any
):
    path = tmp_path / "routes.json"
    path.write_text(json.dumps({"routes": [{"number": "+15555550100", "room": "Renamed"}]}))
    directory_admin.import_file(path, replace_routes=True)
    assert Directory(dynamodb, TABLE).route("+15555550100").room == "Renamed"
    path.write_text(json.dumps({"pins": [{"pin": ALICE_PIN, "room": "Renamed"}]}))
    with pytest.raises(Invalid, match="already in use"):
        directory_admin.import_file(path, replace_routes=True)


# A deployed stack as the target (CloudFormation and Secrets Manager in moto)


def test_stack_target_reads_outputs_and_the_pepper_secret(aws: None, template: dict[str, Any]):
    session = boto3.session.Session(region_name="us-east-1")
    secret = session.client("secretsmanager").create_secret(Name="pepper", SecretString="stack-pepper")
    table = tpl.table_definition(template, "ignored")
    body = {
        "Parameters": {"MinPinLength": {"Type": "Number", "Default": 8}, "PepperArn": {"Type": "String"}},
        "Resources": {
            "DirectoryTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {k: table[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode")},
            }
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": "DirectoryTable"}},
            "PinPepperSecretArn": {"Value": {"Ref": "PepperArn"}},
        },
    }
    session.client("cloudformation").create_stack(
        StackName="dialin-test",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": "PepperArn", "ParameterValue": secret["ARN"]}],
    )
    target = stack_target("dialin-test", session)
    assert not target.local and target.admin.min_pin_length == 8
    new = target.admin.add_pin(specs.make_pin_spec("Board", identity="erin"), pin="24681357")
    assert new.grant.pin_hash == hash_pin("stack-pepper", "24681357")
    directory = Directory(session.client("dynamodb"), target.admin.table)
    assert directory.pin_grant(hash_pin("stack-pepper", "24681357")).identity == "erin"


def test_stack_without_the_outputs_is_refused(aws: None):
    session = boto3.session.Session(region_name="us-east-1")
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    session.client("cloudformation").create_stack(StackName="other", TemplateBody=json.dumps(body))
    with pytest.raises(Invalid, match="no TableName and PinPepperSecretArn outputs"):
        stack_target("other", session)


def test_generated_pins_already_in_use_are_drawn_again(
    directory_admin: Admin, monkeypatch: pytest.MonkeyPatch, dynamodb: Any
):
    draws = iter([ALICE_PIN, "135790", "864200", ALICE_PIN, "975310"])
    monkeypatch.setattr(specs, "generate_pin", lambda length: next(draws))
    new = directory_admin.add_pin(specs.make_pin_spec("Board", identity="fay", now=NOW))
    assert new.pin == "864200"  # the first two draws are the demo PINs, already in use
    plan = directory_admin.import_rows(bulk.rows_from_csv("kind,room,identity\npin,Board,gus\n"))
    assert [new.pin for _, new in plan.pins] == ["975310"]
    assert Directory(dynamodb, TABLE).pin_grant(hash_pin(DEV_PIN_PEPPER, "975310")).identity == "gus"
    grant = Directory(dynamodb, TABLE).pin_grant(hash_pin(DEV_PIN_PEPPER, ALICE_PIN))
    assert grant.identity == "alice"


# Prompts per route, spoken PINs


def test_a_routes_own_prompts_and_spoken_pin_round_trip(directory_admin: Admin, dynamodb: Any):
    route = specs.make_route(
        "+15551230002",
        mode="pin",
        language="de-DE",
        pin_input="dtmf speech",
        prompts={"PIN_PROMPT": "Ihre Raum-PIN, bitte.", "GAVE_UP": "Bis später."},
    )
    directory_admin.add_route(route)
    stored = Directory(dynamodb, TABLE).route("+15551230002")
    assert stored == route and stored.pin_input == "dtmf speech"
    assert dict(stored.prompts) == {"PIN_PROMPT": "Ihre Raum-PIN, bitte.", "GAVE_UP": "Bis später."}


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        ({"PIN_PROMT": "x"}, "unknown prompt 'PIN_PROMT'; prompts are: CONNECTING,"),
        ({"PIN_PROMPT": " "}, "prompt PIN_PROMPT needs a text"),
        ({"PIN_PROMPT": "a\x07b"}, "prompt PIN_PROMPT contains control or bidirectional"),
        ({"PIN_PROMPT": "x" * 1001}, "prompt PIN_PROMPT is longer than 1000 characters"),
        ({"DIAL_OUT_INVITE_BY": "Hallo."}, "prompt DIAL_OUT_INVITE_BY must have {caller}"),
        ({"PIN_PROMPT": "PIN {"}, "prompt PIN_PROMPT cannot contain { or }"),
        ({"DIAL_OUT_INVITE_BY": "{caller} {"}, "prompt DIAL_OUT_INVITE_BY has a stray { or }"),
    ],
)
def test_bad_prompts_are_refused(prompts: dict[str, str], message: str):
    with pytest.raises(Invalid) as raised:
        specs.make_route("+15551230002", mode="pin", prompts=prompts)
    assert str(raised.value).startswith(message)


def test_a_spoken_pin_needs_a_pin_number():
    with pytest.raises(Invalid, match="a spoken PIN applies to PIN numbers"):
        specs.make_route("+15551230002", room="Board", pin_input="dtmf speech")
    with pytest.raises(Invalid, match="PIN input must be one of: dtmf, dtmf speech"):
        specs.make_route("+15551230002", mode="pin", pin_input="speech")


def test_unknown_languages_get_a_note_and_known_ones_none():
    assert specs.language_note("de-DE") == specs.language_note("") == ""
    note = specs.language_note("ja-JP")
    assert note.startswith("no prompts in ja-JP: callers hear English prompts")  # each door adds its how-to
    assert "de, en, es, fr, pt" in note


def test_import_csv_takes_spoken_pin_routes(empty_admin: Admin):
    rows = bulk.rows_from_csv(
        "kind,number,mode,language,pin_input\nroute,+15551230003,pin,es-MX,dtmf speech\n"
    )
    plan = empty_admin.import_rows(rows)
    assert [(r.pin_input, r.language) for _, r in plan.routes] == [("dtmf speech", "es-MX")]
    assert Directory(empty_admin.client, "empty").route("+15551230003").pin_input == "dtmf speech"


@pytest.mark.parametrize(
    ("pin", "spoken"),
    [("246810", "246 810"), ("1234567890", "123 456 7890"), ("12345678901", "123 456 789 01")],
)
def test_pins_are_grouped_for_reading_aloud(pin: str, spoken: str):
    assert group_digits(pin) == spoken


@pytest.mark.parametrize(
    "text",
    ["Board\u202eevil", "Board\u2066x", "a\u200fb", "room\x85", "x\x9b1m", "Board\n"],
)
def test_bidi_and_c1_controls_are_refused(text: str):
    with pytest.raises(Invalid, match="control or bidirectional"):
        checks.check_name(text, "room")
    with pytest.raises(Invalid, match="control or bidirectional"):
        checks.check_text(text, "label", 200)


def test_e164_is_matched_in_full():
    for bad in ("+15551230000\n", "+15551230000 ", "\n+15551230000"):
        with pytest.raises(Invalid):
            checks.check_number(bad)
    assert checks.check_number("+15551230000") == "+15551230000"
