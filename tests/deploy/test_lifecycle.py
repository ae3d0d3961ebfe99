"""The stack's life after the first deploy (run last, ``ORDER``): a second `sam deploy` with a
changed parameter updates it in place, and `sam delete` removes it, leaving the table and
the PIN pepper (``DeletionPolicy: Retain``) and deleting the Twilio secret."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import sam_deploy
from support.stack_http import DIRECT_NUMBER, Deployed

from dialin_tools.commands.call.phone import FAKE_ACCOUNT_SID


def stack(deployed: Deployed) -> dict[str, Any]:
    return dict(
        deployed.emulator.client("cloudformation").describe_stacks(StackName=sam_deploy.STACK)["Stacks"][0]
    )


def physical_id(deployed: Deployed, logical_id: str) -> str:
    client = deployed.emulator.client("cloudformation")
    found = client.describe_stack_resource(StackName=sam_deploy.STACK, LogicalResourceId=logical_id)
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def test_a_second_deploy_with_a_changed_parameter_updates_the_stack(deployed: Deployed):
    before = stack(deployed)["StackId"]
    parameters = {**deployed.parameters, "PinAttempts": "4"}  # the default is 3
    started = time.monotonic()
    sam_deploy.deploy(deployed.emulator, deployed.template, parameters, deployed.workdir / "sam.log")
    deployed.timings["sam deploy (update)"] = time.monotonic() - started
    after = stack(deployed)
    assert after["StackId"] == before and after["StackStatus"] == "UPDATE_COMPLETE", after
    values = {p["ParameterKey"]: p["ParameterValue"] for p in after["Parameters"]}
    assert values["PinAttempts"] == "4"
    voice = physical_id(deployed, "VoiceFunction")
    config = deployed.emulator.client("lambda").get_function_configuration(FunctionName=voice)
    assert config["Environment"]["Variables"]["PIN_ATTEMPTS"] == "4"
    # The updated function still answers (a room not started by now: the caller is held).
    params = {
        "AccountSid": FAKE_ACCOUNT_SID,
        "CallSid": "CA" + "4" * 32,
        "From": "+15555550123",
        "To": DIRECT_NUMBER,
    }
    status, body = deployed.api.twilio_post("/voice/incoming", params)
    assert status == 200 and body.startswith("<?xml") and "<Response>" in body, body


def test_sam_delete_removes_the_stack_and_keeps_the_table_and_the_pepper(deployed: Deployed):
    emulator, outputs = deployed.emulator, deployed.outputs
    voice = physical_id(deployed, "VoiceFunction")
    started = time.monotonic()
    sam_deploy.delete(emulator, deployed.workdir / "sam.log")
    deployed.timings["sam delete"] = time.monotonic() - started
    with pytest.raises(ClientError, match="does not exist"):
        stack(deployed)
    with pytest.raises(ClientError, match="ResourceNotFound"):
        emulator.client("lambda").get_function(FunctionName=voice)
    table = emulator.client("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
    assert table["TableStatus"] == "ACTIVE"  # Retain: the routes and PINs survive the stack
    secrets = emulator.client("secretsmanager")
    pepper = secrets.describe_secret(SecretId=outputs["PinPepperSecretArn"])
    assert "DeletedDate" not in pepper  # Retain: without it no stored PIN matches again
    with pytest.raises(ClientError, match="ResourceNotFound"):
        secrets.describe_secret(SecretId=outputs["TwilioSecretArn"])
    print("sam timings (s):", {name: round(seconds, 1) for name, seconds in deployed.timings.items()})
