"""POST /calls events as API Gateway hands them to the DialOutFunction after IAM authorization."""

from __future__ import annotations

import json
from typing import Any

from dialin_tools.commands.serve.handlers import load_handler
from dialin_tools.lib.apigw import rest_event
from support.routes import api_route

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
CALLER_ARN = "arn:aws:iam::123456789012:user/ops"


def calls_event(
    body: Any, *, raw: str | None = None, host: str = HOST, scheme: str = "https", base64_body: bool = False
) -> dict[str, Any]:
    text = raw if raw is not None else json.dumps(body)
    event = rest_event(
        method="POST",
        resource="/calls",
        path="/calls",
        stage="Prod" if scheme == "https" else "",
        headers={
            "Host": host,
            "Content-Type": "application/json",
            "X-Forwarded-Proto": scheme,
            "X-Forwarded-Port": "443" if scheme == "https" else host.partition(":")[2],
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20300101/us-east-1/execute-api/...",
        },
        body=text,
        base64_body=base64_body,
    )
    event["requestContext"]["identity"].update(userArn=CALLER_ARN, caller="AIDAEXAMPLE")
    return event


def dial_out_module() -> Any:
    """functions/dial_out/app.py, loaded as Lambda (and `dialin serve`) would load it."""
    route = api_route("/calls")
    module, _ = load_handler(route.code_dir, route.handler)
    return module
