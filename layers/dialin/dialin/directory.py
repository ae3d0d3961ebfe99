"""Data access: one GetItem per webhook step, with short timeouts so a slow table still
leaves time to answer the caller politely inside Twilio's 15 s webhook timeout."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from .records import PinGrant, Route, pin_key, route_key

# Worst case per step: 2 attempts x (1 s connect + 1 s read) plus a short backoff.
# Every request on this client is built by this library (keys from records.py), so botocore's
# client-side parameter validation, a good share of a warm request's CPU time, would only
# repeat what DynamoDB checks anyway.
DYNAMODB_CONFIG = Config(
    connect_timeout=1,
    read_timeout=1,
    retries={"max_attempts": 2, "mode": "standard"},
    parameter_validation=False,
)


def dynamodb_client(endpoint_url: str = "") -> Any:
    import boto3

    return boto3.client("dynamodb", config=DYNAMODB_CONFIG, endpoint_url=endpoint_url or None)


class Directory:
    """Routes and PIN grants in the table. Errors from botocore propagate to the caller."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=key)
        return response.get("Item")

    def route(self, number: str) -> Route | None:
        item = self._get(route_key(number))
        return Route.from_item(item) if item else None

    def pin_grant(self, pin_hash: str) -> PinGrant | None:
        item = self._get(pin_key(pin_hash))
        return PinGrant.from_item(item) if item else None
