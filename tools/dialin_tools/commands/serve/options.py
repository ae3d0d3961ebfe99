"""`dialin serve`'s option values: ports, and how often the template's schedules run."""

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
