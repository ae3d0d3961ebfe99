"""`dialin dial --to NUMBER --room ROOM [--identity NAME] [--from NUMBER] (--stack NAME | --url BASE)`:
place a dial-out call through the stack's POST /calls, signed with your AWS credentials."""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Callable
from typing import Any

from dialin.core.validation import is_e164, new_name_problem
from dialin_tools.commands.call.phone import DEFAULT_FROM, DEFAULT_URL, Phone
from dialin_tools.errors import BadArguments, DialinError, Invalid, Refused
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN
from dialin_tools.lib.sigv4 import HttpResult, Signer, post_json, region_from_url
from dialin_tools.lib.stack import cloudformation_client, route_url, stack_outputs

HELP = "phone a number and join the call to a room (the stack's POST /calls)"
DESCRIPTION = f"""{HELP[0].upper()}{HELP[1:]}.

With --stack, the request goes to the stack's DialOutUrl, signed with SigV4 using your AWS
credentials (your identity needs execute-api:Invoke on it: the stack's DialOutPolicyArn).
With --url, it goes unsigned to a local `dialin serve`, which places no call and answers
with the request it would have sent to Twilio."""


def register(
    subparsers: Any,
    *,
    cloudformation: Callable[[str | None], Any] = cloudformation_client,
    session_factory: Callable[[str | None], Any] | None = None,
) -> None:
    parser = subparsers.add_parser(
        "dial", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--to", required=True, metavar="NUMBER", help="number to call, E.164")
    parser.add_argument("--room", required=True, help="the Video room's unique name")
    parser.add_argument("--identity", metavar="NAME", help="participant identity (default: generated)")
    parser.add_argument(
        "--from",
        dest="from_number",
        metavar="NUMBER",
        help="caller ID (default: the stack's DialOutCallerNumber)",
    )
    parser.add_argument("--caller", metavar="NAME", help="who invites: the callee hears this name")
    parser.add_argument("--announce-room", action="store_true", help="the invitation says the room's name")
    parser.add_argument("--language", help="the invitation's language, e.g. de-DE (default English)")
    parser.add_argument(
        "--no-confirm", action="store_true", help="join at once, without asking the callee to press 1"
    )
    parser.add_argument(
        "--answer",
        nargs="?",
        const="1",
        metavar="KEY",
        help="with a local `dialin serve` (--url, else $DIALIN_URL, else " + DEFAULT_URL + "): also answer "
        "the call as the callee would, pressing KEY (default 1; 'none' presses nothing), and play it as "
        "`dialin call` does",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--stack", metavar="NAME", help="the deployed stack's name")
    target.add_argument(
        "--url",
        metavar="BASE",
        help="base URL of a local `dialin serve`, e.g. http://127.0.0.1:3000 (default $DIALIN_URL)",
    )
    parser.add_argument(
        "--region", help="the stack's AWS region (default: from the URL or your AWS configuration)"
    )
    parser.set_defaults(
        handler=functools.partial(
            run, cloudformation=cloudformation, session_factory=session_factory or _session
        )
    )


def _session(region: str | None) -> Any:
    import boto3

    return boto3.Session(region_name=region)


def _problems(args: argparse.Namespace) -> list[str]:
    problems = []
    if not is_e164(args.to):
        problems.append("--to must be an E.164 number such as +14155550123")
    if args.from_number is not None and not is_e164(args.from_number):
        problems.append("--from must be an E.164 number such as +14155550123")
    problem = new_name_problem(args.room, "--room")
    if problem:
        problems.append(problem)
    if args.identity is not None:
        problem = new_name_problem(args.identity, "--identity")
        if problem:
            problems.append(problem)
    return problems


def _payload(args: argparse.Namespace) -> dict[str, str | bool]:
    payload: dict[str, str | bool] = {"to": args.to, "room": args.room}
    for name, value in (("identity", args.identity), ("from", args.from_number), ("caller", args.caller)):
        if value is not None:
            payload[name] = value
    if args.language:
        payload["language"] = args.language
    if args.announce_room:
        payload["announceRoom"] = True
    if args.no_confirm:
        payload["confirm"] = False
    return payload


def _calls_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/calls") else f"{base}/calls"


def _answer(args: argparse.Namespace, result: HttpResult) -> int:
    """The callee answers the dry-run call: its TwiML played by `dialin call`'s phone."""
    request = (result.json() or {}).get("twilioRequest") or {}
    data = request.get("data") or {}
    twiml, callee = data.get("Twiml", ""), data.get("To", args.to)
    if not twiml:
        raise Refused("the answer held no TwiML to play (is --url a `dialin serve`?)")
    digits = [] if args.answer == "none" else [args.answer]
    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN
    base = args.url.rstrip("/").removesuffix("/calls")
    phone = Phone(to=callee, from_number=data.get("From", DEFAULT_FROM), token=token, digits=digits)
    print(f"The callee ({callee}) answers:")
    outcome = phone.answer(twiml, base)
    if outcome.joined:
        print(f"Joined room {outcome.room} as {outcome.identity}.")
        return 0
    print(f"Did not join a room: {outcome.reason}.")
    return 1


def _report(result: HttpResult) -> int:
    body = result.json()
    if 200 <= result.status < 300 and isinstance(body, dict):
        if body.get("dryRun"):
            print("Dry run: no call was placed. This is the request Twilio would have received:")
            print(json.dumps(body.get("twilioRequest"), indent=2, ensure_ascii=False))
            print(f"Room {body.get('room')}, identity {body.get('identity')}.")
        else:
            print(f"Calling: {body.get('callSid')} joins room {body.get('room')} as {body.get('identity')}.")
        return 0
    message = body.get("message") if isinstance(body, dict) else None
    lines = [f"HTTP {result.status}: {message or result.body[:500] or 'no body'}"]
    if isinstance(body, dict) and body.get("twilioCode"):
        lines.append(f"Twilio error {body['twilioCode']}: {body.get('moreInfo', '')}")
    if result.status == 403:
        lines.append(
            "Your AWS identity may not call POST /calls: attach the stack's DialOutPolicyArn policy to it."
        )
    raise Refused("\n".join(lines))


def run(
    args: argparse.Namespace,
    *,
    cloudformation: Callable[[str | None], Any] = cloudformation_client,
    session_factory: Callable[[str | None], Any] = _session,
) -> int:
    problems = _problems(args)
    if problems:
        raise BadArguments("; ".join(problems))
    if not args.stack and not args.url:
        # --answer only plays a local call: like `dialin call`, it finds `make run` by default.
        args.url = os.environ.get("DIALIN_URL", "") or (DEFAULT_URL if args.answer is not None else "")
        if not args.url:
            raise BadArguments("give --stack NAME (a deployed stack) or --url BASE (or set DIALIN_URL)")
    if args.answer is not None and not args.url:
        raise BadArguments("--answer plays the call locally: it goes with --url (a `dialin serve`)")
    if args.url:
        result = post_json(_calls_url(args.url), _payload(args))
        if args.answer is not None:
            _report(result)
            return _answer(args, result)
    else:
        url = route_url(stack_outputs(cloudformation(args.region), args.stack), "DialOutUrl", "/calls")
        session = session_factory(args.region)
        credentials = session.get_credentials()
        if credentials is None:
            raise DialinError("no AWS credentials found to sign the request")
        region = args.region or region_from_url(url) or session.region_name
        if not region:
            raise Invalid("cannot tell the stack's region: pass --region")
        result = post_json(url, _payload(args), signer=Signer(credentials, region))
    return _report(result)
