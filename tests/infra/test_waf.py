"""The optional web ACL (``WebAcl=create``), its rules evaluated on sample requests as AWS WAF
evaluates them: a signed webhook passes, a webhook whose X-Twilio-Signature is missing or not
the shape of one is blocked, SigV4 requests to /calls and /admin/* are left to IAM.

A small evaluator of exactly the statements the template uses; a statement it does not know
fails the test, so a rule cannot change shape without this test being taught it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from twilio.request_validator import RequestValidator

from dialin_tools.lib.apigw import DEV_AUTH_TOKEN
from dialin_tools.lib.template import load

HOST = "abc123.execute-api.us-east-1.amazonaws.com"


@dataclass
class Request:
    path: str  # as WAF sees it: with the stage on the execute-api domain
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


def _field(spec: dict[str, Any], request: Request) -> str | None:
    if "UriPath" in spec:
        return request.path
    if "SingleHeader" in spec:
        return request.headers.get(spec["SingleHeader"]["Name"].lower())
    raise AssertionError(f"field not known to this test: {spec}")


def _transformed(statement: dict[str, Any], value: str) -> str:
    for transformation in statement["TextTransformations"]:
        assert transformation["Type"] == "NONE", transformation  # teach this test the others
    return value


def matches(statement: dict[str, Any], request: Request) -> bool:
    [(kind, body)] = statement.items()
    if kind == "AndStatement":
        return all(matches(s, request) for s in body["Statements"])
    if kind == "OrStatement":
        return any(matches(s, request) for s in body["Statements"])
    if kind == "NotStatement":
        return not matches(body["Statement"], request)
    value = _field(body["FieldToMatch"], request)
    if value is None:  # a missing header matches no byte or regex condition
        return False
    value = _transformed(body, value)
    if kind == "ByteMatchStatement":
        needle, where = body["SearchString"], body["PositionalConstraint"]
        tests = {
            "EXACTLY": value == needle,
            "STARTS_WITH": value.startswith(needle),
            "ENDS_WITH": value.endswith(needle),
            "CONTAINS": needle in value,
        }
        return tests[where]
    if kind == "RegexMatchStatement":
        return re.search(body["RegexString"], value) is not None
    raise AssertionError(f"statement not known to this test: {kind}")


@pytest.fixture(scope="module")
def signature_rule() -> dict[str, Any]:
    rules = load()["Resources"]["ApiWebAcl"]["Properties"]["Rules"]
    [rule] = [r for r in rules if r["Name"] == "webhooks-without-a-twilio-signature"]
    assert "Block" in rule["Action"]
    return rule["Statement"]


def twilio_signed(path: str, stage: str = "/Prod") -> Request:
    params = {"CallSid": "CA" + "0" * 32, "From": "+14155550123", "To": "+15555550100"}
    signature = RequestValidator(DEV_AUTH_TOKEN).compute_signature(f"https://{HOST}{stage}{path}", params)
    return Request(stage + path, {"x-twilio-signature": signature})


def sigv4_signed(path: str, body: dict[str, str] | None = None) -> Request:
    request = AWSRequest(
        method="POST" if body else "GET", url=f"https://{HOST}/Prod{path}", data=urlencode(body or {})
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", "not-a-real-secret"), "execute-api", "us-east-1").add_auth(request)
    return Request("/Prod" + path, {k.lower(): v for k, v in request.headers.items()})


@pytest.mark.parametrize("path", ["/voice/incoming", "/voice/pin", "/voice/incoming/", "/video/status"])
@pytest.mark.parametrize("stage", ["/Prod", ""])  # the execute-api domain, or a custom domain
def test_a_signed_webhook_passes(signature_rule: dict[str, Any], path: str, stage: str):
    request = twilio_signed(path, stage)
    assert len(request.headers["x-twilio-signature"]) == 28
    assert not matches(signature_rule, request)


@pytest.mark.parametrize(
    "signature",
    [None, "", "x", "a" * 28, "a" * 27 + "!", "a" * 40 + "="],
    ids=["missing", "empty", "one-character", "no-padding", "not-base64", "too-long"],
)
@pytest.mark.parametrize("path", ["/Prod/voice/incoming", "/voice/wait", "/Prod/video/status"])
def test_a_webhook_without_a_signature_shaped_header_is_blocked(
    signature_rule: dict[str, Any], signature: str | None, path: str
):
    headers = {} if signature is None else {"x-twilio-signature": signature}
    assert matches(signature_rule, Request(path, headers))


@pytest.mark.parametrize("path", ["/admin/pins", "/admin/routes/%2B15555550100", "/admin/lockouts", "/calls"])
def test_sigv4_requests_are_left_to_iam(signature_rule: dict[str, Any], path: str):
    request = sigv4_signed(path, {"to": "+15555550100"} if path == "/calls" else None)
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256")
    assert "x-twilio-signature" not in request.headers
    assert not matches(signature_rule, request)
