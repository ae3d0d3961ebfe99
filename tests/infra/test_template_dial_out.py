"""template.yaml: the dial-out API, its least-privilege role and the status route."""

from __future__ import annotations

import re
from typing import Any

from dialin_tools.lib import template as tpl


def _actions(function: dict[str, Any]) -> list[tuple[str, Any]]:
    statements = [s for policy in function["Properties"]["Policies"] for s in policy["Statement"]]
    return [
        (action, s["Resource"])
        for s in statements
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]


def test_calls_route_is_iam_authorized_and_invoked_with_the_functions_permission(template: dict[str, Any]):
    [route] = [r for r in tpl.api_routes(template) if r.path == "/calls"]
    assert (route.function, route.method, route.auth) == ("DialOutFunction", "POST", "AWS_IAM")
    event = template["Resources"]["DialOutFunction"]["Properties"]["Events"][route.event]
    assert event["Properties"]["RestApiId"] == {"Ref": "VoiceApi"}
    assert event["Properties"]["Auth"]["InvokeRole"] == "NONE"


def test_every_other_route_is_a_signed_twilio_webhook(template: dict[str, Any]):
    others = [r for r in tpl.api_routes(template) if r.path != "/calls" and not r.path.startswith("/admin/")]
    assert others and all(r.auth == "" for r in others)
    voice = {r.path for r in others if r.function == "VoiceFunction"}
    assert voice and {r.path for r in others} - voice == {"/video/status"}
    assert "/voice/status" in {r.path for r in others}


def test_dial_out_may_only_read_the_twilio_secret_and_count_its_calls(template: dict[str, Any]):
    assert _actions(template["Resources"]["DialOutFunction"]) == [
        ("secretsmanager:GetSecretValue", {"Ref": "TwilioSecret"}),
        ("dynamodb:UpdateItem", {"Fn::GetAtt": "DirectoryTable.Arn"}),
    ]


def test_dial_out_environment(template: dict[str, Any]):
    env = template["Resources"]["DialOutFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TWILIO_SECRET_ARN"] == {"Ref": "TwilioSecret"}
    assert env["DIALOUT_CALLER_NUMBER"] == {"Ref": "DialOutCallerNumber"}
    assert env["DIALOUT_ALLOWED_PREFIXES"] == {"Ref": "DialOutAllowedPrefixes"}
    # Declared so `sam local --env-vars` and `dialin serve` can turn the dry run on.
    assert env["DIALOUT_DRY_RUN"] == "false"
    # The table only for the per-stack call counter (its role writes RATE#* items alone).
    assert env["TABLE_NAME"] == {"Ref": "DirectoryTable"}
    assert env["DIALOUT_CALLS_PER_HOUR"] == {"Ref": "DialOutCallsPerHour"}


def test_parameter_patterns_accept_what_the_code_accepts(template: dict[str, Any]):
    params = template["Parameters"]
    caller = re.compile(params["DialOutCallerNumber"]["AllowedPattern"])
    prefixes = re.compile(params["DialOutAllowedPrefixes"]["AllowedPattern"])
    assert all(caller.fullmatch(v) for v in ("", "+15555550100"))
    assert not any(caller.fullmatch(v) for v in ("15555550100", "+0555", "+1 555"))
    assert all(prefixes.fullmatch(v) for v in ("", "+1", "+1415,+44", "+1415, +44"))
    assert not any(prefixes.fullmatch(v) for v in ("1", "+1,", "*", "+1;+44"))


def test_caller_policy_allows_only_post_calls(template: dict[str, Any]):
    policy = template["Resources"]["DialOutCallerPolicy"]["Properties"]["PolicyDocument"]
    [statement] = policy["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"]["Fn::Sub"].endswith(":${VoiceApi}/Prod/POST/calls")


def test_outputs_name_the_dial_out_and_status_urls(template: dict[str, Any]):
    outputs = template["Outputs"]
    assert {"ApiBaseUrl", "DialOutUrl", "StatusCallbackUrl", "DialOutPolicyArn"} <= set(outputs)
    for name, path in (("DialOutUrl", "/calls"), ("StatusCallbackUrl", "/voice/status")):
        _, custom, default = outputs[name]["Value"]["Fn::If"]
        assert custom["Fn::Sub"] == f"${{PublicBaseUrl}}{path}"
        assert default["Fn::Sub"].endswith(f"/Prod{path}")
