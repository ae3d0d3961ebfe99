"""IAM as deployed: the template transformed by the SAM translator (what `sam deploy` runs),
read back for the role each function really gets."""

from __future__ import annotations

import ast
import copy
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from dialin_tools.lib import template as tpl

# The other Twilio accounts' secrets: this stack's names only (<stack>/twilio/<AccountSid>).
ACCOUNT_SECRETS = str(
    {
        "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
        "secret:${AWS::StackName}/twilio/*"
    }
)
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> dict[str, Any]:
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        # As `sam package` leaves them: code uploaded to S3.
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://artifacts/{name}.zip"
    return transform(packaged, {}, _NoManagedPolicies())


def _role_of(deployed: dict[str, Any], function: str) -> dict[str, Any]:
    resources = deployed["Resources"]
    fn = resources[function]
    assert fn["Type"] == "AWS::Lambda::Function"
    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    return resources[role_id]["Properties"]


def _grants(role: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(action, resource, condition) for every Allow statement of the role's inline policies."""
    grants = []
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for action in actions:
                for resource in resources:
                    grants.append((action, str(resource), str(statement.get("Condition", ""))))
    return grants


def test_voice_role_reads_items_updates_counters_and_reads_its_own_secrets(deployed: dict[str, Any]):
    role = _role_of(deployed, "VoiceFunction")
    assert role["ManagedPolicyArns"] == [BASIC_EXECUTION]  # CloudWatch Logs only
    table = str({"Fn::GetAtt": "DirectoryTable.Arn"})
    counters_only = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["FAIL#*"]}})
    calls_only = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CALLS#*"]}})
    assert sorted(_grants(role)) == sorted(
        [
            ("dynamodb:GetItem", table, ""),
            ("dynamodb:BatchGetItem", table, ""),
            ("dynamodb:UpdateItem", table, counters_only),
            ("dynamodb:PutItem", table, calls_only),
            ("secretsmanager:GetSecretValue", str({"Ref": "TwilioSecret"}), ""),
            ("secretsmanager:GetSecretValue", str({"Ref": "PinPepperSecret"}), ""),
            ("secretsmanager:GetSecretValue", ACCOUNT_SECRETS, ""),
            ("secretsmanager:ListSecretVersionIds", ACCOUNT_SECRETS, ""),
            # The current token's creation date: AWSPREVIOUS only within the rotation grace.
            ("secretsmanager:ListSecretVersionIds", str({"Ref": "TwilioSecret"}), ""),
        ]
    )


def test_dial_out_role_writes_only_its_call_counter(deployed: dict[str, Any]):
    role = _role_of(deployed, "DialOutFunction")
    table = str({"Fn::GetAtt": "DirectoryTable.Arn"})
    rate_only = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}})
    assert sorted(_grants(role)) == sorted(
        [
            ("dynamodb:UpdateItem", table, rate_only),
            ("secretsmanager:GetSecretValue", str({"Ref": "TwilioSecret"}), ""),
        ]
    )


WRITES = ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
ADMIN_KEYS = ["ROUTE#*", "PIN#*", "ROOMPINS#*", "IDEMPOTENCY#*"]
TIED_PINS = ["PIN#*", "ROOMPINS#*"]
CALLER_COUNTERS = "FAIL#" + "?" * 64  # FAIL#<HMAC>: not FAIL#NUMBER#<HMAC>, not FAIL#STACK


def _leading_keys(condition: str) -> list[str]:
    """The key prefixes a grant is limited to (``[]`` when it has no such condition)."""
    parsed = ast.literal_eval(condition) if condition else {}
    return list(parsed.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", []))


def test_no_role_grants_wildcards_or_writes_without_leading_keys(deployed: dict[str, Any]):
    """Writes are limited by key prefix: the voice function's FAIL# counters and CALLS# items,
    the room-events function's room items (and deleting tied PINs), the admin function's
    routes and PINs."""
    for resource in deployed["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for action, target, condition in _grants(resource["Properties"]):
            assert "*" not in action and target != "*"
            if action in WRITES:
                assert _leading_keys(condition), action


def test_only_the_admin_role_writes_routes_pins_and_idempotency_records(deployed: dict[str, Any]):
    directory = {"ROUTE#*", "PIN#*", "ROOMPINS#*", "IDEMPOTENCY#*"}
    for function in ("VoiceFunction", "DialOutFunction"):
        for action, _, condition in _grants(_role_of(deployed, function)):
            if action in WRITES:
                assert not directory & set(_leading_keys(condition)), (function, action)
    for action, _, condition in _grants(_role_of(deployed, "RoomEventsFunction")):
        if action in WRITES and directory & set(_leading_keys(condition)):
            assert (action, _leading_keys(condition)) == ("dynamodb:DeleteItem", TIED_PINS)
    admin = _role_of(deployed, "AdminFunction")
    assert admin["ManagedPolicyArns"] == [BASIC_EXECUTION]
    table = str({"Fn::GetAtt": "DirectoryTable.Arn"})
    writes = [(a, t, _leading_keys(c)) for a, t, c in _grants(admin) if a in WRITES]
    assert sorted(writes) == sorted(
        [
            *(
                (action, table, ADMIN_KEYS)
                for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")
            ),
            # A caller's own failure counters (DELETE /admin/lockouts), never a budget.
            ("dynamodb:DeleteItem", table, [CALLER_COUNTERS]),
            # Phone legs moved or removed (/admin/rooms/.../callers): call items only.
            ("dynamodb:PutItem", table, ["CALLS#*"]),
            ("dynamodb:DeleteItem", table, ["CALLS#*"]),
        ]
    )
    reads = sorted(a for a, t, c in _grants(admin) if a.startswith("dynamodb:") and a not in WRITES)
    assert reads == ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    secrets = [(a, t) for a, t, _ in _grants(admin) if a.startswith("secretsmanager:")]
    # The pepper, and the Twilio tokens (as the room-events function) for the Calls API that
    # moves and removes phone callers.
    twilio_secret, accounts = str({"Ref": "TwilioSecret"}), "secret:${AWS::StackName}/twilio/*"
    assert ("secretsmanager:GetSecretValue", str({"Ref": "PinPepperSecret"})) in secrets
    assert {t for _, t in secrets} - {str({"Ref": "PinPepperSecret"}), twilio_secret} == {
        t for _, t in secrets if accounts in t
    }
    assert ("secretsmanager:GetSecretValue", twilio_secret) in secrets


def test_admin_routes_require_iam_and_a_policy_of_their_own(template: dict[str, Any]):
    routes = tpl.api_routes(template)
    admin_routes = [r for r in routes if r.path.startswith("/admin")]
    assert admin_routes and all(r.auth == "AWS_IAM" and r.function == "AdminFunction" for r in admin_routes)
    assert not [r for r in routes if r.function == "AdminFunction" and r not in admin_routes]
    policies = {
        name: str(r["Properties"]["PolicyDocument"]["Statement"])
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
    }
    assert "/Prod/*/admin/*" in policies["AdminCallerPolicy"]
    assert "admin" not in policies["DialOutCallerPolicy"] and "calls" not in policies["AdminCallerPolicy"]
    outputs = template["Outputs"]
    assert outputs["AdminPolicyArn"]["Value"] == {"Ref": "AdminCallerPolicy"}


def test_room_events_role_reads_and_writes_room_items_only(deployed: dict[str, Any]):
    """Room items; and a room's PIN memberships read and tied PINs deleted (nothing else)."""
    role = _role_of(deployed, "RoomEventsFunction")
    assert role["ManagedPolicyArns"] == [BASIC_EXECUTION]
    table = str({"Fn::GetAtt": "DirectoryTable.Arn"})
    reads = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ROOM#*", "CALLS#*", "PHONEONLY"]}})
    writes = str(
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ROOM#*", "ROOMS#*", "CALLS#*", "PHONEONLY"]}}
    )
    memberships = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ROOMPINS#*"]}})
    tied = str({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": TIED_PINS}})
    assert sorted(_grants(role)) == sorted(
        [
            ("dynamodb:GetItem", table, reads),
            ("dynamodb:Query", table, reads),
            ("dynamodb:PutItem", table, writes),
            ("dynamodb:UpdateItem", table, writes),
            ("dynamodb:DeleteItem", table, writes),
            ("dynamodb:Query", table, memberships),
            ("dynamodb:DeleteItem", table, tied),
            ("secretsmanager:GetSecretValue", str({"Ref": "TwilioSecret"}), ""),
            ("secretsmanager:GetSecretValue", ACCOUNT_SECRETS, ""),
            ("secretsmanager:ListSecretVersionIds", ACCOUNT_SECRETS, ""),
            # Callbacks signed with the previous token are accepted during a rotation, as for voice.
            ("secretsmanager:ListSecretVersionIds", str({"Ref": "TwilioSecret"}), ""),
        ]
    )


def test_signed_functions_share_the_token_rotation_grace(deployed: dict[str, Any]):
    for name in ("VoiceFunction", "RoomEventsFunction"):
        variables = deployed["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert variables["TOKEN_ROTATION_GRACE_SECONDS"] == {"Ref": "TokenRotationGraceSeconds"}


def test_the_fallback_route_is_deployed_on_the_voice_function(deployed: dict[str, Any]):
    permissions = [
        r["Properties"]
        for r in deployed["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["FunctionName"] == {"Ref": "VoiceFunction"}
    ]
    arns = " ".join(str(p["SourceArn"]) for p in permissions)
    assert "/voice/fallback" in arns
