"""Room-aware joining through `dialin serve`: the time from a signed room-created callback to
the Calls API request that moves each of N held callers into the room.

Starts ``dialin serve`` (free ports) with TWILIO_API_BASE_URL set to a recording stand-in for
Twilio's REST API started here (serve passes it to the functions unchanged), tells the stack
the account sends room callbacks (a room-ended of another room), puts N callers on hold on
the demo's direct number, then posts one signed room-created and notes when each Calls API
request arrives. Stops the server it started.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import server

ACCOUNT = "AC" + "0" * 32
DIRECT = "+15555550100"  # the demo direct number in events/seed.json (room DailyStandup)
CALLERS = 10


def _recorder() -> tuple[ThreadingHTTPServer, list[tuple[str, float]]]:
    arrivals: list[tuple[str, float]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.perf_counter()
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
            arrivals.append((sid, arrived))
            body = json.dumps({"sid": sid, "status": "in-progress"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler), arrivals


def _post(base: str, path: str, params: dict[str, str], token: str) -> bytes:
    from dialin_tools.lib.apigw import FORM, twilio_signature

    url = f"{base}{path}"
    headers = {"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(url, params, token)}
    data = urlencode(params).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - loopback http
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback http
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return response.read()


def _room(kind: str, room: str) -> dict[str, str]:
    from dialin_tools.commands.room.cli import callback_params

    return callback_params(kind, room, "", ACCOUNT, time.time())


def _hold(base: str, n: int, token: str) -> None:
    params = {
        "AccountSid": ACCOUNT,
        "CallSid": f"CA{n:032d}",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    params.update(From=f"+1415555{n:04d}", To=DIRECT, Caller=f"+1415555{n:04d}", Called=DIRECT)
    answer = _post(base, "/voice/incoming", params, token)
    if b"<Connect" in answer or b"<Redirect" not in answer:
        raise RuntimeError(f"caller {n} was not put on hold: {answer[:200]!r}")


def run(command: list[str], token: str, log: Path, callers: int = CALLERS) -> dict[str, Any]:
    recorder, arrivals = _recorder()
    threading.Thread(target=recorder.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token, "TWILIO_ACCOUNT_SID": ACCOUNT}
    env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{recorder.server_port}"
    try:
        with server.launched(command, env, log) as port:
            started = _move_held(f"http://127.0.0.1:{port}", token, callers, arrivals)
    finally:
        recorder.shutdown()
        recorder.server_close()
    delays = [(arrived - started) * 1000 for _, arrived in arrivals]
    return {
        "callers": callers,
        "moved": len(arrivals),
        "median_ms": round(statistics.median(delays), 1) if delays else None,
        "max_ms": round(max(delays), 1) if delays else None,
    }


def _move_held(base: str, token: str, callers: int, arrivals: list[tuple[str, float]]) -> float:
    """Hold ``callers`` callers, start the room and wait for the moves; when it started (perf_counter)."""
    _post(base, "/video/status", _room("end", "BenchWarmUp"), token)  # the account sends callbacks
    for n in range(1, callers + 1):
        _hold(base, n, token)
    started = time.perf_counter()
    _post(base, "/video/status", _room("start", "DailyStandup"), token)
    deadline = time.monotonic() + 30
    while len(arrivals) < callers and time.monotonic() < deadline:
        time.sleep(0.01)
    return started
