"""The Makefile's installs say what they do: one line before each long install (what, how
big, how long), pip's own output on a terminal, quiet in CI (`.ci/run` sets CI). And one
target per test tier, `make quick` for the three fast ones."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "make"
INSTALLS = [
    ".venv/bin/.installed",
    ".tools/sam/.installed",
    ".tools/checkov/.installed",
    ".tools/ministack/.installed",
]


def planned(target: str, ci: str | None) -> list[str]:
    """What `make` would run for ``target`` from scratch (-B), without running it (-n)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    done = subprocess.run(  # noqa: S603 - make, on our own Makefile
        [MAKE, "-n", "-B", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("target", INSTALLS)
def test_each_install_is_announced_with_its_size_and_time(target: str):
    lines = planned(target, None)
    installs = [i for i, line in enumerate(lines) if " install " in line and "--upgrade pip" not in line]
    assert installs, lines
    announced = [
        line for line in lines[: installs[0]] if line.startswith("echo") and "make: installing" in line
    ]
    assert len(announced) == 1 and " MB" in announced[0] and "minute" in announced[0], lines


@pytest.mark.parametrize("target", INSTALLS)
def test_pip_is_quiet_in_ci_only(target: str):
    def main_install(lines: list[str]) -> str:
        return next(line for line in lines if " install " in line and "--upgrade pip" not in line)

    assert "--quiet" not in main_install(planned(target, None))
    assert "--quiet" in main_install(planned(target, "true"))


def test_ci_runs_make_test_as_ci():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "CI=${CI:-true} make test" in script


@pytest.mark.parametrize(
    ("target", "tiers"),
    [
        ("quick", ["tests/unit", "tests/tools", "tests/infra"]),
        ("unit", ["tests/unit"]),
        ("handler", ["tests/handler"]),
        ("tools", ["tests/tools"]),
        ("infra", ["tests/infra"]),
        ("e2e", ["tests/e2e"]),
        ("attacks", ["tests/attacks"]),
    ],
)
def test_each_tier_has_a_target(target: str, tiers: list[str]):
    runs = [line.split() for line in planned(target, "true") if line.startswith(".venv/bin/pytest")]
    assert [[word for word in run if word.startswith("tests/")] for run in runs] == [tiers]


def test_the_deploy_tier_runs_after_make_test_and_only_when_named():
    """`make deploy-smoke` runs tests/deploy (python3.13 visible for `sam build`), `.ci/run`
    runs it after `make test`, and a plain `pytest` (`make test`) never collects it."""
    runs = [line.split() for line in planned("deploy-smoke", "true") if ".venv/bin/pytest" in line]
    assert [[word for word in run if word.startswith("tests/")] for run in runs] == [["tests/deploy"]]
    assert all(run[0].startswith("PYENV_VERSION=") for run in runs), runs
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.index("make test") < script.index("make deploy-smoke")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'norecursedirs = ["tests/deploy"' in pyproject
