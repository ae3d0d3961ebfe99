"""Every README command that can run on a laptop is run, as pasted, against a `dialin serve`.

The convention, for whoever adds a README block:

- Every fenced ``sh`` block's commands are run in order, one line a command, from the
  repository root with ``.venv/bin`` first on the PATH, against one `dialin serve` started
  on free ports with the demo seed. ``dialin call`` finds it through ``DIALIN_URL``; a
  command with ``--local`` gets ``--endpoint-url`` for its DynamoDB appended.
- A block that cannot run here has an HTML comment on the line just before it:
  ``<!-- not run: needs AWS -->`` (or ``needs Twilio``, ``needs AWS and Twilio``,
  ``long-running`` for ``make run``, ...). The reason is required.
- A command is expected to exit 0, or N when its trailing comment says ``(exit N)``.
- Commands are plain: no pipes, redirections or ``$VARIABLES`` in a block that is run.

An unmarked block whose command fails, fails this test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.served import ROOT, Served, dialin_serve

README = ROOT / "README.md"
SHELL_FENCES = ("sh", "bash", "shell", "console")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S[^>]*?)\s*-->$")
EXPECTED_EXIT = re.compile(r"#.*\(exit (?P<code>\d+)\)")
SHELL_SYNTAX = re.compile(r"[|<>;&`$]")
COMMAND_SECONDS = 120  # a bound, not an expectation: the machine may be busy


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    commands: tuple[str, ...]
    not_run: str  # the reason, or empty


def blocks(text: str) -> list[Block]:
    """The fenced shell blocks of a Markdown text, with the marker before each, if any."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = lines[i].strip()
        if not fence.startswith("```"):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        if fence[3:].strip() in SHELL_FENCES:
            before = lines[i - 1].strip() if i > 0 else ""
            marker = NOT_RUN.match(before)
            commands = tuple(line for line in lines[i + 1 : end] if line.strip())
            found.append(Block(i + 1, commands, marker.group("reason") if marker else ""))
        i = end + 1
    return found


def argv_of(command: str, served: Served) -> list[str]:
    argv = shlex.split(command, comments=True)
    if "--local" in argv and "--endpoint-url" not in argv:
        argv += ["--endpoint-url", served.dynamodb]
    return argv


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command)
    return int(found.group("code")) if found else 0


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def test_the_readme_has_blocks_to_run_and_marks_the_others():
    found = blocks(README.read_text(encoding="utf-8"))
    assert any(not b.not_run for b in found), "no README block is run"
    assert any(b.not_run for b in found)
    for block in found:
        if not block.not_run:
            for command in block.commands:
                code = command.split("#", 1)[0]
                assert not SHELL_SYNTAX.search(code), f"README line {block.line}: plain commands only"


def test_the_marker_convention_is_read_as_documented():
    text = "\n".join(
        [
            "<!-- not run: needs AWS -->",
            "```sh",
            "aws s3 ls",
            "```",
            "<!-- not run: -->",
            "```sh",
            "make run   # unmarked: an empty reason is no reason",
            "```",
            "```json",
            '{"not": "shell"}',
            "```",
        ]
    )
    found = blocks(text)
    assert [(b.not_run, b.commands) for b in found] == [
        ("needs AWS", ("aws s3 ls",)),
        ("", ("make run   # unmarked: an empty reason is no reason",)),
    ]
    assert expected_exit(".venv/bin/dialin call --to +1 --digits 1  # wrong (exit 1)") == 1
    assert expected_exit(".venv/bin/dialin route list --local") == 0


def test_every_runnable_readme_command_works_as_pasted(served: Served):
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN", "AWS_PROFILE")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DIALIN_URL"] = served.url
    ran = 0
    for block in blocks(README.read_text(encoding="utf-8")):
        if block.not_run:
            continue
        for command in block.commands:
            done = subprocess.run(  # noqa: S603 - the README's own commands, split without a shell
                argv_of(command, served),
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_SECONDS,
                check=False,
            )
            assert done.returncode == expected_exit(command), (
                f"README line {block.line}: {command}\n{done.stdout}{done.stderr}"
            )
            ran += 1
    assert ran >= 10
