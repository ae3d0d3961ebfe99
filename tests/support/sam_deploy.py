"""`sam build`, `sam deploy` and `sam delete` of template.yaml onto MiniStack, as a user runs
them, plus the one change the emulator needs in the built template (see ``support.ministack``
for why). Every command gets the emulator's environment only: fake credentials, its endpoint."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from dialin_tools.lib import template as tpl
from support.ministack import REGION, ROOT, MiniStack

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
STACK = "dialin-deploy-smoke"
BUCKET = "dialin-deploy-smoke-artifacts"
SAM_SECONDS = 600


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    # `sam build` runs the layer's Makefile with python3.13, which pyenv shows only when asked.
    env = {**env, "PYENV_VERSION": os.environ.get("PYENV_VERSION") or "3.11.7:3.13.0"}
    with log.open("ab") as out:
        out.write(f"\n$ sam {' '.join(args)}\n".encode())
        out.flush()
        done = subprocess.run(  # noqa: S603 - the pinned SAM CLI, our own arguments
            [str(SAM), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=SAM_SECONDS
        )
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise AssertionError(f"sam {args[0]} failed ({done.returncode}); {log}:\n{tail}")


def build(emulator: MiniStack, workdir: Path) -> Path:
    """`sam build` into the tier's own directories (never .aws-sam, which `make build` uses)."""
    out = workdir / "build"
    args = ["build", "--build-dir", str(out), "--cache-dir", str(workdir / "cache"), "--parallel"]
    _run(args, emulator.env(), workdir / "sam.log")
    return out / "template.yaml"


def emulator_template(built: Path) -> tuple[Path, list[str]]:
    """The built template with each metric-math alarm's ``Metrics`` replaced by one plain
    metric (MiniStack refuses metric math), and the logical ids of the alarms changed."""
    template = tpl.load(built)
    changed = []
    for name, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in props:
            props.pop("Metrics")
            props.update(Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=60)
            changed.append(name)
    out = built.with_name("emulator-template.yaml")
    out.write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    return out, changed


def deploy(emulator: MiniStack, template: Path, parameters: dict[str, str], log: Path) -> None:
    """`sam deploy` as samconfig.toml has it, but onto the emulator's own bucket, unprompted."""
    overrides = [f"{name}={value}" for name, value in parameters.items()]
    args = [
        "deploy",
        "--template-file", str(template),
        "--stack-name", STACK,
        "--region", REGION,
        "--no-resolve-s3",
        "--s3-bucket", BUCKET,
        "--capabilities", "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--no-progressbar",
    ]  # fmt: skip
    if overrides:
        args += ["--parameter-overrides", *overrides]
    _run(args, emulator.env(), log)


def delete(emulator: MiniStack, log: Path) -> None:
    args = ["delete", "--stack-name", STACK, "--region", REGION, "--s3-bucket", BUCKET, "--no-prompts"]
    _run(args, emulator.env(), log)


def outputs(emulator: MiniStack) -> dict[str, str]:
    stack = emulator.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
