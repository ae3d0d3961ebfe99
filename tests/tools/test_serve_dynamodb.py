"""`dialin serve`'s embedded DynamoDB answers Queries from their partition alone, as DynamoDB
does (moto walks the whole table for each): the same items, order, filters and pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dialin_tools.commands.admin.targets import local_client
from dialin_tools.commands.serve.dynamodb import EmbeddedDynamoDB

TABLE = "dialin-query-test"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    db = EmbeddedDynamoDB("127.0.0.1", 0).start()
    try:
        dynamodb = local_client(db.url)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for p in ("A", "B", "C"):
            for s in range(12):
                item = {"pk": {"S": p}, "sk": {"S": f"{s:02d}"}, "n": {"N": str(s)}}
                dynamodb.put_item(TableName=TABLE, Item=item)
        yield dynamodb
    finally:
        db.stop()


def sks(answer: dict[str, Any]) -> list[str]:
    return [item["sk"]["S"] for item in answer["Items"]]


def query(client: Any, pk: str, **extra: Any) -> dict[str, Any]:
    values = {":pk": {"S": pk}, **extra.pop("values", {})}
    return dict(
        client.query(
            TableName=TABLE,
            KeyConditionExpression=extra.pop("key", "pk = :pk"),
            ExpressionAttributeValues=values,
            **extra,
        )
    )


def test_a_query_returns_its_partition_only_in_key_order(client: Any) -> None:
    answer = query(client, "B")
    assert sks(answer) == [f"{s:02d}" for s in range(12)]
    assert {item["pk"]["S"] for item in answer["Items"]} == {"B"}
    assert answer["Count"] == answer["ScannedCount"] == 12


def test_filters_key_conditions_and_reverse_order_still_apply(client: Any) -> None:
    answer = query(
        client, "A", FilterExpression="n >= :five", values={":five": {"N": "5"}}, ScanIndexForward=False
    )
    assert sks(answer) == [f"{s:02d}" for s in range(11, 4, -1)]
    assert answer["ScannedCount"] == 12  # read, then filtered, as DynamoDB counts
    ranged = query(
        client, "C", key="pk = :pk AND sk BETWEEN :a AND :b", values={":a": {"S": "03"}, ":b": {"S": "05"}}
    )
    assert sks(ranged) == ["03", "04", "05"]


def test_pages_follow_the_last_evaluated_key(client: Any) -> None:
    seen: list[str] = []
    start: dict[str, Any] = {}
    for _ in range(5):
        answer = query(client, "B", Limit=5, **({"ExclusiveStartKey": start} if start else {}))
        seen += sks(answer)
        start = answer.get("LastEvaluatedKey") or {}
        if not start:
            break
    assert seen == [f"{s:02d}" for s in range(12)]


def test_a_missing_partition_is_empty_and_a_scan_still_reads_the_table(client: Any) -> None:
    assert query(client, "nobody")["Items"] == []
    assert client.scan(TableName=TABLE)["Count"] == 36
