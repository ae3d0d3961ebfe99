"""`dialin lockout list|clear --caller NUMBER [--number NUMBER]`: whether a caller is locked
out of PIN entry and until when, and lifting it, without anyone handling the pepper
(``dialin.admin.lockouts``). Targets as the admin commands: --local, --stack, or --url (the
admin API's /admin/lockouts, which answers with the stack's own Lockout* rules)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from dialin.admin.lockouts import LockoutState, check_caller, clear_lockouts, lockout_states
from dialin_tools.commands.admin.cli import resolve_target, target_options
from dialin_tools.commands.admin.remote import RemoteAdmin
from dialin_tools.commands.admin.targets import Target, aws_errors


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


def _states(target: Target, caller: str, number: str) -> list[LockoutState]:
    if isinstance(target.admin, RemoteAdmin):  # --url: the API applies the stack's rules
        return target.admin.lockout_states(caller, number)
    return lockout_states(target.admin, target.lockout, caller, number)


def _state(entry: LockoutState) -> str:
    if not entry.failures:
        return "no failed PINs"
    failures = f"{entry.failures} failed PIN(s)"
    if entry.locked_until is None:
        return f"{failures}, not locked out"
    until = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(entry.locked_until))
    return f"{failures}, LOCKED OUT until {until}"


def lockout_list(args: argparse.Namespace) -> int:
    check_caller(args.caller, args.number)  # before any AWS call or request
    with aws_errors(bool(getattr(args, "local", False))):
        target = resolve_target(args)
        states = _states(target, args.caller, args.number)
    for entry in states:
        print(f"{entry.scope}: {_state(entry)}")
    locked = sum(entry.locked_until is not None for entry in states)
    print(f"{args.caller} is locked out on {locked} of {len(states)} counter(s) in {target.where}.")
    return 0


def lockout_clear(args: argparse.Namespace) -> int:
    check_caller(args.caller, args.number)
    with aws_errors(bool(getattr(args, "local", False))):
        target = resolve_target(args)
        if isinstance(target.admin, RemoteAdmin):
            cleared = target.admin.clear_lockouts(args.caller, args.number)
        else:
            cleared = clear_lockouts(target.admin, args.caller, args.number)
    where = f"{args.caller} in {target.where}"
    print(f"Cleared {cleared} counter(s) of {where}: their next call hears the PIN prompt.")
    return 0
