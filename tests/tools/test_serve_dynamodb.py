"""`dialin serve`'s embedded DynamoDB answers Queries from their partition alone, as DynamoDB
does (moto walks the whole table for each): the same items, order, filters and pages; and it
sends item answers as they are, which boto3 reads exactly as it reads moto's own serializer's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dialin_tools.commands.admin.targets import local_client
from dialin_tools.commands.serve import dynamodb as embedded
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


def create(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


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


ITEM = {
    "pk": {"S": "ROOM#x"},
    "sk": {"S": "STATE"},
    "n": {"N": "1.50"},
    "phone": {
        "M": {"a b": {"N": "3"}, "c": {"M": {"d": {"L": [{"S": "e"}, {"BOOL": True}, {"NULL": True}]}}}}
    },
    "tags": {"SS": ["x", "y"]},
    "counts": {"NS": ["1", "2"]},
    "blob": {"B": b"\x00\xffbytes"},
    "blobs": {"BS": [b"\x01", b"\x02"]},
}


def every_item_answer(client: Any) -> list[dict[str, Any]]:
    """One request of each item answer the shortcut sends, as boto3 reads them."""
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    t = TABLE + "-answers"
    answers = [
        client.put_item(TableName=t, Item=ITEM, ReturnValues="ALL_OLD"),
        client.put_item(TableName=t, Item={**ITEM, "n": {"N": "2"}}, ReturnValues="ALL_OLD"),
        client.get_item(TableName=t, Key=key, ConsistentRead=True),
        client.get_item(TableName=t, Key={"pk": {"S": "none"}, "sk": {"S": "none"}}),
        client.update_item(
            TableName=t,
            Key=key,
            UpdateExpression="SET #p.#f = :one ADD counts :three",
            ExpressionAttributeNames={"#p": "phone", "#f": "f g"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":three": {"NS": ["3"]}},
            ReturnValues="ALL_NEW",
        ),
        client.update_item(TableName=t, Key=key, UpdateExpression="REMOVE tags", ReturnValues="UPDATED_OLD"),
        client.batch_get_item(RequestItems={t: {"Keys": [key, {"pk": {"S": "none"}, "sk": {"S": "x"}}]}}),
        client.query(
            TableName=t,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": ITEM["pk"]},
            Limit=1,
        ),
        client.scan(TableName=t),
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": t, "Item": {**key, "sk": {"S": "T"}}}}]
        ),
        client.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD"),
        client.delete_item(TableName=t, Key=key),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def test_item_answers_read_as_moto_serializes_them(client: Any) -> None:
    runs = []
    for shortcut in (True, False):
        embedded.ITEMS_AS_JSON["on"] = shortcut
        try:
            create(client, TABLE + "-answers")
            runs.append(every_item_answer(client))
        finally:
            embedded.ITEMS_AS_JSON["on"] = True
            client.delete_table(TableName=TABLE + "-answers")
    assert runs[0] == runs[1]
    assert runs[0][2]["Item"]["blob"] == {"B": b"\x00\xffbytes"}  # binary read back as written
