"""Run one `dialin` command module as the CLI does, with its fakes injected."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from dialin_tools.cli import run


def run_registered(
    register: Callable[[Any], None], argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Build a parser as `dialin` does, register the command, parse ``argv`` and run it."""
    parser = argparse.ArgumentParser(prog="dialin")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err
