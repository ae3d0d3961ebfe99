"""The deployed stack's outputs (CloudFormation DescribeStacks): where our routes live."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dialin_tools.errors import DialinError
from dialin_tools.lib.template import ROOT

SAMCONFIG = ROOT / "samconfig.toml"


class StackError(DialinError):
    """The stack or one of its outputs cannot be read; the message says which."""


def samconfig_defaults(path: Path = SAMCONFIG) -> tuple[str, str]:
    """``(stack_name, region)`` from samconfig.toml's default environment, or empty strings."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return "", ""
    params = data.get("default", {}).get("global", {}).get("parameters", {})
    deploy = data.get("default", {}).get("deploy", {}).get("parameters", {})
    stack = deploy.get("stack_name") or params.get("stack_name") or ""
    region = deploy.get("region") or params.get("region") or ""
    return str(stack), str(region)


def default_region(region: str | None = None) -> str | None:
    """``region``, else the AWS configuration's, else samconfig.toml's (where `sam deploy` went)."""
    if region:
        return region
    import boto3

    return boto3.Session().region_name or samconfig_defaults()[1] or None


def cloudformation_client(region: str | None = None) -> Any:
    import boto3

    return boto3.client("cloudformation", region_name=default_region(region))


def stack_outputs(client: Any, stack_name: str) -> dict[str, str]:
    return describe_stack(client, stack_name)[0]


def describe_stack(client: Any, stack_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters."""
    try:
        response = client.describe_stacks(StackName=stack_name)
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        raise StackError(f"cannot read stack {stack_name}: {message}") from None
    except BotoCoreError as exc:  # no credentials, no region, endpoint unreachable
        raise StackError(f"cannot read stack {stack_name}: {exc}") from None
    stacks = response.get("Stacks") or []
    if not stacks:
        raise StackError(f"stack {stack_name} does not exist")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters") or []}
    return outputs, params


def route_url(outputs: dict[str, str], output_key: str, path: str) -> str:
    """A route's URL: its own output when the stack has one, else ``ApiBaseUrl`` + ``path``."""
    if outputs.get(output_key):
        return outputs[output_key]
    base = outputs.get("ApiBaseUrl", "").rstrip("/")
    if not base:
        raise StackError(f"the stack has neither {output_key} nor ApiBaseUrl among its outputs")
    return f"{base}{path}"
