"""Every command of README.md and docs/*.md that can run on a laptop is run, as pasted,
against a `dialin serve`.

The convention, for whoever adds a fenced block to one of these pages:

- Every fenced ``sh`` block's commands are run in order, one line a command, from the
  repository root with ``.venv/bin`` first on the PATH, against one `dialin serve` per page,
  started on free ports with the demo seed (so a page's commands may build on each other,
  never on another page's). The commands find it only through the environment, as a user's
  would: ``DIALIN_URL`` (``dialin call``, ``dialin dial``, ``dialin room``) and
  ``DIALIN_DYNAMODB_URL`` (every ``--local`` command). No command is edited, so a run
  command names no ``127.0.0.1`` URL and no ``--endpoint-url``.
- A block that cannot run here has an HTML comment on the line just before it:
  ``<!-- not run: needs AWS -->`` (or ``needs Twilio``, ``needs AWS and Twilio``,
  ``long-running`` for ``make run``, ...). The reason is required.
- A command is expected to exit 0, or N when its trailing comment says ``(exit N)``.
- A command whose comment says ``in a second terminal`` keeps running while the block's
  next commands run (as typed in a second terminal): it is started, given until it has
  printed and gone quiet (it waits for them), and its exit code is checked at the block's end.
- Commands are plain: no pipes, redirections or ``$VARIABLES`` in a block that is run.
- Every fence names its language (``text`` for output), so no command hides in a block
  that is never read.

An unmarked block whose command fails, fails this test, on whichever page it is.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.served import ROOT, dialin_serve

SHELL_FENCES = ("sh", "bash", "shell", "console")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S[^>]*?)\s*-->$")
EXPECTED_EXIT = re.compile(r"#.*\(exit (?P<code>\d+)\)")
SECOND_TERMINAL = re.compile(r"#.*\bin a second terminal\b")
SHELL_SYNTAX = re.compile(r"[|<>;&`$]")
# A run command reaches the server only through DIALIN_URL / DIALIN_DYNAMODB_URL.
POINTED_BY_HAND = re.compile(r"--endpoint-url|https?://(127\.0\.0\.1|localhost)\b")
COMMAND_SECONDS = 120  # a bound, not an expectation: the machine may be busy
QUIET_SECONDS = 1.0  # a command in "a first terminal" that printed nothing for this long waits


def pages() -> list[str]:
    return ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    commands: tuple[str, ...]
    not_run: str  # the reason, or empty


@dataclass(frozen=True)
class Fence:
    line: int
    language: str


def fences(text: str) -> list[tuple[Fence, list[str], str]]:
    """Every fenced block of a Markdown text: its fence, its lines and the line before it."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = lines[i].strip()
        if not fence.startswith("```"):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        before = lines[i - 1].strip() if i > 0 else ""
        found.append((Fence(i + 1, fence[3:].strip()), lines[i + 1 : end], before))
        i = end + 1
    return found


def blocks(text: str) -> list[Block]:
    """The fenced shell blocks of a Markdown text, with the marker before each, if any."""
    found = []
    for fence, lines, before in fences(text):
        if fence.language in SHELL_FENCES:
            marker = NOT_RUN.match(before)
            commands = tuple(line for line in lines if line.strip())
            found.append(Block(fence.line, commands, marker.group("reason") if marker else ""))
    return found


def page_blocks(page: str) -> list[Block]:
    return blocks((ROOT / page).read_text(encoding="utf-8"))


def run_pages() -> list[str]:
    """The pages with a block to run."""
    return [p for p in pages() if any(not b.not_run for b in page_blocks(p))]


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command)
    return int(found.group("code")) if found else 0


def problems_of(command: str) -> list[str]:
    code = command.split("#", 1)[0]
    found = []
    if SHELL_SYNTAX.search(code):
        found.append("plain commands only (no pipes, redirections or $VARIABLES)")
    if POINTED_BY_HAND.search(code):
        found.append("a local URL or --endpoint-url: the test points commands there by DIALIN_URL only")
    return found


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
    assert SECOND_TERMINAL.search(".venv/bin/dialin call --to +1   # held; then, in a second terminal:")
    assert not SECOND_TERMINAL.search(".venv/bin/dialin call --to +1")
    assert problems_of(".venv/bin/dialin route list --local --endpoint-url http://127.0.0.1:8001")
    assert problems_of(".venv/bin/dialin call --url http://localhost:3000 --to +1")
    assert problems_of('.venv/bin/dialin call --url "$API_BASE_URL"')
    assert not problems_of(".venv/bin/dialin route list --local   # http://127.0.0.1:8000 by default")


@pytest.mark.parametrize("page", pages())
def test_each_block_is_run_or_says_why_not(page: str):
    for fence, _, _ in fences((ROOT / page).read_text(encoding="utf-8")):
        assert fence.language, f"{page} line {fence.line}: a fence names its language (text for output)"
    for block in page_blocks(page):
        if not block.not_run:
            for command in block.commands:
                assert not problems_of(command), (
                    f"{page} line {block.line}: {command}: {problems_of(command)}"
                )


def test_the_pages_have_blocks_to_run_and_mark_the_others():
    readme = page_blocks("README.md")
    assert sum(len(b.commands) for b in readme if not b.not_run) >= 10
    assert any(b.not_run for b in readme)
    assert {"README.md", "docs/local.md", "docs/dial-out.md", "docs/prompts.md"} <= set(run_pages())


class Terminal:
    """A command left running, as in a first terminal: its output collected as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a page's own command, split without a shell
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output: list[str] = []
        self.last = time.monotonic()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.last = time.monotonic()

    def wait_until_waiting(self) -> None:
        deadline = time.monotonic() + COMMAND_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.output and time.monotonic() - self.last >= QUIET_SECONDS:
                return
            time.sleep(0.1)

    def finish(self) -> tuple[int, str]:
        try:
            code = self.process.wait(timeout=COMMAND_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        time.sleep(0.05)  # the reader's last line
        return code, "".join(self.output)


def environment(url: str, dynamodb: str) -> dict[str, str]:
    hidden = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "PIN_PEPPER", "AWS_PROFILE")
    env = {k: v for k, v in os.environ.items() if k not in hidden and not k.startswith("DIALIN_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(DIALIN_URL=url, DIALIN_DYNAMODB_URL=dynamodb, PYTHONUNBUFFERED="1")
    return env


@pytest.mark.parametrize("page", run_pages())
def test_every_runnable_command_works_as_pasted(page: str):
    runnable = [b for b in page_blocks(page) if not b.not_run]
    with dialin_serve() as served:
        env = environment(served.url, served.dynamodb)
        for block in runnable:
            waiting: list[tuple[str, Terminal]] = []
            for command in block.commands:
                argv = shlex.split(command, comments=True)
                if SECOND_TERMINAL.search(command):
                    terminal = Terminal(argv, env)
                    terminal.wait_until_waiting()
                    waiting.append((command, terminal))
                    continue
                done = subprocess.run(  # noqa: S603 - a page's own command, split without a shell
                    argv,
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_SECONDS,
                    check=False,
                )
                assert done.returncode == expected_exit(command), (
                    f"{page} line {block.line}: {command}\n{done.stdout}{done.stderr}"
                )
            for command, terminal in waiting:
                code, output = terminal.finish()
                assert code == expected_exit(command), f"{page} line {block.line}: {command}\n{output}"
