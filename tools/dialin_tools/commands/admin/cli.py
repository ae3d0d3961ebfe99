"""`dialin route ...`, `dialin pin ...`, `dialin import FILE`:
argparse glue over the admin core (dialin.admin)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dialin.admin.bulk import CSV_COLUMNS, ImportPlan, read_rows
from dialin.admin.checks import check_number, check_pin
from dialin.admin.specs import language_note, make_pin_spec, make_route
from dialin.admin.table import HASH_SHOWN
from dialin.core import records
from dialin.core.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, RECOMMENDED_PIN_LENGTH, group_digits
from dialin.core.records import DIRECT, LAST_DIGITS, PIN_MODE, UNIQUE
from dialin_tools.commands.admin.output import print_listing, short, validity, warn
from dialin_tools.commands.admin.prompt_options import add_prompt_options, pin_input, read_prompts
from dialin_tools.commands.admin.remote import RemoteAdmin, signer_for
from dialin_tools.commands.admin.route_update import current_route, dropped, register_update, route_update
from dialin_tools.commands.admin.targets import (
    DYNAMODB_URL_ENV,
    LOCAL_ENDPOINT,
    Target,
    aws_errors,
    aws_session,
    local_target,
    stack_target,
)
from dialin_tools.errors import Invalid
from dialin_tools.lib.stack import samconfig_defaults

ADMIN_COMMANDS = ("route", "pin", "import", "lockout", "callers")  # the commands that take a target


def target_options() -> argparse.ArgumentParser:
    """Options accepted at every level of an admin command (``dialin route add ... --local``).

    Their defaults are SUPPRESS so that a level that does not see the option does not
    overwrite what another level parsed.
    """
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("target (default: the stack named in samconfig.toml)")
    group.add_argument(
        "--local",
        action="store_true",
        default=argparse.SUPPRESS,
        help="the embedded table of a running `dialin serve`",
    )
    group.add_argument(
        "--endpoint-url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"with --local: `dialin serve`'s DynamoDB (default ${DYNAMODB_URL_ENV}, {LOCAL_ENDPOINT})",
    )
    group.add_argument("--stack", default=argparse.SUPPRESS, metavar="NAME", help="a deployed stack")
    group.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="through the admin API at URL (a stack's ApiBaseUrl, SigV4; or `dialin serve`'s URL)",
    )
    group.add_argument("--region", default=argparse.SUPPRESS, help="the stack's AWS region")
    return parent


def register(subparsers: Any) -> None:
    target = target_options()
    _register_route(subparsers, target)
    _register_pin(subparsers, target)
    _register_import(subparsers, target)


def _register_route(subparsers: Any, target: argparse.ArgumentParser) -> None:
    route = subparsers.add_parser("route", parents=[target], help="dialed numbers: add, update, list, remove")
    routes = route.add_subparsers(dest="route_command", required=True, metavar="{add,update,list,remove}")
    add = routes.add_parser(
        "add",
        parents=[target],
        help="route a number to a room (or to PIN entry)",
        description="Route a dialed number: straight into a room, or (--pin) to PIN entry.",
    )
    add.add_argument("number", help="the dialed number, E.164 (+15551230000)")
    add.add_argument(
        "--room", default="", help="the room a direct number joins (<= 128 characters; ignored with --pin)"
    )
    add.add_argument("--pin", action="store_true", help="callers enter a PIN, which names their room")
    add.add_argument("--identity-policy", choices=records.CALLER_IDENTITY_POLICIES, default=LAST_DIGITS)
    add.add_argument("--greeting", default="", help="said first")
    add.add_argument("--voice", default="", help="<Say> voice, e.g. Polly.Joanna")
    add.add_argument("--language", default="", help="<Say> language and prompts' language, e.g. de-DE")
    add_prompt_options(add)
    add.add_argument("--attempts", help="PIN attempts per call on this number (1-10)")
    add.add_argument("--account", default="", help="answer only calls of this Twilio account (AccountSid)")
    add.add_argument("--phone-limit", help="phone callers its rooms take (1-35; default Twilio's 35)")
    add.add_argument("--replace", action="store_true", help="overwrite the number's existing route")
    add.set_defaults(handler=route_add)
    register_update(routes, target, lambda args: _run(args, lambda target: route_update(args, target)))
    listing = routes.add_parser("list", parents=[target], help="list routes")
    listing.set_defaults(handler=route_list)
    remove = routes.add_parser("remove", parents=[target], help="remove a number's route")
    remove.add_argument("number")
    remove.set_defaults(handler=route_remove)


def _register_pin(subparsers: Any, target: argparse.ArgumentParser) -> None:
    pin = subparsers.add_parser("pin", parents=[target], help="PINs: add, list, revoke")
    pins = pin.add_subparsers(dest="pin_command", required=True, metavar="{add,list,revoke}")
    add = pins.add_parser(
        "add",
        parents=[target],
        help="issue a PIN for a room (printed once)",
        description="Issue a PIN. It is printed once and stored only as HMAC-SHA256(pepper, PIN).",
    )
    add.add_argument("--room", required=True, help="the room the PIN joins")
    add.add_argument("--identity", default="", help="personal identity (e.g. alice); none: a guest PIN")
    add.add_argument("--pin", help="use these digits instead of a generated PIN")
    add.add_argument(
        "--length",
        type=int,
        help=f"generated PIN length ({MIN_PIN_LENGTH}-{MAX_PIN_LENGTH}, default the stack's PinLength, "
        f"{RECOMMENDED_PIN_LENGTH})",
    )
    add.add_argument(
        "--valid-from", metavar="TIME", help="ISO-8601, e.g. 2030-01-31T09:00:00Z (no offset: UTC)"
    )
    add.add_argument("--valid-until", metavar="TIME", help="ISO-8601; the item expires (TTL) a day later")
    add.add_argument("--number", default="", help="valid only when this number is dialed")
    add.add_argument("--label", default="", help="free text for admins")
    add.add_argument(
        "--on-duplicate",
        choices=records.DUPLICATE_POLICIES,
        default=UNIQUE,
        help="a personal identity on two calls: suffix each (unique) or take over (replace)",
    )
    add.set_defaults(handler=pin_add)
    listing = pins.add_parser("list", parents=[target], help="list PIN grants (never the PINs)")
    listing.add_argument("--room", default="", help="only this room's PINs (required with --url)")
    listing.set_defaults(handler=pin_list)
    _add_revoke(pins, target)


def _register_import(subparsers: Any, target: argparse.ArgumentParser) -> None:
    imports = subparsers.add_parser(
        "import",
        parents=[target],
        help="bulk routes and PINs from CSV or JSON",
        description=(
            "Import routes and PINs. JSON: the shape of events/seed.json. CSV: a header row with "
            f"columns from: {', '.join(CSV_COLUMNS)}; kind is route or pin. Every row is "
            "checked first; if any is bad, nothing is written. PINs left empty are generated "
            "and printed once."
        ),
    )
    imports.add_argument("file", type=Path, metavar="FILE")
    imports.add_argument("--replace", action="store_true", help="overwrite routes that already exist")
    imports.set_defaults(handler=import_file)


def _add_revoke(pins: Any, target: argparse.ArgumentParser) -> None:
    revoke = pins.add_parser("revoke", parents=[target], help="revoke a PIN")
    named = revoke.add_mutually_exclusive_group(required=True)
    named.add_argument("pin", nargs="?", metavar="PIN", help="the PIN")
    named.add_argument(
        "--hash-prefix",
        metavar="HASH",
        help="the hash `pin list` shows (8 characters or more; with --url: the full id)",
    )
    revoke.set_defaults(handler=pin_revoke)


# Target


def resolve_target(args: argparse.Namespace) -> Target:
    local = getattr(args, "local", False)
    stack = getattr(args, "stack", "")
    url = getattr(args, "url", "")
    if sum(map(bool, (local, stack, url))) > 1:
        raise Invalid("give one of --local, --stack or --url")
    if url:
        region = getattr(args, "region", "")
        admin = RemoteAdmin(url, signer_for(url, aws_session(region), region))
        return Target(admin, f"the admin API at {url}", local=False, remote=True)
    if local:
        endpoint = getattr(args, "endpoint_url", "") or os.environ.get(DYNAMODB_URL_ENV) or LOCAL_ENDPOINT
        return local_target(endpoint)
    if getattr(args, "endpoint_url", ""):
        raise Invalid("--endpoint-url goes with --local")
    default_stack, default_region = samconfig_defaults()
    stack = stack or default_stack
    if not stack:
        raise Invalid("give --stack NAME (a deployed stack) or --local (a running `dialin serve`)")
    return stack_target(stack, aws_session(getattr(args, "region", "") or default_region))


def _run(args: argparse.Namespace, action: Callable[[Target], int]) -> int:
    local = bool(getattr(args, "local", False))
    with aws_errors(local):
        return action(resolve_target(args))


def route_add(args: argparse.Namespace) -> int:
    if args.pin and args.room:
        # Each PIN names its own room; a PIN number's room would never be used.
        print(f"warning: --room {args.room} is ignored with --pin: each PIN names its room", file=sys.stderr)
    route = make_route(
        args.number,
        mode=PIN_MODE if args.pin else DIRECT,
        room="" if args.pin else args.room,
        identity_policy=args.identity_policy,
        greeting=args.greeting,
        voice=args.voice,
        language=args.language,
        attempts=args.attempts,
        pin_input=pin_input(args),
        prompts=read_prompts(args.prompt, args.prompts_file),
        account=args.account,
        phone_limit=args.phone_limit,
    )

    def action(target: Target) -> int:
        old = current_route(target, route.number) if args.replace else None
        target.admin.add_route(route, replace=args.replace)
        joins = f"room {route.room}" if route.mode == DIRECT else "PIN entry"
        print(f"Route {route.number} -> {joins} saved in {target.where}.")
        lost = dropped(old, route) if old else []
        if lost:
            warn(f"--replace dropped {'; '.join(lost)} (`dialin route update` changes only what it names)")
        note = language_note(route.language)
        if note:
            print(f"Note: {note}; give the route its own with --prompt NAME=TEXT.")
        return 0

    return _run(args, action)


def route_list(args: argparse.Namespace) -> int:
    def action(target: Target) -> int:
        routes, bad = target.admin.list_routes()
        rows = [
            [
                r.number,
                r.mode,
                r.room,
                r.identity_policy,
                str(r.attempts or ""),
                " ".join(filter(None, (r.voice, r.language))),
                short(r.greeting),
            ]
            for r in routes
        ]
        headers = ["NUMBER", "MODE", "ROOM", "IDENTITIES", "ATTEMPTS", "VOICE", "GREETING"]
        return print_listing(headers, rows, f"{len(routes)} route(s)", target, bad)

    return _run(args, action)


def route_remove(args: argparse.Namespace) -> int:
    check_number(args.number)

    def action(target: Target) -> int:
        target.admin.remove_route(args.number)
        print(f"Route {args.number} removed from {target.where}.")
        return 0

    return _run(args, action)


# PINs


def pin_add(args: argparse.Namespace) -> int:
    spec = make_pin_spec(
        args.room,
        identity=args.identity,
        number=args.number,
        valid_from=args.valid_from,
        valid_until=args.valid_until,
        label=args.label,
        on_duplicate=args.on_duplicate,
    )
    if args.pin is not None:
        check_pin(args.pin)  # before any AWS call; the target may require more digits

    chosen = len(args.pin) if args.pin is not None else args.length

    def action(target: Target) -> int:
        new = target.admin.add_pin(spec, pin=args.pin, length=args.length)
        # Warnings only once the PIN exists: never just before a refusal of the same command.
        if chosen is not None and chosen < RECOMMENDED_PIN_LENGTH:
            warn(
                f"a {chosen}-digit PIN is below the recommended {RECOMMENDED_PIN_LENGTH} digits; see "
                "docs/brute-force.md (a --number scope and a validity window shrink the target)"
            )
        if spec.number and spec.number not in {r.number for r in target.admin.list_routes()[0]}:
            warn(f"--number {spec.number} has no route: the PIN works only once that number is routed")
        who = f"as {spec.identity}" if spec.identity else "as a guest"
        window = validity(spec.valid_from, spec.valid_until)
        print(f"PIN {group_digits(new.pin)} -> room {spec.room} {who}, valid {window}.")
        shown = new.grant.pin_hash[:HASH_SHOWN]
        print(f"Shown once: only its hash ({shown}) is stored, in {target.where}.")
        return 0

    return _run(args, action)


def pin_list(args: argparse.Namespace) -> int:
    def action(target: Target) -> int:
        grants, bad = target.admin.list_pins(room=args.room)
        now = target.admin.clock()
        shown = 64 if target.remote else HASH_SHOWN  # the API revokes by the full id
        rows = []
        for grant, _expires in grants:
            window = validity(grant.valid_from, grant.valid_until)
            if grant.valid_until is not None and grant.valid_until <= now:
                window += " (expired)"
            identity = grant.identity or "(guest)"
            if grant.identity and grant.on_duplicate != UNIQUE:
                identity += f" ({grant.on_duplicate})"
            rows.append(
                [
                    grant.pin_hash[:shown],
                    grant.room,
                    identity,
                    grant.number or "any",
                    window,
                    short(grant.label),
                ]
            )
        headers = ["HASH", "ROOM", "IDENTITY", "NUMBER", "VALID", "LABEL"]
        return print_listing(headers, rows, f"{len(grants)} PIN(s)", target, bad)

    return _run(args, action)


def pin_revoke(args: argparse.Namespace) -> int:
    def action(target: Target) -> int:
        if args.hash_prefix is not None:
            grant = target.admin.revoke_pin(args.hash_prefix, hash_prefix=True)
        else:
            grant = target.admin.revoke_pin(args.pin)
        if target.remote:
            print(f"Revoked PIN {grant.pin_hash} through {target.where}.")
            return 0
        who = grant.identity or "guest"
        print(f"Revoked PIN {grant.pin_hash[:HASH_SHOWN]} (room {grant.room}, {who}) in {target.where}.")
        return 0

    return _run(args, action)


# Import


def import_file(args: argparse.Namespace) -> int:
    rows = read_rows(args.file)  # a bad file is reported before any AWS call

    def show_generated(plan: ImportPlan) -> None:
        # Printed before anything is written: an import that fails half-way leaves no live
        # PIN unshown (the error then says which items were written).
        for where, new in plan.pins:
            if new.generated:
                who = f"as {new.grant.identity}" if new.grant.identity else "as a guest"
                pin = group_digits(new.pin)
                print(
                    f"{where}: PIN {pin} -> room {new.grant.room} {who} (generated; shown once)", flush=True
                )

    def action(target: Target) -> int:
        plan = target.admin.import_rows(rows, replace_routes=args.replace, before_write=show_generated)
        print(f"Imported {len(plan.routes)} route(s) and {len(plan.pins)} PIN(s) into {target.where}.")
        return 0

    return _run(args, action)
