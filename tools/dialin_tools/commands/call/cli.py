"""`dialin call`: play one phone call against `dialin serve` or a deployed stack."""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import urlsplit

from dialin_tools.commands.call.phone import (
    DEFAULT_FROM,
    DEFAULT_URL,
    FAKE_ACCOUNT_SID,
    MAX_STEPS,
    TIMEOUT_SECONDS,
    Phone,
    entry_url,
)
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError("must be 0 to 600 seconds")
    return value


def _steps(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError("must be 1 to 200")
    return value


def _add_caller_input(parser: argparse.ArgumentParser) -> None:
    """What the caller keys or says at each <Gather>."""
    parser.add_argument(
        "--digits",
        nargs="+",
        action="extend",
        default=[],
        metavar="DIGITS",
        help="what the caller keys at each <Gather>, in order; none left: the <Gather> times out",
    )
    parser.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXT",
        help="what the caller says at each <Gather> that takes speech, in order (before any --digits)",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "call",
        help="play a phone call the way Twilio would",
        description=(
            "Play one inbound call: post Twilio's signed webhooks, follow the TwiML, print what the "
            "caller hears. Signs with TWILIO_AUTH_TOKEN, or the documented dev token when unset. "
            "Exit status: 0 joined a room, 1 the call ended without joining, 2 the endpoint failed."
        ),
    )
    parser.add_argument("--to", required=True, help="the dialed number")
    parser.add_argument(
        "--from", dest="from_number", default=DEFAULT_FROM, help=f"the caller (default {DEFAULT_FROM})"
    )
    _add_caller_input(parser)
    parser.add_argument(
        "--url",
        default=os.environ.get("DIALIN_URL", DEFAULT_URL),
        help=f"the API's base URL or its /voice/incoming webhook (default $DIALIN_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--room-not-started",
        nargs="?",
        const=1,
        default=0,
        type=_count,
        metavar="N",
        help="the first N <Connect>s (default 1) find no room in progress, so Twilio moves on",
    )
    parser.add_argument(
        "--wait-for-move",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="on hold, wait up to this long for the call to be moved into its room (dialin serve)",
    )
    parser.add_argument(
        "--stay",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="once in a room, stay up to this long (it may be removed, or the room end)",
    )
    parser.add_argument(
        "--max-steps", type=_steps, default=MAX_STEPS, help="give up after this many requests"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (Twilio: 15)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    url = entry_url(args.url)
    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN
    print(f"Calling {args.to} from {args.from_number} at {url}")
    if token == DEV_AUTH_TOKEN and urlsplit(url).hostname not in LOOPBACK:
        print("(signing with the dev token; set TWILIO_AUTH_TOKEN to the account's auth token)")
    account = os.environ.get("TWILIO_ACCOUNT_SID", "")
    phone = Phone(
        to=args.to,
        from_number=args.from_number,
        token=token,
        digits=args.digits,
        spoken=args.say,
        rooms_not_started=args.room_not_started,
        max_steps=args.max_steps,
        timeout=args.timeout,
        account_sid=account if account.startswith("AC") else FAKE_ACCOUNT_SID,
        wait_for_move=args.wait_for_move,
        stay=args.stay,
    )
    outcome = phone.call(url)
    if outcome.joined:
        joined = f"Joined room {outcome.room} as {outcome.identity or '(an identity Twilio picks)'}"
        print(f"{joined}, then left it; the call ended: {outcome.reason}." if outcome.left else f"{joined}.")
        return 0
    print(f"Did not join a room: {outcome.reason}.")
    return 1
