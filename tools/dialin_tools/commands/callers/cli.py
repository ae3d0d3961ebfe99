"""`dialin callers remove|move --room R (--identity I | --all) [--to R2]`: remove a phone
caller from a room (goodbye, then the call ends), or move one or every phone caller of a room
to another room of the same account. Through the admin API, which holds the Twilio
credentials and the Calls API (``dialin.admin.callers``): ``--url`` (a stack's ApiBaseUrl,
SigV4; or `dialin serve`'s URL), ``--stack`` (its ApiBaseUrl output) or ``--local`` (the
running `dialin serve`, ``$DIALIN_URL``; its Twilio stand-in carries the call out).

Exit status: 0 done, 1 refused (bad input, unknown room or caller, a full room), 2 could not
run (the API unreachable or unavailable)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from dialin.admin.callers import checked
from dialin.core.errors import DialinError, Invalid
from dialin.core.validation import is_account_sid
from dialin_tools.commands.admin.cli import target_options
from dialin_tools.commands.admin.remote import RemoteAdmin, signer_for
from dialin_tools.commands.admin.targets import aws_errors, aws_session
from dialin_tools.commands.call.phone import DEFAULT_URL
from dialin_tools.errors import Unreachable
from dialin_tools.lib.stack import describe_stack, samconfig_defaults


def register(subparsers: Any) -> None:
    target = target_options()
    callers = subparsers.add_parser(
        "callers", parents=[target], help="a room's phone callers: remove one, move one or all"
    )
    actions = callers.add_subparsers(dest="callers_command", required=True, metavar="{remove,move}")
    remove = actions.add_parser(
        "remove", parents=[target], help="goodbye, then the call ends", description="Remove a phone caller."
    )
    move = actions.add_parser(
        "move",
        parents=[target],
        help="to another room of the same account, with the same identity",
        description="Move a phone caller (or every one, --all) to another room.",
    )
    for action in (remove, move):
        action.add_argument("--room", required=True, help="the room's UniqueName")
        action.add_argument(
            "--account", default="", help="the room's AccountSid (a stack of several accounts)"
        )
    remove.add_argument("--identity", required=True, help="the phone caller's participant identity")
    who = move.add_mutually_exclusive_group(required=True)
    who.add_argument("--identity", help="the phone caller's participant identity")
    who.add_argument("--all", action="store_true", help="every phone caller of the room")
    move.add_argument("--to", required=True, metavar="ROOM", help="the room they move to")
    remove.set_defaults(handler=callers_remove)
    move.set_defaults(handler=callers_move)


def _api(args: argparse.Namespace) -> tuple[RemoteAdmin, str]:
    """The admin API the command acts through, and where that is (for messages)."""
    local, stack, url = getattr(args, "local", False), getattr(args, "stack", ""), getattr(args, "url", "")
    if sum(map(bool, (local, stack, url))) > 1:
        raise Invalid("give one of --local, --stack or --url")
    if getattr(args, "endpoint_url", ""):
        raise Invalid("`dialin callers` acts through the admin API: --endpoint-url does not apply")
    region = getattr(args, "region", "")
    if local:
        url = os.environ.get("DIALIN_URL") or DEFAULT_URL
    elif not url:
        default_stack, default_region = samconfig_defaults()
        stack = stack or default_stack
        if not stack:
            raise Invalid(
                "give --url URL, --stack NAME (a deployed stack) or --local (a running `dialin serve`)"
            )
        region = region or default_region
        outputs, _ = describe_stack(aws_session(region).client("cloudformation"), stack)
        url = outputs.get("ApiBaseUrl", "")
        if not url:
            raise Invalid(f"stack {stack} has no ApiBaseUrl output: is it this project's?")
    return RemoteAdmin(url, signer_for(url, aws_session(region), region)), f"the admin API at {url}"


def _checked(args: argparse.Namespace) -> dict[str, str]:
    """Checked before any request; the account as ``?account=`` when given."""
    checked(args.room, "room", "room")
    if getattr(args, "identity", None) is not None:
        checked(args.identity, "identity", "identity")
    if getattr(args, "to", None):
        checked(args.to, "room", "to")
    if args.account and not is_account_sid(args.account):
        raise Invalid("--account must be an AccountSid: AC and 32 hex digits", "account")
    return {"account": args.account} if args.account else {}


def _send(args: argparse.Namespace, method: str, path: str, body: Any) -> tuple[dict[str, Any], str]:
    query = _checked(args)
    with aws_errors(bool(getattr(args, "local", False))):
        api, where = _api(args)
        try:
            return api.call(method, path, body, query), where
        except DialinError as exc:
            if str(exc).startswith(("HTTP 5", "HTTP 429")):  # unavailable: could not run, not refused
                raise Unreachable(f"{exc} ({where}); nothing changed") from None
            raise


def callers_remove(args: argparse.Namespace) -> int:
    answer, where = _send(args, "DELETE", RemoteAdmin.caller_path(args.room, args.identity), None)
    print(f"Removed {answer['removed']} ({answer['was']}) from room {answer['room']} through {where}.")
    return 0


def callers_move(args: argparse.Namespace) -> int:
    if args.all:
        answer, where = _send(args, "POST", f"{RemoteAdmin.caller_path(args.room)}/move", {"to": args.to})
        moved = ", ".join(answer["moved"]) or "no one"
        print(f"Moved {moved} from room {answer['room']} to {answer['to']} through {where}.")
        for failed in answer["failed"]:
            print(f"Not moved: {failed['identity']}: {failed['reason']}")
        return 1 if answer["failed"] else 0
    path = f"{RemoteAdmin.caller_path(args.room, args.identity)}/move"
    answer, where = _send(args, "POST", path, {"to": args.to})
    print(f"Moved {answer['moved']} from room {answer['room']} to {answer['to']} through {where}.")
    return 0
