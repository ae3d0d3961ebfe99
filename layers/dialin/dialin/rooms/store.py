"""The room-events function's writes of the room state (``writes`` builds them): one
conditional UpdateItem per callback, the phone-only mark and listing, the pruning of
identities long gone, and the held-room listings the sweep reads and clears. Apart from
``table`` so the voice function, which reads the state through ``RoomTable``, loads none of
this."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from ..core.keys import HELD_SHARDS, held_key, held_pk, phone_only_key
from ..core.records import MalformedRecord, number_attribute
from ..edge.dynamo import is_conditional_failure, items
from ..edge.observability import logger
from . import writes
from .state import Change, Room, RoomEvent, apply
from .table import Conflict, Held, RoomTable

# Writes of one event: a retry follows only a room-level change (new RoomSid, ended) between
# two tries, so the second try all but always stands.
STORE_TRIES = 4


class RoomStore(RoomTable):
    def record(self, account: str, room: str, event: RoomEvent, expires: int) -> tuple[Room | None, Change]:
        """Store ``event`` with one conditional UpdateItem (``writes``): the item as it was just
        before (None: there was none) and what the event changed. A write whose condition
        failed is planned again on the item it failed on (DynamoDB returns it): stale, or the
        room changed RoomSid or ended meanwhile. Raises Conflict after STORE_TRIES."""
        known, read = Room(account, room), False
        absent = False
        for _ in range(STORE_TRIES):
            write = writes.plan(known, event, expires, read)
            if write is None:
                return (None if absent else known), Change(known, stale=True)
            try:
                answer = self.client.update_item(**write.request(self.table_name, account, room))
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                item = exc.response.get("Item")
                absent, read = not item, True
                known = Room.from_item(item) if item else Room(account, room)
                continue
            attributes = answer.get("Attributes")
            old = Room.from_item(attributes) if attributes else None
            change = apply(old or Room(account, room), event)
            saved = replace(change.room, version=(old.version if old else 0) + 1)
            return old, replace(change, room=saved)
        raise Conflict(room)

    def _update(
        self, write: writes.Write, account: str, room: str, returns: str = "NONE"
    ) -> dict[str, Any] | None:
        """A conditional write on a room's state: its ReturnValues, or None when its condition failed."""
        try:
            answer = self.client.update_item(**write.request(self.table_name, account, room, returns))
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return dict(answer.get("Attributes") or {})

    def mark_phone_only(self, room: Room, due: int, expires: int) -> bool:
        """Note since when only phone legs remain, if they still do, and list the room for the sweep."""
        if self._update(writes.phone_only_mark(room), room.account, room.name) is None:
            return False
        self.list_phone_only(room.account, room.name, due, room.phone_only_since, expires)
        return True

    def clear_phone_only(self, room: Room) -> None:
        """Someone not on the phone is back (or no phone leg is left): forget it, and unlist."""
        old = self._update(writes.phone_only_clear(room), room.account, room.name, "UPDATED_OLD")
        if old is not None:
            self.unlist_phone_only(room.account, room.name, number_attribute(old, "phone_only_since") or 0)

    def prune(self, room: Room, identities: list[str]) -> bool:
        """Forget departed identities (``writes.prune``): False when one came back meanwhile."""
        return self._update(writes.prune(room, identities), room.account, room.name) is not None

    def list_phone_only(self, account: str, room: str, due: int, since: int, expires: int) -> None:
        item = writes.listing(account, room, due, since, expires)
        self.client.put_item(TableName=self.table_name, Item=item)

    def unlist_phone_only(self, account: str, room: str, since: int) -> bool:
        """Unlist a room, unless a newer phone-only stretch listed it again (another ``since``)."""
        return self._conditionally(
            self.client.delete_item,
            Key=phone_only_key(account, room),
            # A listing from before ``since`` was kept has none: unlisted as before.
            ConditionExpression="attribute_not_exists(pk) OR attribute_not_exists(since) OR since = :s",
            ExpressionAttributeValues={":s": {"N": str(since)}},
        )

    def held_rooms(self, now: int) -> list[Held]:
        """The rooms listed with callers held before they started, not yet expired (one Query per
        shard; DynamoDB's TTL deletes expired items only eventually)."""
        found: list[dict[str, Any]] = []
        for shard in range(HELD_SHARDS):
            found += items(
                self.client.query,
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                FilterExpression="#e > :now",
                ExpressionAttributeNames={"#e": "expires_at"},
                ExpressionAttributeValues={":pk": {"S": held_pk(shard)}, ":now": {"N": str(now)}},
            )
        held = []
        for item in found:
            try:
                held.append(Held.from_item(item))
            except (MalformedRecord, KeyError):  # one bad listing never stops the sweep for the others
                logger.warning("held listing ignored", extra={"reason": "malformed"})
        return held

    def unlist_held(self, held: Held) -> bool:
        """Unlist a held room, unless a caller held since listed it again (another ``at``)."""
        return self._conditionally(
            self.client.delete_item,
            Key=held_key(held.account, held.room),
            ConditionExpression="attribute_not_exists(pk) OR #at = :at",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":at": {"N": str(held.at)}},
        )
