"""Room state and call items in the table (formats in ``state``, keys in ``core.keys``).

The voice function reads a room's state (batched with the account marker, one request) and
adds call items (``CALLS#`` keys only: its IAM allows nothing else), and lists a room it holds
callers for before it started (``list_held``, a ``CALLS#HELD#`` item). The room-events function
keeps the state (its writes: ``store``), moves waiting calls, and lists the rooms where only phone
legs remain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..core.keys import PHONE_ONLY, account_key, call_key, calls_pk, held_key, room_key, split_phone_only
from ..core.records import MalformedRecord, number_attribute
from ..edge.dynamo import is_conditional_failure, items
from .state import JOINING, JOINING_SECONDS, WAITING, Room, WaitingCall

# A call may be claimed while it waits, or when a claim of it went stale: the claimer stopped
# (a timeout, a crash) before it moved the call or let it go.
CLAIMABLE = "#s = :w OR (#s = :j AND moved_at <= :stale)"


def _claimable(now: int) -> dict[str, Any]:
    return {":w": {"S": WAITING}, ":j": {"S": JOINING}, ":stale": {"N": str(now - JOINING_SECONDS)}}


class Conflict(RuntimeError):
    """The room state changed RoomSid or status under us too many times in a row (``store``)."""


@dataclass(frozen=True)
class Held:
    """A room with callers held before it started, as the voice function listed it."""

    account: str
    room: str
    at: int  # ms of the latest listing (a held caller's first step): the listing's version
    base: str  # the voice webhooks' public base URL, for the moved calls' wait step

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Held:
        account, room = split_phone_only(item["sk"]["S"])
        base = item.get("base", {"S": ""})
        if not isinstance(base, dict) or not isinstance(base.get("S"), str):
            raise MalformedRecord("held listing's base URL is not a string")
        return cls(account, room, number_attribute(item, "at") or 0, base["S"])


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
            ConditionExpression=CLAIMABLE,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_claimable(call.moved_at),
        )

    def list_held(self, account: str, room: str, base: str, at_ms: int, expires_at: int) -> None:
        """List a room the voice function holds a caller for before it started: the per-minute
        sweep asks Twilio whether it is running (its room-created may be lost) until the
        listing expires, when no caller held for it can still be waiting."""
        item = {**held_key(account, room), "type": {"S": "held"}, "at": {"N": str(at_ms)}}
        item.update(base={"S": base}, expires_at={"N": str(expires_at)})
        self.client.put_item(TableName=self.table_name, Item=item)

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

    def calls(self, account: str, room: str) -> list[WaitingCall]:
        found = items(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": calls_pk(account, room)}},
        )
        return [WaitingCall.from_item(item) for item in found]

    def claim(self, call: WaitingCall, now: int) -> bool:
        """Mark a waiting call joining, only if it is still waiting (or its last claim went
        stale: ``state.is_stale_joining``): of concurrent callbacks, exactly one moves it.
        False when another got there first (or it is gone)."""
        return self._conditionally(
            self.client.update_item,
            Key=call_key(call.account, call.room, call.call_sid),
            UpdateExpression="SET #s = :j, moved_at = :now",
            ConditionExpression=CLAIMABLE,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={**_claimable(now), ":now": {"N": str(now)}},
        )

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

    def phone_only_due(self, now: int) -> list[tuple[str, int, int]]:
        """(sk, due, since) of the listed phone-only rooms whose time is up."""
        found = items(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="#d <= :now",
            ExpressionAttributeNames={"#d": "due"},
            ExpressionAttributeValues={":pk": {"S": PHONE_ONLY}, ":now": {"N": str(now)}},
        )
        return [(i["sk"]["S"], int(i["due"]["N"]), number_attribute(i, "since") or 0) for i in found]
