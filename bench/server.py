"""Local server load: the incoming webhook through `dialin serve` on loopback.

Starts ``dialin serve --port 0 --dynamodb-port 0`` (ports the system picks), then
CLIENTS threads POST signed incoming-call webhooks to http://127.0.0.1:P/voice/incoming,
bounded both in count and in time, and stops the server it started.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CLIENTS = 8
PIN_NUMBER = "+15555550101"  # the demo PIN number in events/seed.json
CALLER = "+14155550123"


def serve_command(dialin: Path) -> list[str] | None:
    """``dialin serve`` if this checkout's `dialin` program has it, else None."""
    if not dialin.exists():
        return None
    try:
        probe = subprocess.run(  # noqa: S603 - our own console script
            [str(dialin), "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if probe.returncode != 0 or "--dynamodb-port" not in probe.stdout:
        return None
    return [str(dialin), "serve"]


def _request(port: int, body: str, signature: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(
            "POST",
            "/voice/incoming",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session we started for it, by its id
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def launched(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """`dialin serve` on free ports with ``env``, its output in ``log``: its API port, once it
    is ready (``launched_on_free_ports``). Stopped (its own session) afterwards."""
    with launched_on_free_ports(command, env, log) as (url, _dynamodb):
        yield int(url.rsplit(":", 1)[1])


BANNER_URL = re.compile(rb"API on (http://127\.0\.0\.1:\d+)")
BANNER_DYNAMODB = re.compile(rb"DynamoDB: embedded at (http://127\.0\.0\.1:\d+)")


@contextlib.contextmanager
def launched_on_free_ports(command: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[str, str]]:
    """`dialin serve` on ports the system picks (port 0), with ``env`` on top of ours and its
    output in ``log``: (its API URL, its DynamoDB URL) from its banner, once it is ready.
    Stopped afterwards: its own session, by its process id."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own console script
            [*command, "--port", "0", "--dynamodb-port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while b"Ctrl-C stops." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dialin serve did not start; see {log}")
            time.sleep(0.1)
        banner = log.read_bytes()
        url, dynamodb = BANNER_URL.search(banner), BANNER_DYNAMODB.search(banner)
        if url is None or dynamodb is None:
            raise RuntimeError(f"dialin serve's banner names no API or DynamoDB URL; see {log}")
        yield url.group(1).decode(), dynamodb.group(1).decode()
    finally:
        _stop(proc)


def run(
    command: list[str],
    token: str,
    log: Path,
    requests: int = 2000,
    seconds: float = 20.0,
    clients: int = CLIENTS,
) -> dict[str, Any]:
    from dialin_tools.lib.apigw import twilio_signature

    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + "7" * 32,
        "CallStatus": "ringing",
        "Called": PIN_NUMBER,
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": PIN_NUMBER,
    }
    body = urlencode(params)
    # The server checks signatures with $TWILIO_AUTH_TOKEN when set: make it ``token``.
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token}
    with launched(command, env, log) as port:
        signature = twilio_signature(f"http://127.0.0.1:{port}/voice/incoming", params, token)
        status, answer = 0, b""
        for _ in range(50):  # warm-up; also waits for the table to be seeded
            status, answer = _request(port, body, signature)
        if status != 200 or b"<Gather" not in answer:
            raise RuntimeError(f"/voice/incoming answered {status}: {answer[:200]!r}")
        return _load(port, body, signature, requests, seconds, clients)


def _load(port: int, body: str, signature: str, requests: int, seconds: float, clients: int) -> dict:
    lock = threading.Lock()
    remaining = [requests]
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                status, answer = _request(port, body, signature)
            except OSError as exc:
                status, answer = 0, repr(exc).encode()
            elapsed = time.perf_counter() - start
            with lock:
                if status == 200 and b"<Gather" in answer:
                    latencies.append(elapsed)
                else:
                    failures.append(f"{status}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    n = len(ordered)
    return {
        "clients": clients,
        "requests": n,
        "failures": len(failures),
        "seconds": round(wall, 3),
        "requests_per_second": round(n / wall, 1) if wall else 0.0,
        "median_ms": round(ordered[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(ordered[min(n - 1, round(0.99 * (n - 1)))] * 1000, 2) if n else None,
    }
