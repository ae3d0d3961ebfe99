"""The deploy tier (`make deploy-smoke`): one `sam build` and `sam deploy` of template.yaml onto
a MiniStack started for the session, shared by every test, in ``ORDER``. Not part of `make
test`: pyproject's norecursedirs keeps a plain `pytest` out of this folder. Where the
emulator differs from AWS: ``support.ministack``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import sam_deploy
from support.ministack import ROOT, MiniStack, ministack
from support.stack_http import (
    DIRECT_NUMBER,
    HELD_NUMBER,
    PIN,
    PIN_NUMBER,
    Deployed,
    StackApi,
    StandIn,
    calls_standin,
    twilio_secret,
)

DIALIN = Path(sys.executable).with_name("dialin")
# The order the modules share the one stack in: calls before the first room callback (after
# it the account's rooms are known, and a room never started holds its callers), and the
# lifecycle (a second deploy, then `sam delete`) last.
ORDER = (
    "test_resources.py",
    "test_calls.py",
    "test_admin_api.py",
    "test_room_callbacks.py",
    "test_lifecycle.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: ORDER.index(item.path.name) if item.path.name in ORDER else -1)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy-smoke")


@pytest.fixture(scope="session")
def emulator(workdir: Path) -> Iterator[MiniStack]:
    with ministack(workdir) as running:
        yield running


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    with calls_standin() as running:
        yield running


def dialin(emulator: MiniStack, *args: str) -> str:
    """The project's own `dialin` command against the deployed stack (through the emulator)."""
    command = [str(DIALIN), *args, "--stack", sam_deploy.STACK, "--region", "us-east-1"]
    done = subprocess.run(  # noqa: S603 - our own CLI
        command, cwd=ROOT, env=emulator.env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _seed(emulator: MiniStack) -> None:
    dialin(emulator, "route", "add", DIRECT_NUMBER, "--room", "DirectRoom")
    dialin(emulator, "route", "add", PIN_NUMBER, "--pin")
    dialin(emulator, "route", "add", HELD_NUMBER, "--room", "HeldRoom")
    dialin(emulator, "pin", "add", "--room", "PinRoom", "--identity", "alice", "--pin", PIN)


@pytest.fixture(scope="session")
def deployed(emulator: MiniStack, standin: StandIn, workdir: Path) -> Deployed:
    timings = {}
    started = time.monotonic()
    emulator.client("s3").create_bucket(Bucket=sam_deploy.BUCKET)
    built = sam_deploy.build(emulator, workdir)
    timings["sam build"] = time.monotonic() - started
    template, replaced = sam_deploy.emulator_template(built)
    parameters = {"TwilioApiBaseUrl": standin.url}
    started = time.monotonic()
    sam_deploy.deploy(emulator, template, parameters, workdir / "sam.log")
    timings["sam deploy"] = time.monotonic() - started
    outputs = sam_deploy.outputs(emulator)
    # As the README has a user do after the first deploy: the Twilio credentials in the secret.
    emulator.client("secretsmanager").put_secret_value(
        SecretId=outputs["TwilioSecretArn"], SecretString=twilio_secret()
    )
    _seed(emulator)
    api = StackApi.of(outputs["ApiBaseUrl"], emulator.port)
    return Deployed(emulator, api, standin, outputs, template, parameters, replaced, workdir, timings)
