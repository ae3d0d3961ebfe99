"""Idempotency keys of PIN creation: a retry with the same key within a day makes no second
PIN and is told the id of the PIN the first request made (the PIN itself was never stored).

A key is the calling principal's own (``scoped``): another principal using the same key
neither learns the first PIN's id nor claims the key before its owner. A key is bound to its
request's body: the same key with another body is refused (422, ``KeyReused``), not
answered as the first request's retry.

  item: pk = IDEMPOTENCY#<hex SHA-256 of principal + key>, sk = IDEMPOTENCY, ``pin_id``,
        ``body_sha256``, ``created_at``, ``expires_at`` (TTL; a record past it counts as absent).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..core.errors import Conflict, DialinError, Invalid
from ..core.keys import idempotency_key
from ..core.records import MalformedRecord, number_attribute

WINDOW_SECONDS = 86_400
MAX_KEY_LENGTH = 255


class AlreadyCreated(Conflict):
    """A retried create: the PIN exists since the first request; ``pin_id`` names it."""

    def __init__(self, pin_id: str) -> None:
        super().__init__(
            "a PIN was already created with this idempotency key; its PIN cannot be shown again "
            "(revoke pin_id and create a new one if it was lost)",
            "idempotency_key",
        )
        self.pin_id = pin_id


class KeyReused(DialinError):
    """The key was used before with another body: a different request, not a retry."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            "this idempotency key was used with another request body; use a new key for a new PIN",
            "idempotency_key",
        )


def scoped(principal: str, key: str) -> str:
    """The key as the record holds it: the calling principal's own."""
    return f"{principal}\n{key}"


def body_digest(data: Any) -> str:
    """SHA-256 of the request's fields, however the JSON was spaced or ordered."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        message = f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise Invalid(message, "idempotency_key")
    return key


def record_key(key: str) -> dict[str, dict[str, str]]:
    return idempotency_key(hashlib.sha256(key.encode("utf-8")).hexdigest())


def put_action(table: str, key: str, pin_id: str, now: int, body: str = "") -> dict[str, Any]:
    """A transaction Put that fails while a live record holds the key."""
    item = {
        **record_key(key),
        "type": {"S": "idempotency"},
        "pin_id": {"S": pin_id},
        "created_at": {"N": str(now)},
        "expires_at": {"N": str(now + WINDOW_SECONDS)},
    }
    if body:
        item["body_sha256"] = {"S": body}
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
    }


def recorded_pin(client: Any, table: str, key: str, body: str = "") -> str:
    """The id of the PIN the key's first request made; KeyReused when that request's body
    was another."""
    item = client.get_item(TableName=table, Key=record_key(key), ConsistentRead=True).get("Item") or {}
    pin_id = item.get("pin_id", {}).get("S")
    if not isinstance(pin_id, str) or number_attribute(item, "expires_at") is None:
        raise MalformedRecord("idempotency record without pin_id")
    first = item.get("body_sha256", {}).get("S", "")
    if body and first and first != body:
        raise KeyReused()
    return pin_id
