"""template.yaml: lint-clean, and shaped as the code expects."""

from __future__ import annotations

from typing import Any

from cfnlint.api import lint_all

from dialin_tools.lib import template as tpl


def test_cfn_lint_clean():
    """No errors or warnings (what `sam validate --lint` fails on), nor stateful-resource notes."""
    matches = lint_all(tpl.TEMPLATE.read_text())
    serious = [str(m) for m in matches if m.rule.id[0] in "EW" or m.rule.id == "I3011"]
    assert serious == []


def test_voice_routes_are_declared_post(template: dict[str, Any]):
    routes = {(r.function, r.method, r.path) for r in tpl.api_routes(template)}
    for path in ("/voice/incoming", "/voice/pin", "/voice/wait", "/voice/fallback"):
        assert ("VoiceFunction", "POST", path) in routes


def test_voice_code_serves_exactly_the_declared_routes(template: dict[str, Any]):
    from dialin.voice.app import STEPS, UNSIGNED_STEPS

    declared = {r.path for r in tpl.api_routes(template) if r.function == "VoiceFunction"}
    assert declared == set(STEPS) | set(UNSIGNED_STEPS)
    assert not set(STEPS) & set(UNSIGNED_STEPS)


def test_table_is_on_demand_with_pitr_sse_and_ttl(template: dict[str, Any]):
    props = template["Resources"]["DirectoryTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert tpl.ttl_attribute(template) == "expires_at"
    assert {a["AttributeType"] for a in props["AttributeDefinitions"]} == {"S"}


def test_voice_function_grants_only_what_it_uses(template: dict[str, Any]):
    # The statements as written; tests/infra/test_iam.py checks the role SAM builds from them.
    fn = template["Resources"]["VoiceFunction"]["Properties"]
    statements = [s for policy in fn["Policies"] for s in policy["Statement"]]
    actions = sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:ListSecretVersionIds",
    ]
    # One wildcard only: the other Twilio accounts' secrets, named under this stack's prefix.
    wild = [s for s in statements if "*" in str(s["Resource"])]
    assert [s["Sid"] for s in wild] == ["ReadAccountTokens"]
    assert str(wild[0]["Resource"]).endswith(":secret:${AWS::StackName}/twilio/*'}")
    assert fn["Runtime"] if "Runtime" in fn else template["Globals"]["Function"]["Runtime"] == "python3.13"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]


def test_secrets_are_generated_not_written_in_the_template(template: dict[str, Any]):
    for name in ("TwilioSecret", "PinPepperSecret"):
        props = template["Resources"][name]["Properties"]
        assert "SecretString" not in props and "GenerateSecretString" in props


def test_outputs_give_the_webhook_url_and_table(template: dict[str, Any]):
    assert {
        "VoiceWebhookUrl",
        "VoiceFallbackUrl",
        "TableName",
        "TwilioSecretArn",
        "PinPepperSecretArn",
    } <= set(template["Outputs"])


def test_every_checkov_skip_says_why(template: dict[str, Any]):
    """`make scan` must pass with 0 failed checks; a skip is allowed only with its reason."""
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert skip["id"].startswith("CKV"), name
        assert len(skip.get("comment", "")) >= 60, f"{name} {skip['id']}: give the reason"


def test_alarms_watch_the_metrics_the_code_emits(template: dict[str, Any]):
    from dialin.edge.observability import NAMESPACE, SERVICE

    alarms = {r["Properties"]["MetricName"]: r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"].get("Namespace") == NAMESPACE}  # fmt: skip
    assert set(alarms) == {"PinFailures", "ServiceFaults", "DialOutPlaced", "CallMovesFailed"}
    for alarm in alarms.values():
        assert alarm["Namespace"] == NAMESPACE
        assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert alarms["PinFailures"]["Threshold"] == {"Ref": "PinFailureAlarmThreshold"}


def test_alarms_watch_the_api_the_functions_and_the_table(template: dict[str, Any]):
    """Issue 17: what a crowd breaks first has an alarm: API 5xx, 4xx (the stage throttle) and
    latency, every function's errors and throttles, and the table's throttles."""
    resources = template["Resources"]
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    api = [{"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}}, {"Name": "Stage", "Value": "Prod"}]
    for name, metric in (
        ("Api5xxAlarm", "5XXError"),
        ("Api4xxAlarm", "4XXError"),
        ("ApiLatencyAlarm", "Latency"),
    ):
        assert alarms[name]["Namespace"] == "AWS/ApiGateway" and alarms[name]["MetricName"] == metric
        assert alarms[name]["Dimensions"] == api
    assert resources["VoiceApi"]["Properties"]["StageName"] == "Prod"

    def stats(alarm: dict[str, Any]) -> set[tuple[str, str, str]]:
        found = set()
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                (dimension,) = metric["Dimensions"]
                found.add((metric["Namespace"], metric["MetricName"], dimension["Value"]["Ref"]))
        summed = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        assert len(summed) == 1 and summed[0]["Expression"].startswith("SUM(")
        return found

    functions = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    expected = {("AWS/Lambda", m, fn) for fn in functions for m in ("Errors", "Throttles")}
    assert stats(alarms["FunctionErrorsAlarm"]) == expected
    assert stats(alarms["TableThrottlesAlarm"]) == {
        ("AWS/DynamoDB", "ReadThrottleEvents", "DirectoryTable"),
        ("AWS/DynamoDB", "WriteThrottleEvents", "DirectoryTable"),
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }


def test_the_default_throttle_holds_a_crowd_and_the_fallback_has_its_own_higher_bucket(
    template: dict[str, Any],
):
    """docs/parameters.md's sizing rule, for 2,000 held callers plus 2,000 arriving within 60 s
    (a tenth of them in the busiest second), at most one hold webhook per held caller per 60 s."""
    parameters = template["Parameters"]
    rate, burst = (parameters[n]["Default"] for n in ("ApiThrottleRateLimit", "ApiThrottleBurstLimit"))
    held, arriving = 2_000, 2_000
    assert rate >= max(held / 60, arriving / 60 * 1.1) * 2  # twice the need: arrivals are not even
    assert burst >= arriving / 10
    settings = template["Resources"]["VoiceApi"]["Properties"]["MethodSettings"]
    fallback = next(s for s in settings if s["ResourcePath"] == "/~1voice~1fallback")
    assert fallback["HttpMethod"] == "POST"
    assert fallback["ThrottlingRateLimit"] == {"Ref": "ApiFallbackRateLimit"}
    assert fallback["ThrottlingBurstLimit"] == {"Ref": "ApiFallbackBurstLimit"}
    assert parameters["ApiFallbackRateLimit"]["Default"] > rate
    assert parameters["ApiFallbackBurstLimit"]["Default"] > burst
    assert ("POST", "/voice/fallback") in {(r.method, r.path) for r in tpl.api_routes(template)}
