"""The `dialin` command: run the bridge locally, play calls, manage routes and PINs.

Each command lives in ``commands/<name>/cli.py`` with ``register(subparsers)``, which adds its
subparser(s) and sets ``handler`` (``args -> exit status``). Add one by adding it to COMMANDS.
User errors are ``DialinError``s, raised anywhere and printed once, by ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dialin_tools.commands.admin import cli as admin
from dialin_tools.commands.call import cli as call
from dialin_tools.commands.callers import cli as callers
from dialin_tools.commands.configure_number import cli as configure_number
from dialin_tools.commands.dial import cli as dial
from dialin_tools.commands.lockout import cli as lockout
from dialin_tools.commands.room import cli as room
from dialin_tools.commands.serve import cli as serve
from dialin_tools.errors import DialinError

COMMANDS = [serve, call, admin, lockout, callers, configure_number, dial, room]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialin",
        description="Phone dial-in for Twilio Video rooms: local server, test calls, routes and PINs.",
    )
    # Also accepted before the command (`dialin --local pin list`); see target_options.
    parser.add_argument("--local", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "local", False) and args.command not in admin.ADMIN_COMMANDS:
        parser.error(f"--local goes with the admin commands ({', '.join(admin.ADMIN_COMMANDS)})")
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; every user error is reported here, once, as one message."""
    try:
        return int(args.handler(args))
    except DialinError as exc:
        print(f"dialin {args.command}: {exc.for_cli()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
