"""Data access: one read per webhook step (a GetItem, or one BatchGetItem of the route, or
the entered PIN, with the caller's failure counters), with short timeouts so a slow
table still leaves time to answer the caller politely inside Twilio's 15 s webhook timeout."""

from __future__ import annotations

from typing import Any

from ..core.errors import IncompleteRead
from ..core.keys import pin_key, route_key
from ..core.records import PinGrant, Route


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

    def route_and_counters(
        self, number: str, counter_keys: list[dict[str, Any]]
    ) -> tuple[Route | None, list[dict[str, Any] | None]]:
        """The route and the failure counter items (unparsed, in the order of the keys), in
        one BatchGetItem: the first step still costs one round trip."""
        item, counters = self._with_counters(route_key(number), counter_keys)
        return (Route.from_item(item) if item else None, counters)

    def pin_and_counters(
        self, pin_hash: str, counter_keys: list[dict[str, Any]]
    ) -> tuple[PinGrant | None, list[dict[str, Any] | None]]:
        """The entered PIN's grant and the failure counter items, in one BatchGetItem: the PIN
        step still costs one round trip, and the counters decide before the grant is used."""
        item, counters = self._with_counters(pin_key(pin_hash), counter_keys)
        return (PinGrant.from_item(item) if item else None, counters)

    def _with_counters(
        self, first: dict[str, Any], counter_keys: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any] | None]]:
        keys = [first, *counter_keys]
        response = self.client.batch_get_item(RequestItems={self.table_name: {"Keys": keys}})
        if response.get("UnprocessedKeys"):
            raise IncompleteRead("batch read throttled")
        found = {
            (item["pk"]["S"], item["sk"]["S"]): item
            for item in response.get("Responses", {}).get(self.table_name, [])
        }
        counters = [found.get((key["pk"]["S"], key["sk"]["S"])) for key in counter_keys]
        return found.get((first["pk"]["S"], first["sk"]["S"])), counters
