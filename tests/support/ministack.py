"""MiniStack, the AWS emulator the deploy tier (`make deploy-smoke`, tests/deploy/) deploys the
template onto: started on a free loopback port, stopped by its own PID (its process group,
so the Lambda workers it spawned go with it).

Where MiniStack (1.5.33) differs from AWS, the one place this tier says so. Each difference
is worked around only in the tier's own deploy (``support.sam_deploy``) and requests
(``support.stack_http``); template.yaml stays what a user deploys.

- Architecture: functions run as subprocesses of the emulator, on its own interpreter (the
  python3.13 of .tools/ministack) on the host's architecture (x86_64 here), whatever
  ``Architectures: [arm64]`` says. The layer's arm64 wheels still load: the only compiled
  modules it carries (charset_normalizer's) have a pure-Python fallback.
- The Lambda runtime's boto3 is the emulator's own (the Makefile installs a boto3 beside
  MiniStack for it, pinned to the botocore MiniStack pins). Its interpreter also holds
  MiniStack's dependencies, which Lambda's runtime does not.
- The SAM transform needs aws-sam-translator in the emulator (`ministack[full]` would bring
  it, and much else): the Makefile installs it, pinned as the dev tools pin it.
- Metric-math alarms (``Metrics:``, FunctionErrorsAlarm and TableThrottlesAlarm) are
  refused ("metric math is not supported"), which rolls the whole stack back: the tier
  deploys the built template with each such alarm's ``Metrics`` replaced by one plain
  metric, same logical id and type (``sam_deploy.emulator_template``).
- AWS WAF cannot be deployed: ``AWS::WAFv2::WebACLAssociation`` is an unrecognized resource
  type (the change set is refused), so ``WebAcl=create`` or an ARN fails; the tier deploys
  the default ``WebAcl=none``, where both conditional resources are left out (checked).
- A secret's ``Ref`` is its name where AWS gives its ARN (the ``TwilioSecretArn`` output,
  the functions' ``*_SECRET_ARN`` variables): reads by name work, but policies naming
  secrets by ARN do not match it (with IAM enforcement on, issue 19's trial saw the secret
  reads denied; not retried here). The tier runs without MiniStack's IAM enforcement
  (``AUTH`` unset): the functions' roles are not exercised.
- SigV4 is not verified: an ``AWS_IAM`` method refuses a request with no signature (403
  "Missing Authentication Token"), but accepts any signature, wrong ones included
  (tests/deploy/test_admin_api.py checks both, so this note stays true).
- The API is served over plain HTTP on loopback, found by its ``Host`` header
  (``{api-id}.execute-api.localhost:PORT``, a name the resolver does not know): the tier
  signs Twilio's requests for ``https://{api-id}.execute-api.localhost:PORT/Prod/...``, the
  URL the functions rebuild from that header as they would behind API Gateway, and sends
  them to 127.0.0.1:PORT with that ``Host``. The stack's outputs name
  ``...execute-api.us-east-1.amazonaws.com`` as on AWS.
- Clients reach the emulator as ``http://localhost:PORT`` (``MINISTACK_HOST``, the name its
  S3 and execute-api hosts are under; ``127.0.0.1`` was not tried for `sam deploy`), and
  samconfig.toml's ``resolve_s3 = true`` needs ``--no-resolve-s3`` beside an explicit
  bucket, which the tier creates on the emulator.
- The per-minute schedule (an EventBridge rule) is created; whether MiniStack fires it is
  not checked, and no test relies on a scheduled run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
MINISTACK = ROOT / ".tools" / "ministack" / "bin" / "ministack"
REGION = "us-east-1"
# Fake credentials, for the emulator only (it never sees real ones, nor do its children).
FAKE_KEY_ID = "AKIAMINISTACKFAKE000"
FAKE_SECRET = "ministack-fake-secret-not-real"
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MiniStack:
    port: int
    pid: int
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://localhost:{self.port}"

    def env(self) -> dict[str, str]:
        """A subprocess environment that reaches this emulator and nothing of real AWS:
        fake credentials, its endpoint, no AWS profile or config file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
            AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            SAM_CLI_TELEMETRY="0",
        )
        return env

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
            aws_session_token=None,
        )


def _wait_ready(stack: MiniStack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    url = f"http://127.0.0.1:{stack.port}/_ministack/health"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MiniStack exited ({process.returncode}): {stack.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"MiniStack did not answer within {READY_SECONDS:.0f} s: {stack.log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """By its own PID: its process group (started as a new session), then the process."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def ministack(workdir: Path) -> Iterator[MiniStack]:
    if not MINISTACK.exists():
        raise RuntimeError(f"{MINISTACK} is missing: run `make deploy-smoke`, which installs it")
    port = free_port()
    log = workdir / "ministack.log"
    state = Path(tempfile.mkdtemp(prefix="ministack-", dir=workdir))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        GATEWAY_PORT=str(port),
        BIND_HOST="127.0.0.1",
        MINISTACK_HOST="localhost",
        MINISTACK_REGION=REGION,
        LOG_LEVEL="WARNING",
        S3_DATA_DIR=str(state / "s3"),
        TMPDIR=str(state),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our pinned emulator
            [str(MINISTACK)], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    stack = MiniStack(port=port, pid=process.pid, log=log)
    try:
        _wait_ready(stack, process)
        yield stack
    finally:
        _stop(process)
