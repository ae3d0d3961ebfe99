"""`dialin serve`: the real handlers behind a local API, on an embedded DynamoDB by default."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dialin.admin.bulk import ImportPlan
from dialin.core.records import DIRECT, UNIQUE
from dialin_tools.commands.admin.targets import (
    LOCAL_DYNAMODB_PORT,
    LOCAL_ENDPOINT,
    LOCAL_HOST,
    LOCAL_REGION,
    aws_errors,
    local_client,
)
from dialin_tools.commands.call.phone import DEFAULT_URL, FAKE_ACCOUNT_SID
from dialin_tools.commands.room.cli import callback_params
from dialin_tools.commands.serve.dynamodb import EmbeddedDynamoDB
from dialin_tools.commands.serve.environment import local_environment
from dialin_tools.commands.serve.environments import DEFAULT_ENVIRONMENTS, Environments
from dialin_tools.commands.serve.exposure import refuse_public_dev_secrets, shared_local_table
from dialin_tools.commands.serve.options import (
    ENVIRONMENTS_ENV,
    environment_count,
    environments,
    port,
    positive_seconds,
    schedule_seconds,
)
from dialin_tools.commands.serve.schedules import Schedules
from dialin_tools.commands.serve.seed import DEMO_SEED, seed
from dialin_tools.commands.serve.server import (
    ROOM_STATUS_PATH,
    LocalApi,
    environment_routes,
    handler_environment,
)
from dialin_tools.commands.serve.twilio_standin import PREFIX as STANDIN_PREFIX
from dialin_tools.commands.serve.twilio_standin import CallsStandIn
from dialin_tools.errors import Invalid, Unreachable
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, FORM, twilio_signature
from dialin_tools.lib.sample_events import LOCAL_TABLE

DEFAULT_PORT = 3000  # as `sam local start-api`
# Fake credentials for the embedded DynamoDB, so no real AWS account is ever used by mistake.
EMBEDDED_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the real handlers locally (no Docker, no AWS account)",
        description=(
            "Serve template.yaml's API routes at their stage-less paths, as `sam local start-api` "
            "does, running the real handlers in execution environments of their own "
            "(processes, several at once per function). By default on an embedded DynamoDB "
            "(moto) seeded with the demo in events/seed.json. Signatures are checked with "
            "TWILIO_AUTH_TOKEN, or the documented dev token when unset."
        ),
    )
    parser.add_argument("--host", default=LOCAL_HOST, help=f"address to listen on (default {LOCAL_HOST})")
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"API port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--public-url",
        default="",
        metavar="URL",
        help="the base URL Twilio calls, e.g. a tunnel's https://abc.example (signatures are checked for it)",
    )
    _dynamodb_options(parser)
    parser.add_argument(
        "--table",
        default="",
        metavar="NAME",
        help="use this real DynamoDB table with your AWS credentials instead (PINs hashed with $PIN_PEPPER)",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        metavar="FILE",
        help="routes and PINs to load (default: events/seed.json, into the embedded table only)",
    )
    parser.add_argument("--no-seed", action="store_true", help="start with an empty embedded table")
    parser.add_argument("--verbose", action="store_true", help="also show the handlers' logs and metrics")
    parser.add_argument(
        "--schedule-seconds",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="run the template's schedules this often, not at their rate (default $DIALIN_SCHEDULE_SECONDS)",
    )
    parser.add_argument(
        "--environments",
        type=environment_count,
        default=None,
        metavar="N",
        help="execution environments per function, each its own process, run at once "
        f"(default ${ENVIRONMENTS_ENV}, {DEFAULT_ENVIRONMENTS})",
    )
    parser.set_defaults(handler=run)


def _dynamodb_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dynamodb-port",
        type=port,
        default=LOCAL_DYNAMODB_PORT,
        help=f"embedded DynamoDB port (default {LOCAL_DYNAMODB_PORT}; 0: any)",
    )
    parser.add_argument(
        "--dynamodb-host",
        default="",
        metavar="HOST",
        help="address the embedded DynamoDB listens on (default: --host's), e.g. the Docker bridge "
        "172.17.0.1 for `sam local` on Linux (docs/local.md)",
    )


def _public_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not value.startswith(("http://", "https://")):
        raise Invalid("--public-url must start with https:// (or http://)")
    return value


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def run(args: argparse.Namespace) -> int:
    _check_options(args)  # before anything listens
    public_url = _public_url(args.public_url)
    template = tpl.load()
    routes = tpl.api_routes(template)
    if not routes:
        raise Invalid("template.yaml declares no API routes")
    try:
        api = LocalApi(args.host, args.port)
    except OSError as exc:
        raise Unreachable(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror}); pick another --port"
        ) from None
    db: EmbeddedDynamoDB | None = None
    schedules: Schedules | None = None
    pool: Environments | None = None
    try:
        local_url = f"http://{args.host}:{api.port}"
        token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN
        if args.table:
            table, endpoint = args.table, ""
            pepper = os.environ.get("PIN_PEPPER") or DEV_PIN_PEPPER
            if shared_local_table(os.environ):  # the other server's fake keys, never the user's
                os.environ.pop("AWS_PROFILE", None)
                os.environ.update(EMBEDDED_AWS_ENV)
            plan = _seed_real(args, table, pepper)
        else:
            db = _start_embedded(args.dynamodb_host or args.host, args.dynamodb_port)
            table, endpoint, pepper = LOCAL_TABLE, db.url, DEV_PIN_PEPPER
            os.environ.pop("AWS_PROFILE", None)
            os.environ.update(EMBEDDED_AWS_ENV)
            plan = _seed_embedded(args, template, endpoint)
        local = local_environment(args.verbose, public_url or local_url, table, endpoint, token, pepper)
        local.update(twilio_api(api, local_url, public_url or local_url, token))
        os.environ.update(handler_environment(template, local, os.environ))
        pool = Environments(environments(args), quiet=not args.verbose)
        api.mount(loaded := environment_routes(template, routes, pool))
        scheduled = tpl.schedules(template)
        for event in scheduled:
            pool.add(event.function, event.code_dir, event.handler)
        schedules = Schedules(scheduled, schedule_seconds(args), pool.invoke)
        ran = f"{_schedules_line(schedules)}\nEnvironments: up to {pool.limit} per function, each a process"
        shown = banner(args, api, loaded, table, endpoint, plan, public_url, token, ran)
        print(shown, flush=True)
        schedules.start()
        _stop_on_sigterm()
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if schedules is not None:
            schedules.stop()
        if pool is not None:
            pool.close()
        api.close()
        if db is not None:
            db.stop()
    print("dialin serve: stopped.", flush=True)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    refuse_public_dev_secrets(args, os.environ)
    if args.table and args.dynamodb_host:
        raise Invalid("--dynamodb-host places the embedded DynamoDB: it does not go with --table")


def twilio_api(api: LocalApi, local_url: str, base_url: str, token: str) -> dict[str, str]:
    """Twilio's REST API for the functions: the user's TWILIO_API_BASE_URL as it is, else our
    own stand-in (so a local run never reaches Twilio), with the account it acts for."""
    if os.environ.get("TWILIO_API_BASE_URL"):
        return {}
    account = os.environ.get("TWILIO_ACCOUNT_SID") or FAKE_ACCOUNT_SID
    api.standin = CallsStandIn(api.log, room_notifier(api, base_url, token, account))
    env = {"TWILIO_API_BASE_URL": f"{local_url}{STANDIN_PREFIX}", "TWILIO_ACCOUNT_SID": account}
    if not os.environ.get("TWILIO_ACCOUNT_SID"):
        env["TWILIO_ANY_ACCOUNT"] = "true"  # the stand-in's account only: webhooks of any account pass
    return env


def room_notifier(api: LocalApi, base_url: str, token: str, account: str) -> Callable[[dict[str, str]], None]:
    """Send a room callback (as `dialin room` would) through the local API, signed."""

    def notify(form: dict[str, str]) -> None:
        action = "join" if form["StatusCallbackEvent"] == "participant-connected" else "leave"
        params = callback_params(action, form["RoomName"], form["ParticipantIdentity"], account, time.time())
        url = f"{base_url}{ROOM_STATUS_PATH}"
        headers = [("Content-Type", FORM), ("X-Twilio-Signature", twilio_signature(url, params, token))]
        api.invoke("POST", ROOM_STATUS_PATH, headers, urlencode(params).encode(), "127.0.0.1")

    return notify


def _start_embedded(host: str, port: int) -> EmbeddedDynamoDB:
    try:
        return EmbeddedDynamoDB(host, port).start()
    except OSError as exc:
        raise Unreachable(
            f"cannot listen on {host}:{port} for DynamoDB ({os.strerror(exc.errno) if exc.errno else exc}): "
            "is another `dialin serve` running? Pick another --dynamodb-port"
        ) from None


def _seed_embedded(args: argparse.Namespace, template: dict[str, Any], endpoint: str) -> ImportPlan | None:
    client = local_client(endpoint)
    tpl.create_table(client, template, LOCAL_TABLE)
    if args.no_seed:
        return None
    return seed(client, LOCAL_TABLE, DEV_PIN_PEPPER, args.seed or DEMO_SEED)


def _seed_real(args: argparse.Namespace, table: str, pepper: str) -> ImportPlan | None:
    if args.seed is None or args.no_seed:
        return None
    import boto3

    with aws_errors(local=False):
        return seed(boto3.client("dynamodb"), table, pepper, args.seed)


def _program() -> str:
    """How the user started us, so the printed lines work as pasted."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 if Path(argv0).name == "dialin" else "dialin"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def demo_calls(plan: ImportPlan | None, url: str) -> list[tuple[str, str]]:
    """``(command, what happens)`` for each way into the seeded rooms."""
    extra = [] if url == DEFAULT_URL else ["--url", url]
    program = _program()

    def line(*args: str) -> str:
        return shlex.join([program, "call", *args, *extra])

    calls: list[tuple[str, str]] = []
    if plan is None:
        return calls
    for _, route in plan.routes:
        if route.mode == DIRECT:
            calls.append((line("--to", route.number), f"direct: joins {route.room}"))
            calls.append((line("--to", route.number, "--room-not-started"), "the room starts after one wait"))
            continue
        for _, new in plan.pins:
            if new.grant.number in ("", route.number) and new.grant.valid_from is None:
                who = _joins_as(new.grant.identity, new.grant.on_duplicate)
                calls.append(
                    (line("--to", route.number, "--digits", new.pin), f"PIN: joins {new.grant.room} {who}")
                )
    return calls


def _schedules_line(schedules: Schedules) -> str:
    runs = [
        f"{event.event} every {schedules.every or event.seconds:g} s ({event.function})"
        for event in schedules.events
    ]
    return "Schedules: " + (", ".join(runs) if runs else "none")


def _joins_as(identity: str, on_duplicate: str) -> str:
    if not identity:
        return "as a guest"
    return f"as {identity}-xxxxx" if on_duplicate == UNIQUE else f"as {identity}"  # a suffix per call


def banner(
    args: argparse.Namespace,
    api: LocalApi,
    routes: list[Any],
    table: str,
    endpoint: str,
    plan: ImportPlan | None,
    public_url: str,
    token: str,
    schedules: str = "",
) -> str:
    local_url = f"http://{args.host}:{api.port}"
    lines = [f"dialin serve: template.yaml's API on {local_url} (stage-less paths, as `sam local start-api`)"]
    lines += [f"  {r.route.method:<6} {r.route.path:<22} {r.route.function}" for r in routes]
    if endpoint:
        seeded = "empty"
        if plan is not None:
            source = _shown(args.seed or DEMO_SEED)
            seeded = f"seeded from {source}: {len(plan.routes)} route(s), {len(plan.pins)} PIN(s)"
        lines.append(f"DynamoDB: embedded at {endpoint}, table {table}, {seeded}")
    else:
        shared = shared_local_table(os.environ)
        lines.append(
            f"DynamoDB: table {table} of the dialin serve at {shared} (AWS_ENDPOINT_URL_DYNAMODB)"
            if shared
            else f"DynamoDB: table {table} with your AWS credentials"
        )
    token_name = "the dev auth token" if token == DEV_AUTH_TOKEN else "TWILIO_AUTH_TOKEN"
    lines.append(f"Signatures: checked for {public_url or local_url} with {token_name}")
    if schedules:
        lines.append(schedules)
    calls = demo_calls(plan, public_url or local_url)
    if calls:
        width = max(len(command) for command, _ in calls)
        lines += ["", "Try it in another terminal:"]
        lines += [f"  {command:<{width}}  # {what}" for command, what in calls]
    if endpoint:
        admin = [_program(), "pin", "add", "--room", "ClinicRoom1", "--identity", "bob", "--local"]
        if endpoint != LOCAL_ENDPOINT:
            admin += ["--endpoint-url", endpoint]
        lines += ["", "Change the directory while it runs:", f"  {shlex.join(admin)}"]
        lines.append("  (the embedded table lives in memory: changes vanish when `dialin serve` stops)")
    lines.append("")
    if public_url:
        lines.append(f"Twilio number's voice webhook: {public_url}/voice/incoming (HTTP POST)")
    else:
        port = api.port
        restart = [_program(), "serve", "--public-url", "https://YOUR-TUNNEL-HOST"]
        restart += ["--port", str(port)] if port != DEFAULT_PORT else []
        lines += [
            "A real Twilio number: expose this port through a tunnel (e.g. `ngrok http "
            f"{port}` or `cloudflared tunnel --url {local_url}`),",
            "then restart with your account's auth token in TWILIO_AUTH_TOKEN and",
            f"  {shlex.join(restart)}",
            "and set the number's voice webhook to https://YOUR-TUNNEL-HOST/voice/incoming (HTTP POST).",
        ]
    lines.append("Ctrl-C stops.")
    return "\n".join(lines)
