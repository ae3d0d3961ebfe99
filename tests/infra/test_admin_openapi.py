"""docs/admin-api.yaml describes exactly the admin routes template.yaml deploys, with the
request fields the function accepts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dialin.admin.api import ROUTES
from dialin.admin.payload import PIN_FIELDS, ROUTE_FIELDS
from dialin_tools.lib import template as tpl

OPENAPI = tpl.ROOT / "docs" / "admin-api.yaml"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in spec["paths"].items() for m in item if m in METHODS}


def test_the_openapi_file_has_the_templates_admin_routes_and_no_others(spec: dict[str, Any], template: Any):
    deployed = {(r.method, r.path) for r in tpl.api_routes(template) if r.path.startswith("/admin/")}
    assert operations(spec) == deployed == set(ROUTES)


def test_every_operation_documents_its_errors(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            codes = set(operation["responses"])
            assert "503" in codes, (method, path)
            assert "400" in codes or (method == "get" and path == "/admin/routes"), (method, path)


def test_request_fields_are_those_the_function_reads(spec: dict[str, Any]):
    schemas = spec["components"]["schemas"]
    assert set(schemas["NewPin"]["properties"]) == PIN_FIELDS
    assert set(schemas["Route"]["properties"]) == ROUTE_FIELDS


def test_signed_with_sigv4(spec: dict[str, Any]):
    assert spec["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert spec["security"] == [{"sigv4": []}]
