"""`dialin serve`'s option values: ports, how often the template's schedules run, and how
many execution environments each function may have."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TypeVar

from dialin_tools.errors import Invalid

T = TypeVar("T")


def port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError("must be a TCP port, 0 to 65535 (0: any free port)")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86_400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and below a day, not {text[:20]!r}"
        )
    return seconds


def _from_environment(name: str, parse: Callable[[str], T], default: T) -> T:
    """An option's value from environment variable ``name`` when the option was not given;
    a bad value is an error that names the variable."""
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        return parse(raw)
    except argparse.ArgumentTypeError as exc:
        raise Invalid(f"{name} {exc}") from None


def schedule_seconds(args: argparse.Namespace) -> float | None:
    if args.schedule_seconds is not None:
        return float(args.schedule_seconds)
    return _from_environment("DIALIN_SCHEDULE_SECONDS", positive_seconds, None)


ENVIRONMENTS_ENV = "DIALIN_ENVIRONMENTS"


def environment_count(text: str) -> int:
    from dialin_tools.commands.serve.environments import MAX_ENVIRONMENTS

    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ENVIRONMENTS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_ENVIRONMENTS}, not {text[:20]!r}"
        )
    return int(text)


def environments(args: argparse.Namespace) -> int:
    from dialin_tools.commands.serve.environments import DEFAULT_ENVIRONMENTS

    if args.environments is not None:
        return int(args.environments)
    return _from_environment(ENVIRONMENTS_ENV, environment_count, DEFAULT_ENVIRONMENTS)
