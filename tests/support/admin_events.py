"""/admin/... events as API Gateway hands them to the AdminFunction after IAM authorization,
and the real functions/admin/app.py handler wired to a table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dialin.admin.api import AdminApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.commands.serve.server import match_path
from dialin_tools.lib.apigw import rest_event
from support.routes import api_route, api_routes

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
CALLER_ARN = "arn:aws:iam::123456789012:role/clinic-backend"


def admin_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    principal: str = CALLER_ARN,
) -> dict[str, Any]:
    """An event for ``path`` (``/admin/pins/abc``), its declared route found in template.yaml."""
    declared, parameters = path, {}
    for route in api_routes():
        found = match_path(route.path, path)
        if route.method == method and found is not None and route.path.startswith("/admin"):
            declared, parameters = route.path, found
            if route.path == path:
                break
    text = raw if raw is not None else (None if body is None else json.dumps(body))
    event = rest_event(
        method=method,
        resource=declared,
        path=path,
        stage="Prod",
        headers={"Host": HOST, "Content-Type": "application/json", **(headers or {})},
        query=list((query or {}).items()),
        body=text,
    )
    event["pathParameters"] = parameters or None
    event["requestContext"]["identity"].update(userArn=principal, caller="AROAEXAMPLE")
    return event


def admin_module() -> Any:
    route = api_route("/admin/pins")
    module, _ = load_handler(route.code_dir, route.handler)
    return module


@dataclass
class AdminHandler:
    """The real handler; ``call`` answers (status, JSON body)."""

    module: Any
    app: AdminApp

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        response = self.module.lambda_handler(
            admin_event(method, path, body, **kwargs), LocalContext(function_name="AdminFunction")
        )
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])
