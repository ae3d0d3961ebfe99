"""Room state and call items in the table (formats in ``state``, keys in ``core.keys``).

The voice function reads a room's state (batched with the account marker, one request) and
adds call items (``CALLS#`` keys only: its IAM allows nothing else). The room-events function
keeps the state, moves waiting calls, and lists the rooms where only phone legs remain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from ..core.keys import PHONE_ONLY, account_key, call_key, calls_pk, phone_only_key, room_key
from ..edge.dynamo import is_conditional_failure, items
from .state import JOINING, WAITING, Room, WaitingCall

# Optimistic concurrency on the room state: callbacks of one room can arrive together.
SAVE_TRIES = 4


class Conflict(RuntimeError):
    """The room state changed under us too many times in a row."""


def _key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


class RoomTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def room(self, account: str, room: str, consistent: bool = False) -> Room | None:
        key = room_key(account, room)
        item = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=consistent).get("Item")
        return Room.from_item(item) if item else None

    def add_call(self, call: WaitingCall, expires_at: int) -> None:
        self.client.put_item(TableName=self.table_name, Item=call.to_item(expires_at))

    def claim_waiting(self, call: WaitingCall, expires_at: int) -> bool:
        """Write ``call`` (joining) over its waiting item, unless the room-events function claimed
        it first (a PutItem: the voice function's only write to call items)."""
        return self._conditionally(
            self.client.put_item,
            Item=call.to_item(expires_at),
            ConditionExpression="#s = :w",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":w": {"S": WAITING}},
        )

    def _conditionally(self, write: Callable[..., Any], **request: Any) -> bool:
        """A conditional write: False when its condition did not hold."""
        try:
            write(TableName=self.table_name, **request)
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    # The room-events function's side.

    def mark_account(self, account: str, now: int, expires_at: int) -> None:
        item = {**account_key(account), "type": {"S": "account"}, "last_event": {"N": str(now)}}
        item["expires_at"] = {"N": str(expires_at)}
        self.client.put_item(TableName=self.table_name, Item=item)

    def save_room(self, room: Room, expires_at: int) -> Room:
        """Write ``room`` if nobody else did since it was read (its version); raises Conflict."""
        saved = replace(room, version=room.version + 1)
        condition = "attribute_not_exists(pk)" if room.version == 0 else "version = :v"
        values = {} if room.version == 0 else {":v": {"N": str(room.version)}}
        if not self._conditionally(
            self.client.put_item,
            Item=saved.to_item(expires_at),
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        ):
            raise Conflict(room.name)
        return saved

    def calls(self, account: str, room: str) -> list[WaitingCall]:
        found = items(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": calls_pk(account, room)}},
        )
        return [WaitingCall.from_item(item) for item in found]

    def claim(self, call: WaitingCall, now: int) -> bool:
        """Mark a waiting call joining, only if it is still waiting: of concurrent callbacks,
        exactly one moves it. False when another got there first (or it is gone)."""
        return self._set_status(call, JOINING, WAITING, now)

    def release(self, call: WaitingCall) -> None:
        """A claimed call that could not be moved waits again, for the next callback."""
        self._set_status(call, WAITING, JOINING, 0)

    def _set_status(self, call: WaitingCall, status: str, expected: str, moved_at: int) -> bool:
        return self._conditionally(
            self.client.update_item,
            Key=call_key(call.account, call.room, call.call_sid),
            UpdateExpression="SET #s = :s, moved_at = :m",
            ConditionExpression="#s = :expected",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": status},
                ":m": {"N": str(moved_at)},
                ":expected": {"S": expected},
            },
        )

    def drop_call(self, call: WaitingCall) -> None:
        self.client.delete_item(
            TableName=self.table_name, Key=call_key(call.account, call.room, call.call_sid)
        )

    def set_phone_only(self, account: str, room: str, due: int | None, expires_at: int) -> None:
        """Note (``due``: when to end it) or forget a room where only phone legs remain."""
        key = phone_only_key(account, room)
        if due is None:
            self.client.delete_item(TableName=self.table_name, Key=key)
            return
        item = {
            **key,
            "type": {"S": "phone-only"},
            "due": {"N": str(due)},
            "expires_at": {"N": str(expires_at)},
        }
        self.client.put_item(TableName=self.table_name, Item=item)

    def phone_only_due(self, now: int) -> list[tuple[str, int]]:
        """(sk, due) of the phone-only rooms whose time is up."""
        found = items(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="#d <= :now",
            ExpressionAttributeNames={"#d": "due"},
            ExpressionAttributeValues={":pk": {"S": PHONE_ONLY}, ":now": {"N": str(now)}},
        )
        return [(item["sk"]["S"], int(item["due"]["N"])) for item in found]
