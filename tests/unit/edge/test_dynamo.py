"""The DynamoDB helpers: what a failed write says, and paging."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dialin.edge.dynamo import cancellation_reasons, error_code, is_conditional_failure, items, pages


def error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "no"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "Write")


def test_a_single_writes_failed_condition_is_a_conditional_failure():
    assert is_conditional_failure(error("ConditionalCheckFailedException"))
    assert not is_conditional_failure(error("ProvisionedThroughputExceededException"))
    assert not is_conditional_failure(error("ConditionalCheckFailedException"), action=0)
    assert error_code(error("AccessDeniedException")) == "AccessDeniedException"


def test_a_cancelled_transaction_says_which_actions_condition_failed():
    cancelled = error("TransactionCanceledException", ["None", "None", "ConditionalCheckFailed"])
    assert cancellation_reasons(cancelled) == ["None", "None", "ConditionalCheckFailed"]
    assert is_conditional_failure(cancelled)
    assert is_conditional_failure(cancelled, action=2)
    assert not is_conditional_failure(cancelled, action=0)
    assert not is_conditional_failure(cancelled, action=5)
    conflict = error("TransactionCanceledException", ["TransactionConflict", "None"])
    assert not is_conditional_failure(conflict)
    assert cancellation_reasons(error("ConditionalCheckFailedException")) == []


def test_pages_follow_last_evaluated_key_until_the_last_page():
    requests: list[dict[str, Any]] = []
    table = {None: ({"Items": [{"n": 1}], "LastEvaluatedKey": "a"}), "a": {"Items": [{"n": 2}, {"n": 3}]}}

    def query(**request: Any) -> dict[str, Any]:
        requests.append(request)
        return table[request.get("ExclusiveStartKey")]

    assert [item["n"] for item in items(query, TableName="t")] == [1, 2, 3]
    assert requests == [{"TableName": "t"}, {"TableName": "t", "ExclusiveStartKey": "a"}]
    assert len(list(pages(lambda **_: {}, TableName="t"))) == 1
