"""`dialin route update NUMBER --language fr-FR --prompt NAME=TEXT ...` changes only what it
names and says what changed; `dialin route add --replace` says what it dropped.

Both read the route first, through the same target as the write (``--local``, ``--stack``
or ``--url``); the merged route is checked by ``make_route`` exactly as a new one is.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from dialin.admin.specs import language_note, make_route
from dialin.core import records
from dialin.core.records import Route
from dialin_tools.commands.admin.prompt_options import read_prompts
from dialin_tools.commands.admin.targets import Target
from dialin_tools.errors import NotFound

# The route fields `route update` can set, by option; the number and mode identify a route.
OPTIONS = {
    "room": "--room",
    "identity_policy": "--identity-policy",
    "greeting": "--greeting",
    "voice": "--voice",
    "language": "--language",
    "attempts": "--attempts",
    "pin_input": "--pin-input",
    "account": "--account",
    "phone_limit": "--phone-limit",
}


def register_update(routes: Any, target: argparse.ArgumentParser, handler: Callable[..., int]) -> None:
    update = routes.add_parser(
        "update",
        parents=[target],
        help="change some of a route's settings, keeping the rest",
        description="Change only the settings named; the others stay as they are. "
        "--prompt NAME= (empty text) drops the route's own text for NAME.",
    )
    update.add_argument("number", help="the routed number, E.164")
    update.add_argument("--room", help="the room a direct number joins")
    update.add_argument("--identity-policy", choices=records.CALLER_IDENTITY_POLICIES)
    update.add_argument("--greeting", help="said first (empty: none)")
    update.add_argument("--voice", help="<Say> voice, e.g. Polly.Lea (empty: Twilio's default)")
    update.add_argument("--language", help="<Say> language and prompts' language, e.g. fr-FR")
    update.add_argument("--attempts", help="PIN attempts per call (1-10)")
    update.add_argument("--pin-input", choices=records.PIN_INPUTS, help="keypad only, or keypad and speech")
    update.add_argument("--account", help="answer only calls of this AccountSid (empty: any)")
    update.add_argument("--phone-limit", help="phone callers its rooms take (1-35)")
    update.add_argument("--prompt", action="append", default=[], metavar="NAME=TEXT", help="repeatable")
    update.add_argument("--prompts-file", type=Path, metavar="FILE", help='JSON: {"PIN_PROMPT": "...", ...}')
    update.set_defaults(handler=handler)


def current_route(target: Target, number: str) -> Route | None:
    return next((r for r in target.admin.list_routes()[0] if r.number == number), None)


def updated(old: Route, args: argparse.Namespace) -> Route:
    """``old`` with the settings ``args`` names, checked as a new route would be."""
    settings: dict[str, Any] = {f.name: getattr(old, f.name) for f in fields(Route)}
    for name in OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = value
    prompts = dict(old.prompts)
    for name, text in read_prompts(args.prompt, args.prompts_file).items():
        if text:
            prompts[name] = text
        else:
            prompts.pop(name, None)
    settings["prompts"] = prompts
    number = settings.pop("number")
    return make_route(number, **settings)


def _shown(value: object) -> str:
    return "(none)" if value in ("", None) else str(value)


def changes(old: Route, new: Route) -> list[str]:
    """What differs, as ``language en-US -> fr-FR`` and ``prompt PIN_PROMPT set``."""
    said = [
        f"{name.replace('_', ' ')} {_shown(getattr(old, name))} -> {_shown(getattr(new, name))}"
        for name in OPTIONS
        if getattr(old, name) != getattr(new, name)
    ]
    for name in sorted(set(old.prompts) | set(new.prompts)):
        if name not in new.prompts:
            said.append(f"prompt {name} dropped")
        elif old.prompts.get(name) != new.prompts[name]:
            said.append(f"prompt {name} {'changed' if name in old.prompts else 'set'}")
    return said


def dropped(old: Route, new: Route) -> list[str]:
    """What ``old`` had that a replacing ``new`` does not: settings it no longer has at all."""
    lost = [
        f"{name.replace('_', ' ')} {getattr(old, name)}"
        for name in OPTIONS
        if getattr(old, name) not in ("", None) and getattr(new, name) in ("", None)
    ]
    gone = sorted(set(old.prompts) - set(new.prompts))
    if gone:
        lost.append(f"own prompt text(s) {', '.join(gone)}")
    return lost


def route_update(args: argparse.Namespace, target: Target) -> int:
    old = current_route(target, args.number)
    if old is None:
        raise NotFound(
            f"no route for {args.number}; nothing was changed",
            "number",
            cli_hint="add it with `dialin route add`",
        )
    new = updated(old, args)
    said = changes(old, new)
    if not said:
        print(f"Route {new.number} in {target.where} already has those settings; nothing was changed.")
        return 0
    target.admin.add_route(new, replace=True)
    print(f"Route {new.number} updated in {target.where}: {'; '.join(said)}.")
    note = language_note(new.language) if new.language != old.language else ""
    if note:
        print(f"Note: {note}; give the route its own with --prompt NAME=TEXT.")
    return 0
