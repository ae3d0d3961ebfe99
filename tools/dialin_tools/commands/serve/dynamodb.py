"""`dialin serve`'s embedded DynamoDB: moto's server on a local port, in this process, made to
behave as DynamoDB does where a crowd would notice: each write atomic, and a Query's cost that
of its partition."""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

_ATOMIC = threading.Lock()

# The requests that change items: DynamoDB applies each atomically (its condition included).
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

_PARTITION = threading.local()  # the partition key of the Query this thread runs, if any


def _one_request_at_a_time() -> None:
    """DynamoDB applies each write to an item atomically; moto's server does not (its
    UpdateItem reads, checks and writes in Python, so two environments' conditional updates
    of one item could both pass). One write at a time gives that guarantee, and no more;
    reads go on beside them (a crowd's Queries, serialized too, timed the clients out)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "one_at_a_time", False):
        return

    def call_action(self: Any) -> Any:
        if self._get_action() not in _WRITES:
            return original(self)
        with _ATOMIC:
            return original(self)

    call_action.one_at_a_time = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def _queries_read_their_partition() -> None:
    """A DynamoDB Query reads one partition; moto's (5.x) sorts and walks every item of the
    table for each Query. With a crowd's table (thousands of items) each of a callback's
    Queries took about 100 ms of the one process's GIL, and the callbacks timed out: an
    emulator's cost the product would never meet. A Query on the table's own key (no index)
    now walks only its partition, with moto's own filters, sort and pages."""
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items
    if getattr(query, "by_partition", False):
        return

    def partition_items(self: Any) -> list[Any]:
        key = getattr(_PARTITION, "key", None)
        if key is None:
            return all_items(self)
        found = self.items.get(key)  # .get: items is a defaultdict, and a read adds no key
        if not found:
            return []
        return list(found.values()) if self.range_key_attr else [found]

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _PARTITION.key = hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _PARTITION.key = None

    partition_query.by_partition = True  # type: ignore[attr-defined]
    Table.query = partition_query  # type: ignore[method-assign]
    Table.all_items = partition_items  # type: ignore[method-assign]


# The answers that carry items.
_ITEM_ANSWERS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}
)

# The shortcut below, on unless a test compares it with moto's own serializer.
ITEMS_AS_JSON = {"on": True}


def _items_as_json() -> None:
    """moto serializes each answer by walking botocore's output shape: in a crowd, the greater
    part of the embedded DynamoDB's time (twice the callbacks per second without it). The
    results of the item answers are DynamoDB's JSON already: sent as they are, only the
    shape's own members, as moto's serializer would (it drops the rest, such as DeleteItem's
    ConsumedCapacityUnits)."""
    from moto.core.responses import ActionResult

    original = ActionResult.execute_result
    if getattr(original, "as_json", False):
        return

    def execute_result(self: Any, context: Any) -> Any:
        dynamodb = context.service_model.service_name == "dynamodb"
        if not (ITEMS_AS_JSON["on"] and dynamodb and context.operation_model.name in _ITEM_ANSWERS):
            return original(self, context)
        members = context.operation_model.output_shape.members
        body = _json({k: v for k, v in self.result.items() if k in members})
        if body is None:
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result.as_json = True  # type: ignore[attr-defined]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def _json(result: Any) -> str | None:
    """``result`` as DynamoDB's JSON, or None when it holds anything but JSON's own types (a
    binary attribute: moto's serializer base64-encodes it)."""
    try:
        return json.dumps(result, default=_refuse)
    except TypeError:
        return None


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


class EmbeddedDynamoDB:
    """moto's server on a local port, in this process. Like moto's ThreadedMotoServer, but
    binding happens here, so a port in use is an OSError for the caller to explain (werkzeug
    binding it would print its own message and exit)."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per DynamoDB call
        _one_request_at_a_time()
        _queries_read_their_partition()
        _items_as_json()
        app = DomainDispatcherApplication(create_backend_app)
        with socket.create_server((host, port)) as listening:  # werkzeug serves a duplicate of it
            self.server = make_server(
                host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listening.fileno()
            )
        self.thread = threading.Thread(target=self.server.serve_forever, name="dynamodb", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> EmbeddedDynamoDB:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()
