"""DynamoDB helpers every data class shares: the client, built once per container with
short timeouts so a slow table still leaves time to answer the caller politely inside
Twilio's 15 s webhook timeout."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

# Worst case per request: 2 attempts x (1 s connect + 1 s read) plus a backoff under 1 s.
# botocore's ``max_attempts`` counts retries only (2 would mean 3 attempts, 3 s against a
# silent endpoint, up to 9 s in the worst case); ``total_max_attempts`` counts them all.
# Every request on this client is built by this library (keys from core.records), so botocore's
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
