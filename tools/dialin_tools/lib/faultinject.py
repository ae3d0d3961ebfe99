"""Broken endpoints on 127.0.0.1 for fault injection (tests and `make bench`).

- ``silent_endpoint``: accepts TCP connections (the kernel completes them from the
  backlog) and never answers: every request runs into the client's read timeout.
- ``closed_endpoint``: a port nobody listens on: connections are refused at once.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

LOCALHOST = "127.0.0.1"


@contextmanager
def silent_endpoint(backlog: int = 64) -> Iterator[str]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind((LOCALHOST, 0))
        server.listen(backlog)
        yield f"http://{LOCALHOST}:{server.getsockname()[1]}"
    finally:
        server.close()


@contextmanager
def closed_endpoint() -> Iterator[str]:
    # Bound but never listening: a connection is refused, and the port stays ours until the
    # end (closed at once, another process could take it and answer: a rare flaky test).
    reserved = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        reserved.bind((LOCALHOST, 0))
        yield f"http://{LOCALHOST}:{reserved.getsockname()[1]}"
    finally:
        reserved.close()
