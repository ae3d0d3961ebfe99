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

import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from support.served import DIALIN as DIALIN_BIN
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


# ---- The README's admin example, as printed, in a reader's environment --------------------

ADMIN_EXAMPLE = "<!-- admin-example:"
CREATED = re.compile(r"^Dial (\+\d+) and enter (\d+) or tap tel:\+\d+,,(\d+)#$", re.M)


def python_example(page: str, marker: str) -> str:
    """The ``python`` block just after the HTML comment starting ``marker``, as printed."""
    for fence, lines, before in fences((ROOT / page).read_text(encoding="utf-8")):
        if fence.language == "python" and before.startswith(marker):
            return "\n".join(lines) + "\n"
    raise AssertionError(f"{page}: no python block after {marker}")


def reader_environment(home: Path, **names: str) -> dict[str, str]:
    """Only what a reader's shell has: a PATH, a HOME of their own (no ~/.aws there unless a
    test writes it, as `aws configure` would) and what the README tells them to set. Nothing
    of the suite's own AWS variables or config files."""
    home.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(home), **names}


def run_example(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the README's own example
        [sys.executable, str(script)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_readme_admin_example_runs_as_printed_against_dialin_serve(tmp_path: Path):
    """With DIALIN_API alone, as the README says: a PIN that joins its room; run again, the
    idempotent retry is a 409 that gives no new PIN."""
    script = tmp_path / "create_pin.py"
    script.write_text(python_example("README.md", ADMIN_EXAMPLE), encoding="utf-8")
    with dialin_serve() as served:
        env = reader_environment(tmp_path / "home", DIALIN_API=served.url)
        done = run_example(script, env)
        assert done.returncode == 0, done.stdout + done.stderr
        created = CREATED.search(done.stdout)
        assert created and created.group(2) == created.group(3), done.stdout
        number, pin = created.group(1), created.group(2)
        call = [str(DIALIN_BIN), "call", "--url", served.url, "--to", number, "--digits", pin]
        suite = environment(served.url, served.dynamodb)  # the page tests' own, for `dialin call`
        joined = subprocess.run(call, env=suite, capture_output=True, text=True, check=False)  # noqa: S603
        assert joined.returncode == 0, joined.stdout + joined.stderr
        assert re.search(r"^Joined room Visit-42 as dr-jones-[a-z2-7]{5}\.$", joined.stdout, re.M), (
            joined.stdout
        )
        again = run_example(script, env)
        assert again.returncode != 0 and "409" in again.stderr and pin not in again.stderr


class Recorder(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy that answers every request itself, as a stack's create would, and keeps
    what it was sent (the test's stand-in for API Gateway)."""

    seen: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []
    ANSWER: ClassVar[dict[str, object]] = {
        "pin": "1357924680",
        "numbers": ["+15555550101"],
        "dial": ["tel:+15555550101,,1357924680#"],
    }

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.path, dict(self.headers.items()), body))
        answer = json.dumps(self.ANSWER).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_readme_admin_example_signs_for_a_deployed_stack(tmp_path: Path):
    """Against an execute-api URL it signs with the reader's credentials (as `aws configure`
    writes them, no region configured) for the region in the URL. The request goes to a
    recording proxy (http_proxy, so the URL is plain http), which checks the signature."""
    key, secret = "AKIDREADEREXAMPLE", "reader-secret-key-example"
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n", encoding="utf-8"
    )
    script = tmp_path / "create_pin.py"
    script.write_text(python_example("README.md", ADMIN_EXAMPLE), encoding="utf-8")
    api = "http://abc123.execute-api.eu-west-2.amazonaws.com/Prod"
    Recorder.seen.clear()
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        done = run_example(script, reader_environment(home, DIALIN_API=api, http_proxy=proxy_url))
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Dial +15555550101 and enter 1357924680 or tap tel:+15555550101,,1357924680#" in done.stdout
    [(url, headers, body)] = Recorder.seen
    assert url == f"{api}/admin/pins"
    authorization = headers["Authorization"]
    assert f"Credential={key}/" in authorization and "/eu-west-2/execute-api/aws4_request" in authorization
    assert authorization.endswith(f"Signature={expected_signature(url, headers, body, key, secret)}")


def expected_signature(url: str, headers: dict[str, str], body: bytes, key: str, secret: str) -> str:
    """SigV4 over the headers the request says it signed, at the time it says it was signed."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    kept = {name: value for name, value in headers.items() if name.lower() in signed}
    request = AWSRequest("POST", url, data=body, headers=kept)
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials(key, secret), "execute-api", "eu-west-2")
    return auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
