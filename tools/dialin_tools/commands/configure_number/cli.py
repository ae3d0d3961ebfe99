"""`dialin configure-number NUMBER --stack NAME [--dry-run]`: point a Twilio number at the stack."""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable
from typing import Any

from requests import RequestException
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient

from dialin.core.validation import is_e164
from dialin_tools.commands.configure_number import numbers
from dialin_tools.errors import BadArguments, Refused, Unreachable
from dialin_tools.lib.stack import cloudformation_client, stack_outputs

HELP = "point a Twilio number's voice URL, fallback URL and status callback at the stack"
DESCRIPTION = f"""{HELP[0].upper()}{HELP[1:]}.

Reads the stack's outputs, then sets the number's voice URL (POST), fallback URL (POST) and
status callback (POST) through the Twilio REST API, and clears a TwiML app that would
override them. Only settings that differ are written, so running it again changes nothing.

Twilio credentials come from the environment: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN,
or TWILIO_ACCOUNT_SID with TWILIO_API_KEY and TWILIO_API_SECRET."""


def register(
    subparsers: Any,
    *,
    cloudformation: Callable[[str | None], Any] = cloudformation_client,
    twilio_http_client: HttpClient | None = None,
) -> None:
    parser = subparsers.add_parser(
        "configure-number",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("number", metavar="NUMBER", help="the Twilio number, E.164 (e.g. +14155550123)")
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="the stack's AWS region (default: your AWS configuration's)")
    parser.add_argument("--dry-run", action="store_true", help="show current and new values, change nothing")
    parser.set_defaults(
        handler=functools.partial(run, cloudformation=cloudformation, twilio_http_client=twilio_http_client)
    )


def _show(value: str) -> str:
    return value or "(empty)"


def run(
    args: argparse.Namespace,
    *,
    cloudformation: Callable[[str | None], Any] = cloudformation_client,
    twilio_http_client: HttpClient | None = None,
) -> int:
    if not is_e164(args.number):
        raise BadArguments("NUMBER must be E.164, such as +14155550123")
    try:
        client = numbers.twilio_client(os.environ, http_client=twilio_http_client)
        desired = numbers.desired_settings(stack_outputs(cloudformation(args.region), args.stack))
        resource = numbers.find_number(client, args.number)
        changes = numbers.plan(resource, desired)
        pending = [c for c in changes if c.changed]
        print(f"{args.number} ({resource.sid}) <- stack {args.stack}")
        width = max(len(c.field) for c in changes)
        for change in changes:
            if change.changed:
                print(f"  {change.field:<{width}}  {_show(change.current)}")
                print(f"  {'':<{width}}  -> {_show(change.new)}")
            else:
                print(f"  {change.field:<{width}}  {_show(change.current)} (unchanged)")
        if not pending:
            print("Already configured: nothing to change.")
        elif args.dry_run:
            print(f"Dry run: {len(pending)} setting(s) would change; nothing was changed.")
        else:
            numbers.apply(client, resource, changes)
            print(f"Updated {len(pending)} setting(s).")
    except (TwilioRestException, TwilioServiceException) as exc:
        detail = exc.msg if isinstance(exc, TwilioRestException) else exc.title
        raise Refused(f"Twilio answered HTTP {exc.status} (code {exc.code}): {detail}") from None
    except RequestException as exc:
        raise Unreachable(f"cannot reach Twilio ({type(exc).__name__})") from None
    return 0
