"""A room's PINs: one membership item per (room, PIN), so a room's PINs are listed and
revoked with a Query, never a table scan; and the revocation of PINs that end with their
meeting (on the first ``room-ended`` of their room after they were created).

  membership: pk = ROOMPINS#<room>, sk = PIN#<hex HMAC of the PIN>
    the grant's attributes (as on the PIN item, read back by ``PinGrant.from_item``), plus
    ``created_at`` (N, seconds; ``created_ms`` the same in ms), ``ends_with_room`` (BOOL),
    ``account`` (S, optional: the Twilio account whose room it is) and the PIN's
    ``expires_at`` (TTL), so both go together.

Used by the admin core (which writes both items in one transaction) and by the room-events
function (which may delete tied PINs only). Nothing here is on the voice webhook's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..core.keys import PIN, membership_key, pin_key, room_pins_pk
from ..core.records import MalformedRecord, PinGrant, number_attribute
from ..edge import faults
from ..edge.dynamo import TRANSACTION_CANCELED, error_code, items
from ..edge.observability import count, logger

ENTRY_TYPE = "room-pin"


@dataclass(frozen=True)
class RoomPin:
    """A PIN as its room's membership item records it (never the PIN itself)."""

    grant: PinGrant
    created_at: int
    ends_with_room: bool = False
    account: str = ""
    expires_at: int | None = None
    created_ms: int = 0  # the same moment in ms (items written before it have created_at only)

    @property
    def pin_id(self) -> str:
        return self.grant.pin_hash

    def to_item(self) -> dict[str, Any]:
        item = self.grant.to_item(self.expires_at)
        item.update(membership_key(self.grant.room, self.grant.pin_hash))
        item["type"] = {"S": ENTRY_TYPE}
        item["created_at"] = {"N": str(self.created_at)}
        if self.created_ms:
            item["created_ms"] = {"N": str(self.created_ms)}
        item["ends_with_room"] = {"BOOL": self.ends_with_room}
        if self.account:
            item["account"] = {"S": self.account}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RoomPin:
        sk = item.get("sk", {}).get("S", "")
        if not isinstance(sk, str) or not sk.startswith(PIN):
            raise MalformedRecord("room PIN entry has the wrong sort key")
        grant = PinGrant.from_item({**item, "pk": {"S": sk}})
        created = number_attribute(item, "created_at")
        tied = item.get("ends_with_room", {"BOOL": False})
        account = item.get("account", {"S": ""})
        if created is None or not isinstance(tied.get("BOOL"), bool) or not isinstance(account.get("S"), str):
            raise MalformedRecord("room PIN entry lacks created_at, ends_with_room or account")
        expires, created_ms = number_attribute(item, "expires_at"), number_attribute(item, "created_ms") or 0
        return cls(grant, created, tied["BOOL"], account["S"], expires, created_ms)

    def ends_on(self, account: str, ended_at: float, further: tuple[str, ...] = ()) -> bool:
        """Revoked by a ``room-ended`` of ``account``'s room at ``ended_at``: a PIN of that
        account (one without an account is the main account's; ``further``: TwilioAccounts),
        never another tenant's room of the same name. Not one made after the end (to the
        millisecond: one made 400 ms after it is the next meeting's), nor one valid only from
        the end on."""
        ended_ms = int(ended_at * 1000)
        before = (self.created_ms or self.created_at * 1000) < ended_ms
        later = self.grant.valid_from is not None and self.grant.valid_from * 1000 >= ended_ms
        return self.ends_with_room and self.of_account(account, further) and before and not later

    def of_account(self, account: str, further: tuple[str, ...] = ()) -> bool:
        """One of ``account``'s PINs, by the grant's own rule (``PinGrant.of_account``)."""
        return replace(self.grant, account=self.account).of_account(account, further)


def room_items(client: Any, table: str, room: str) -> Iterator[dict[str, Any]]:
    return items(
        client.query,
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": room_pins_pk(room)}},
        ConsistentRead=True,
    )


def room_pins(client: Any, table: str, room: str) -> tuple[list[RoomPin], int]:
    """A room's PINs by creation time, and how many entries could not be read."""
    entries, bad = [], 0
    for item in room_items(client, table, room):
        try:
            entries.append(RoomPin.from_item(item))
        except MalformedRecord:
            bad += 1
    return sorted(entries, key=lambda e: (e.created_at, e.pin_id)), bad


def delete_pin_actions(table: str, entry: RoomPin, tied_only: bool = False) -> list[dict[str, Any]]:
    """Transaction actions deleting a PIN and its membership item (the PIN may be gone).

    ``tied_only``: only while the membership item is the one read (same ``created_at``)
    and still says the PIN ends with its room.
    """
    membership: dict[str, Any] = {"TableName": table, "Key": membership_key(entry.grant.room, entry.pin_id)}
    if tied_only:
        membership["ConditionExpression"] = "ends_with_room = :tied AND created_at = :created"
        membership["ExpressionAttributeValues"] = {
            ":tied": {"BOOL": True},
            ":created": {"N": str(entry.created_at)},
        }
    return [{"Delete": {"TableName": table, "Key": pin_key(entry.pin_id)}}, {"Delete": membership}]


def delete_entries(
    client: Any, table: str, entries: list[RoomPin], actions: Callable[[RoomPin], list[dict[str, Any]]]
) -> list[RoomPin]:
    """Delete each entry's pair of items, one transaction per entry; returns those deleted.

    One transaction per PIN keeps each PIN and its membership together; an entry whose
    condition no longer holds (changed meanwhile) is left alone.
    """
    deleted = []
    for entry in entries:
        try:
            client.transact_write_items(TransactItems=actions(entry))
        except ClientError as exc:
            if error_code(exc) != TRANSACTION_CANCELED:
                raise
            continue
        deleted.append(entry)
    return deleted


def pin_revoker(client: Any, table: str, further: tuple[str, ...] = ()) -> Callable[[str, str, float], None]:
    """The room-events hook: revoke a room's tied PINs on its first ``room-ended``.

    A fault here is reported and swallowed: the room's state is already saved, and the PINs
    still end with their validity window; the callback itself still answers.
    """

    def revoke(account: str, room: str, ended_at: float) -> None:
        try:
            revoked = revoke_ended_room_pins(client, table, account, room, ended_at, further)
        except (BotoCoreError, ClientError, MalformedRecord) as exc:
            faults.report("pins revocation", exc, room=room)
            return
        if revoked:
            logger.info("pins ended with their room", extra={"room": room, "pins": len(revoked)})
            count("PinsEndedWithRoom", len(revoked))

    return revoke


def revoke_ended_room_pins(
    client: Any, table: str, account: str, room: str, ended_at: float, further: tuple[str, ...] = ()
) -> list[str]:
    """On ``room-ended`` of ``account``'s ``room`` at ``ended_at`` (epoch seconds): delete the
    PINs tied to that room and created before it ended, with their membership items, and
    nothing else. Returns the ids of the PINs revoked. A second delivery deletes nothing.
    """
    entries, _ = room_pins(client, table, room)
    doomed = [e for e in entries if e.ends_on(account, ended_at, further)]
    deleted = delete_entries(client, table, doomed, lambda e: delete_pin_actions(table, e, tied_only=True))
    return [e.pin_id for e in deleted]
