"""Every resource the template declares for the parameters deployed is in the stack: the
template transformed as `sam deploy` transforms it (the SAM translator), less the resources
whose Condition is false, compared with the stack's resources by logical id and type."""

from __future__ import annotations

import copy
import re
from typing import Any

from samtranslator.translator.transform import transform
from support.sam_deploy import STACK
from support.stack_http import Deployed

from dialin_tools.lib import template as tpl

# Logical ids SAM suffixes with a hash of their content (the API's deployment, the layer's
# version): compared without it.
HASHED = re.compile(r"^(?P<name>.+?)[0-9a-f]{10}$")
HASHED_TYPES = ("AWS::ApiGateway::Deployment", "AWS::Lambda::LayerVersion")


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


def _holds(condition: Any, template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """A CloudFormation condition over parameters (the functions this template's use)."""
    ((name, args),) = condition.items()
    if name == "Condition":
        return _holds(template["Conditions"][args], template, parameters)
    if name == "Fn::Not":
        return not _holds(args[0], template, parameters)
    if name == "Fn::And":
        return all(_holds(arg, template, parameters) for arg in args)
    if name == "Fn::Or":
        return any(_holds(arg, template, parameters) for arg in args)
    assert name == "Fn::Equals", condition
    return bool(_value(args[0], template, parameters) == _value(args[1], template, parameters))


def _value(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        declared = template["Parameters"][value["Ref"]]
        return str(parameters.get(value["Ref"], declared.get("Default", "")))
    return value


def _key(logical_id: str, kind: str) -> tuple[str, str]:
    match = HASHED.match(logical_id)
    return (match.group("name") if match and kind in HASHED_TYPES else logical_id, kind)


def expected(deployed: Deployed) -> set[tuple[str, str]]:
    packaged = copy.deepcopy(tpl.load(deployed.template))
    for name, resource in packaged["Resources"].items():
        props = resource.get("Properties") or {}
        for uri in ("CodeUri", "ContentUri"):
            if uri in props:
                props[uri] = f"s3://artifacts/{name}.zip"
    cfn = transform(packaged, deployed.parameters, _NoManagedPolicies())
    return {
        _key(name, resource["Type"])
        for name, resource in cfn["Resources"].items()
        if "Condition" not in resource
        or _holds({"Condition": resource["Condition"]}, packaged, deployed.parameters)
    }


def created(deployed: Deployed) -> set[tuple[str, str]]:
    client = deployed.emulator.client("cloudformation")
    pages = client.get_paginator("list_stack_resources").paginate(StackName=STACK)
    summaries = [summary for page in pages for summary in page["StackResourceSummaries"]]
    assert {s["ResourceStatus"] for s in summaries} == {"CREATE_COMPLETE"}, summaries
    return {_key(s["LogicalResourceId"], s["ResourceType"]) for s in summaries}


def test_every_resource_of_the_template_is_created(deployed: Deployed):
    want, have = expected(deployed), created(deployed)
    assert sorted(want - have) == [], "declared for these parameters, not in the stack"
    assert sorted(have - want) == [], "in the stack, not declared"
    print(f"{len(have)} resources created")  # the tier's note quotes it


def test_conditional_resources_follow_their_conditions(deployed: Deployed):
    """WebAcl=none (the default deployed): no web ACL and no association."""
    have = {name for name, _ in created(deployed)}
    source = tpl.load()
    conditional = {name for name, r in source["Resources"].items() if "Condition" in r}
    assert conditional == {"ApiWebAcl", "ApiWebAclAssociation"}
    assert conditional & have == set()
    assert set(source["Resources"]) - conditional <= have  # SAM resources keep their ids


def test_the_deployed_template_differs_only_in_the_metric_math_alarms(deployed: Deployed):
    """The emulator's one change to what a user deploys (see ``support.ministack``)."""
    source, built = tpl.load(), tpl.load(deployed.template)
    assert deployed.replaced_alarms == ["FunctionErrorsAlarm", "TableThrottlesAlarm"]
    assert set(built["Resources"]) == set(source["Resources"])
    same = [name for name in source["Resources"] if name not in deployed.replaced_alarms]
    for name in same:
        assert built["Resources"][name]["Type"] == source["Resources"][name]["Type"]
    assert built["Parameters"] == source["Parameters"]
