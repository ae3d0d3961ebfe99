"""`dialin lockout list|clear --caller NUMBER [--number NUMBER]`: whether a caller is locked
out of PIN entry and until when, and lifting it, without anyone handling the pepper
(``dialin.admin.lockouts``). Targets as the admin commands: --local or --stack."""

from __future__ import annotations

import argparse
import time
from typing import Any

from dialin.admin.lockouts import CallerCounter, caller_counters, clear_counters
from dialin.admin.table import Admin
from dialin.guard.lockout import LockoutPolicy
from dialin_tools.commands.admin.cli import resolve_target, target_options
from dialin_tools.commands.admin.targets import Target, aws_errors
from dialin_tools.errors import Invalid


def register(subparsers: Any) -> None:
    target = target_options()
    lockout = subparsers.add_parser(
        "lockout", parents=[target], help="a caller's failed-PIN lockout: list, clear"
    )
    actions = lockout.add_subparsers(dest="lockout_command", required=True, metavar="{list,clear}")
    for name, handler, text in (
        ("list", lockout_list, "whether the caller is locked out, and until when"),
        ("clear", lockout_clear, "lift the lockout: the caller's next call is asked for a PIN"),
    ):
        action = actions.add_parser(name, parents=[target], help=text, description=text)
        action.add_argument(
            "--caller",
            required=True,
            metavar="NUMBER",
            help="the caller's number, E.164; `withheld` for hidden ones",
        )
        action.add_argument(
            "--number", default="", metavar="NUMBER", help="only this PIN number (default: every PIN number)"
        )
        action.set_defaults(handler=handler)


def _local_admin(args: argparse.Namespace) -> tuple[Target, Admin]:
    if getattr(args, "url", ""):
        raise Invalid("lockout works with --local or --stack (the admin API has no lockout route)")
    target = resolve_target(args)
    if not isinstance(target.admin, Admin):  # only --url gives a remote admin
        raise Invalid("lockout works with --local or --stack")
    return target, target.admin


def _state(entry: CallerCounter, policy: LockoutPolicy, now: float) -> str:
    if entry.counter is None:
        return "no failed PINs"
    until = entry.locked_until(policy, now)
    failures = f"{entry.counter.failures} failed PIN(s)"
    if until is None:
        return f"{failures}, not locked out"
    return f"{failures}, LOCKED OUT until {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(until))}"


def lockout_list(args: argparse.Namespace) -> int:
    with aws_errors(bool(getattr(args, "local", False))):
        target, admin = _local_admin(args)
        counters = caller_counters(admin, args.caller, args.number)
        now = admin.clock()
        for entry in counters:
            print(f"{entry.scope}: {_state(entry, target.lockout, now)}")
        locked = sum(entry.locked_until(target.lockout, now) is not None for entry in counters)
        print(f"{args.caller} is locked out on {locked} of {len(counters)} counter(s) in {target.where}.")
    return 0


def lockout_clear(args: argparse.Namespace) -> int:
    with aws_errors(bool(getattr(args, "local", False))):
        target, admin = _local_admin(args)
        cleared = clear_counters(admin, caller_counters(admin, args.caller, args.number))
    where = f"{args.caller} in {target.where}"
    print(f"Cleared {cleared} counter(s) of {where}: their next call hears the PIN prompt.")
    return 0
