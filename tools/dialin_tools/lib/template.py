"""Read template.yaml: the table's key schema and the API routes are defined there once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
TABLE_RESOURCE = "DirectoryTable"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def table_definition(template: dict[str, Any], table_name: str) -> dict[str, Any]:
    """``create_table`` arguments for the directory table, from its template definition."""
    props = template["Resources"][TABLE_RESOURCE]["Properties"]
    return {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }


def ttl_attribute(template: dict[str, Any]) -> str | None:
    spec = template["Resources"][TABLE_RESOURCE]["Properties"].get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def create_table(client: Any, template: dict[str, Any], table_name: str) -> None:
    client.create_table(**table_definition(template, table_name))
    client.get_waiter("table_exists").wait(TableName=table_name)
    ttl = ttl_attribute(template)
    if ttl:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )


@dataclass(frozen=True)
class ApiRoute:
    function: str  # logical id
    event: str  # the event's logical id
    method: str
    path: str
    code_dir: Path
    handler: str  # module.function
    auth: str  # "" or "AWS_IAM"


def function_events(
    template: dict[str, Any], kind: str
) -> Iterator[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(function's logical id, its properties, event id, event properties) for each event of ``kind``."""
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        for event_id, event in (props.get("Events") or {}).items():
            if event.get("Type") == kind:
                yield logical_id, props, event_id, event.get("Properties") or {}


def api_routes(template: dict[str, Any], root: Path = ROOT) -> list[ApiRoute]:
    return [
        ApiRoute(
            function=logical_id,
            event=event_id,
            method=str(ev["Method"]).upper(),
            path=ev["Path"],
            code_dir=root / props["CodeUri"],
            handler=props["Handler"],
            auth=(ev.get("Auth") or {}).get("Authorizer", ""),
        )
        for logical_id, props, event_id, ev in function_events(template, "Api")
    ]


@dataclass(frozen=True)
class ScheduleEvent:
    function: str  # logical id
    event: str  # the event's logical id
    seconds: int  # its rate
    code_dir: Path
    handler: str  # module.function


RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86_400, "days": 86_400}


def rate_seconds(expression: str) -> int | None:
    """``rate(1 minute)`` -> 60; None for a cron() expression or anything else."""
    inner = expression.strip()
    if not (inner.startswith("rate(") and inner.endswith(")")):
        return None
    value, _, unit = inner[5:-1].strip().partition(" ")
    if not value.isdigit() or unit.strip() not in RATE_UNITS:
        return None
    return int(value) * RATE_UNITS[unit.strip()]


def schedules(template: dict[str, Any], root: Path = ROOT) -> list[ScheduleEvent]:
    """The functions' Schedule events that run at a rate (EventBridge invokes them)."""
    found = []
    for logical_id, props, event_id, event in function_events(template, "Schedule"):
        seconds = rate_seconds(str(event.get("Schedule", "")))
        if seconds:
            found.append(
                ScheduleEvent(logical_id, event_id, seconds, root / props["CodeUri"], props["Handler"])
            )
    return found
