"""PINs that end with their meeting: ``revoke_ended_room_pins`` on moto deletes the PINs tied
to the ended room (created before it ended, of that account) with their membership items,
and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from support.voice import TABLE, Clock

from dialin.admin.specs import make_pin_spec
from dialin.admin.table import Admin
from dialin.core.pins import hash_pin
from dialin.rooms.pins import (
    RoomPin,
    delete_entries,
    delete_pin_actions,
    membership_key,
    revoke_ended_room_pins,
    room_pins,
)
from dialin.voice.directory import Directory
from dialin_tools.lib.apigw import DEV_PIN_PEPPER

ACCOUNT = "AC" + "1" * 32
OTHER_ACCOUNT = "AC" + "2" * 32


@pytest.fixture
def admin(dynamodb: Any, clock: Clock) -> Admin:
    return Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock)


def create(admin: Admin, room: str, *, tied: bool = True, account: str = "") -> str:
    new, _ = admin.create_pin(make_pin_spec(room, now=admin.clock()), ends_with_room=tied, account=account)
    return new.grant.pin_hash


def all_items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_room_end_revokes_the_tied_pins_created_before_it_and_nothing_else(
    admin: Admin, dynamodb: Any, clock: Clock
):
    tied = create(admin, "Visit-42")
    tied_to_account = create(admin, "Visit-42", account=ACCOUNT)
    untied = create(admin, "Visit-42", tied=False)
    other_room = create(admin, "Visit-43")
    other_account = create(admin, "Visit-42", account=OTHER_ACCOUNT)
    ended_at = clock.now + 60
    clock.now += 120
    created_after = create(admin, "Visit-42")  # for the next meeting in that room
    before = all_items(dynamodb)

    revoked = revoke_ended_room_pins(dynamodb, TABLE, ACCOUNT, "Visit-42", ended_at)

    assert sorted(revoked) == sorted([tied, tied_to_account])
    directory = Directory(dynamodb, TABLE)
    for pin_id in revoked:
        assert directory.pin_grant(pin_id) is None
        assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=membership_key("Visit-42", pin_id))
    for pin_id in (untied, other_room, other_account, created_after):
        assert directory.pin_grant(pin_id) is not None
    # Exactly two items per revoked PIN went; the seed's routes and PINs are untouched.
    gone = [item for item in before if item not in all_items(dynamodb)]
    assert len(gone) == 4
    assert directory.pin_grant(hash_pin(DEV_PIN_PEPPER, "246810")) is not None


def test_a_second_delivery_of_room_ended_revokes_nothing(admin: Admin, dynamodb: Any, clock: Clock):
    create(admin, "Visit-42")
    assert len(revoke_ended_room_pins(dynamodb, TABLE, ACCOUNT, "Visit-42", clock.now + 1)) == 1
    after = all_items(dynamodb)
    assert revoke_ended_room_pins(dynamodb, TABLE, ACCOUNT, "Visit-42", clock.now + 1) == []
    assert all_items(dynamodb) == after


def test_an_end_before_the_pin_was_created_revokes_nothing(admin: Admin, dynamodb: Any, clock: Clock):
    pin_id = create(admin, "Visit-42")
    assert revoke_ended_room_pins(dynamodb, TABLE, ACCOUNT, "Visit-42", clock.now - 1) == []
    assert Directory(dynamodb, TABLE).pin_grant(pin_id) is not None


def test_a_pin_recreated_meanwhile_is_not_revoked_by_an_older_read(admin: Admin, dynamodb: Any, clock: Clock):
    """The membership item is deleted only while it is the one read (same created_at)."""
    create(admin, "Visit-42")
    [entry], _ = room_pins(dynamodb, TABLE, "Visit-42")
    newer = RoomPin(entry.grant, entry.created_at + 5, ends_with_room=True)
    dynamodb.put_item(TableName=TABLE, Item=newer.to_item())

    assert (
        delete_entries(dynamodb, TABLE, [entry], lambda e: delete_pin_actions(TABLE, e, tied_only=True)) == []
    )
    assert Directory(dynamodb, TABLE).pin_grant(entry.pin_id) is not None


def test_membership_items_read_back_through_the_runtimes_reader(admin: Admin, dynamodb: Any, clock: Clock):
    pin_id = create(admin, "Visit-42", account=ACCOUNT)
    [entry], unreadable = room_pins(dynamodb, TABLE, "Visit-42")
    assert unreadable == 0
    assert (entry.pin_id, entry.account, entry.ends_with_room, entry.created_at) == (
        pin_id,
        ACCOUNT,
        True,
        int(clock.now),
    )
    assert RoomPin.from_item(entry.to_item()) == entry
    assert entry.grant == Directory(dynamodb, TABLE).pin_grant(pin_id)
