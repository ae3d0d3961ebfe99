"""What the admin commands print: aligned listings, warnings, validity windows."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dialin.admin.checks import format_time
from dialin_tools.commands.admin.targets import Target


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    ]
    return "\n".join(lines)


def warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Routes


def print_listing(headers: list[str], rows: list[list[str]], counted: str, target: Target, bad: int) -> int:
    if rows:
        print(table(headers, rows))
    print(f"{counted} in {target.where}." + (f" {bad} unreadable item(s) skipped." if bad else ""))
    return 0


def validity(valid_from: int | None, valid_until: int | None) -> str:
    if valid_from is None and valid_until is None:
        return "always"
    return f"{format_time(valid_from) or '…'} to {format_time(valid_until) or '…'}"
