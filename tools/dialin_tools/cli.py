"""The `dialin` command: run the bridge locally, play calls, manage routes and PINs.

Each command group lives in its own module with ``register(subparsers)``, which adds its
subparser(s) and sets ``handler`` (``args -> exit status``). Add a group by adding its
module to COMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import cmd_admin, cmd_call, cmd_configure, cmd_dial, cmd_serve
from .errors import DialinError

COMMANDS = [cmd_serve, cmd_call, cmd_admin, cmd_configure, cmd_dial]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialin",
        description="Phone dial-in for Twilio Video rooms: local server, test calls, routes and PINs.",
    )
    # Also accepted before the command (`dialin --local pin list`); see cmd_admin.target_options.
    parser.add_argument("--local", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "local", False) and args.command not in cmd_admin.ADMIN_COMMANDS:
        parser.error(f"--local goes with the admin commands ({', '.join(cmd_admin.ADMIN_COMMANDS)})")
    try:
        return args.handler(args)
    except DialinError as exc:
        print(f"dialin {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
