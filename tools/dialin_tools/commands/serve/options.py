"""`dialin serve`'s option values: ports, how often the template's schedules run, and how
many execution environments each function may have."""

from __future__ import annotations

import argparse
import os

from dialin_tools.errors import Invalid


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


def schedule_seconds(args: argparse.Namespace) -> float | None:
    if args.schedule_seconds is not None:
        return float(args.schedule_seconds)
    raw = os.environ.get("DIALIN_SCHEDULE_SECONDS", "")
    if not raw:
        return None
    try:
        return positive_seconds(raw)
    except argparse.ArgumentTypeError as exc:
        raise Invalid(f"DIALIN_SCHEDULE_SECONDS {exc}") from None


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
    raw = os.environ.get(ENVIRONMENTS_ENV, "")
    if not raw:
        return DEFAULT_ENVIRONMENTS
    try:
        return environment_count(raw)
    except argparse.ArgumentTypeError as exc:
        raise Invalid(f"{ENVIRONMENTS_ENV} {exc}") from None
