"""DescribeStacks answered by botocore's Stubber: the stack outputs the commands read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.stub import Stubber

STACK = "dialin"
BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
OUTPUTS = {
    "ApiBaseUrl": BASE,
    "VoiceWebhookUrl": f"{BASE}/voice/incoming",
    "StatusCallbackUrl": f"{BASE}/voice/status",
    "TableName": "dialin-DirectoryTable-1",
}


def cloudformation(outputs: dict[str, str] | None = None, *, runs: int = 1, missing: bool = False) -> Any:
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    for _ in range(runs):
        if missing:
            stubber.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {STACK} does not exist",
                http_status_code=400,
                expected_params={"StackName": STACK},
            )
            continue
        stack = {
            "StackName": STACK,
            "CreationTime": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            "StackStatus": "UPDATE_COMPLETE",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or OUTPUTS).items()],
        }
        stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    stubber.activate()
    client.stubber = stubber
    return client
