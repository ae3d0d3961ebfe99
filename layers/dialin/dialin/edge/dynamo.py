"""DynamoDB helpers every data class shares: the client, built once per container with
short timeouts so a slow table still leaves time to answer the caller politely inside
Twilio's 15 s webhook timeout; what a failed conditional write or transaction says; and
every page of a Query or Scan."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
CONDITION_REASON = "ConditionalCheckFailed"  # a cancelled transaction's code for one action

# Worst case per request: 2 attempts x (1 s connect + 1 s read) plus a backoff under 1 s.
# botocore's ``max_attempts`` counts retries only (2 would mean 3 attempts, 3 s against a
# silent endpoint, up to 9 s in the worst case); ``total_max_attempts`` counts them all.
# Every request on this client is built by this library (keys from core.keys), so botocore's
# client-side parameter validation, a good share of a warm request's CPU time, would only
# repeat what DynamoDB checks anyway.
DYNAMODB_CONFIG = Config(
    connect_timeout=1,
    read_timeout=1,
    retries={"total_max_attempts": 2, "mode": "standard"},
    parameter_validation=False,
)


def dynamodb_client(endpoint_url: str = "") -> Any:
    import boto3

    return boto3.client("dynamodb", config=DYNAMODB_CONFIG, endpoint_url=endpoint_url or None)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def cancellation_reasons(exc: ClientError) -> list[str]:
    """Per-action codes of a cancelled transaction ("None" for actions that passed); [] for
    any other error."""
    if error_code(exc) != TRANSACTION_CANCELED:
        return []
    return [str(r.get("Code")) for r in exc.response.get("CancellationReasons") or []]


def is_conditional_failure(exc: ClientError, action: int | None = None) -> bool:
    """A write's condition did not hold: a single write's ConditionalCheckFailedException, or
    a cancelled transaction's ConditionalCheckFailed. With ``action`` (its index in
    TransactItems): that action's condition, in a cancelled transaction."""
    if action is None and error_code(exc) == CONDITIONAL_CHECK_FAILED:
        return True
    reasons = cancellation_reasons(exc)
    if action is None:
        return CONDITION_REASON in reasons
    return reasons[action : action + 1] == [CONDITION_REASON]


def pages(operation: Callable[..., Mapping[str, Any]], **request: Any) -> Iterator[Mapping[str, Any]]:
    """Every page of a Query or Scan (``client.query``, ``client.scan``), following
    LastEvaluatedKey."""
    while True:
        page = operation(**request)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def items(operation: Callable[..., Mapping[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query or Scan, page after page."""
    for page in pages(operation, **request):
        yield from page.get("Items", [])
