"""`dialin callers`: input checked before any request (exit 1, refused), an API that cannot be
reached or is unavailable is exit 2 (could not run), and the paths it asks for."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dialin_tools import cli
from dialin_tools.commands.admin.remote import RemoteAdmin


class Api:
    """A stand-in admin API on 127.0.0.1 (a free port): answers ``status`` and ``body``, and
    records each request's method, path and JSON body."""

    def __init__(self) -> None:
        self.status, self.body = 200, {}
        self.seen: list[tuple[str, str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length) if length else b""
                api.seen.append((self.command, self.path, json.loads(sent) if sent else None))
                data = json.dumps(api.body).encode()
                self.send_response(api.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def api() -> Iterator[Api]:
    running = Api()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    thread.join(5)


def test_a_removal_asks_the_api_and_says_what_happened(api: Api, capsys: pytest.CaptureFixture[str]):
    api.body = {"removed": "ali ce", "room": "Board 1", "was": "waiting"}
    assert cli.main(["callers", "remove", "--room", "Board 1", "--identity", "ali ce", "--url", api.url]) == 0
    assert api.seen == [("DELETE", "/admin/rooms/Board%201/callers/ali%20ce", None)]
    assert "Removed ali ce (waiting) from room Board 1" in capsys.readouterr().out


def test_a_move_of_everyone_sends_the_room_moved_to(api: Api, capsys: pytest.CaptureFixture[str]):
    api.body = {"moved": ["a", "b"], "failed": [], "room": "Board", "to": "Breakout"}
    args = ["callers", "move", "--room", "Board", "--all", "--to", "Breakout", "--url", api.url]
    assert cli.main([*args, "--account", "AC" + "1" * 32]) == 0
    assert api.seen == [("POST", f"/admin/rooms/Board/callers/move?account=AC{'1' * 32}", {"to": "Breakout"})]
    assert "Moved a, b from room Board to Breakout" in capsys.readouterr().out


@pytest.mark.parametrize(("status", "code"), [(404, 1), (409, 1), (400, 1), (503, 2)])
def test_refusals_are_1_and_an_unavailable_api_is_2(api: Api, status: int, code: int):
    api.status, api.body = status, {"error": "x", "message": "refused for a reason", "field": "to"}
    args = ["callers", "move", "--room", "Board", "--identity", "alice", "--to", "Full", "--url", api.url]
    assert cli.main(args) == code


@pytest.mark.parametrize(
    "args",
    [
        ["remove", "--room", "r" * 129, "--identity", "alice"],
        ["remove", "--room", "Board", "--identity", ""],
        ["move", "--room", "Board", "--identity", "alice", "--to", "a\x00b"],
        ["remove", "--room", "Board", "--identity", "alice", "--account", "nope"],
    ],
)
def test_bad_input_is_refused_before_any_request(
    api: Api, args: list[str], capsys: pytest.CaptureFixture[str]
):
    assert cli.main(["callers", *args, "--url", api.url]) == 1
    assert api.seen == [] and capsys.readouterr().err


def test_an_api_that_cannot_be_reached_is_2(api: Api):
    url = api.url
    api.server.shutdown()
    api.server.server_close()
    assert cli.main(["callers", "remove", "--room", "Board", "--identity", "alice", "--url", url]) == 2


def test_the_caller_path_encodes_each_name():
    assert RemoteAdmin.caller_path("a/b", "c?d") == "/admin/rooms/a%2Fb/callers/c%3Fd"
