"""Time to answer under each injected fault, through the real VoiceFunction handler.

Every fault must still give the caller a polite answer (HTTP 200 TwiML) within 5 s. The
dead endpoints are real sockets on 127.0.0.1 used with the clients' real timeouts and
retries; throttling and access denied come from botocore's Stubber, a malformed item and
the healthy baseline from moto. Each request builds a fresh app, so secrets are read anew.

    make bench          # or: .venv/bin/python bench/faults.py [--repeats N]

Prints a table and writes bench/results/faults.json. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os

os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - fake, for moto and the dead endpoints
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="CRITICAL",
    POWERTOOLS_METRICS_NAMESPACE="DialIn",
)
os.environ.pop("AWS_PROFILE", None)

import argparse
import contextlib
import io
import json
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from dialin.core.config import Settings
from dialin.core.records import route_key
from dialin.edge.credentials import Credentials, secrets_config
from dialin.edge.dynamo import DYNAMODB_CONFIG, dynamodb_client
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.commands.serve.seed import load_seed
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, rest_event, signed_twilio_event
from dialin_tools.lib.faultinject import closed_endpoint, silent_endpoint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "faults.json"
TABLE = "dialin-bench"
BASE = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
DIRECT = "+15555550100"
PIN_NUMBER = "+15555550101"
TWILIO_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio-AbCdEf"
PEPPER_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pepper-AbCdEf"
LIMIT_SECONDS = 5.0
# What the clients were configured with before: botocore's max_attempts counts retries.
RETRIES_ONLY_CONFIG = Config(
    connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"}
)

Scenario = Callable[[], Iterator[tuple[VoiceApp, dict[str, Any]]]]


def settings(**env: str) -> Settings:
    return Settings.from_env(
        {"TABLE_NAME": TABLE, "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN, "PIN_PEPPER": DEV_PIN_PEPPER, **env}
    )


def incoming(to: str = DIRECT) -> dict[str, Any]:
    params = {"CallSid": "CA" + "b" * 32, "From": "+14155550123", "To": to}
    return signed_twilio_event(base_url=BASE, route="/voice/incoming", params=params, stage="Prod")


def local_app(client: Any) -> VoiceApp:
    config = settings()
    return VoiceApp.on_table(config, client, Credentials(config))


def secrets_app(dynamodb: Any, secrets: Any) -> VoiceApp:
    config = settings(TWILIO_SECRET_ARN=TWILIO_ARN, PIN_PEPPER_SECRET_ARN=PEPPER_ARN)
    return VoiceApp.on_table(config, dynamodb, Credentials(config, secrets_client=lambda: secrets))


@contextlib.contextmanager
def moto_table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", config=DYNAMODB_CONFIG)
        tpl.create_table(client, tpl.load(), TABLE)
        load_seed(client, TABLE, DEV_PIN_PEPPER)
        yield client


@contextlib.contextmanager
def stubbed_dynamodb(code: str) -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    client = dynamodb_client()
    with Stubber(client) as stubber:
        stubber.add_client_error("batch_get_item", code, http_status_code=400)
        yield local_app(client), incoming()


@contextlib.contextmanager
def dead_dynamodb(
    endpoint: Any, config: Config = DYNAMODB_CONFIG
) -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    with endpoint() as url:
        yield local_app(boto3.client("dynamodb", endpoint_url=url, config=config)), incoming()


@contextlib.contextmanager
def dead_secrets(endpoint: Any) -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    with moto_table() as dynamodb, endpoint() as url:
        secrets = boto3.client("secretsmanager", endpoint_url=url, config=secrets_config())
        yield secrets_app(dynamodb, secrets), incoming()


@contextlib.contextmanager
def stubbed_secrets() -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    with moto_table() as dynamodb:
        secrets = boto3.client("secretsmanager", config=secrets_config())
        with Stubber(secrets) as stubber:
            stubber.add_client_error("get_secret_value", "InternalServiceError", http_status_code=500)
            yield secrets_app(dynamodb, secrets), incoming()


@contextlib.contextmanager
def malformed_item() -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    with moto_table() as dynamodb:
        item = {**route_key(PIN_NUMBER), "number": {"S": PIN_NUMBER}, "mode": {"S": "telepathy"}}
        dynamodb.put_item(TableName=TABLE, Item=item)
        yield local_app(dynamodb), incoming(PIN_NUMBER)


@contextlib.contextmanager
def healthy() -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    with moto_table() as dynamodb:
        yield local_app(dynamodb), incoming()


@contextlib.contextmanager
def fallback() -> Iterator[tuple[VoiceApp, dict[str, Any]]]:
    app = local_app(dynamodb_client("http://127.0.0.1:9"))  # never used by the fallback
    body = "ErrorCode=11200&CallSid=CA1"
    yield app, rest_event(method="POST", resource="/voice/fallback", path="/voice/fallback", stage="Prod",
                          headers={}, body=body)  # fmt: skip


SCENARIOS: dict[str, tuple[str, Callable[[], Any]]] = {
    "healthy (moto)": ("baseline", healthy),
    "DynamoDB throttled": ("Stubber", lambda: stubbed_dynamodb("ProvisionedThroughputExceededException")),
    "DynamoDB timeout": ("silent socket", lambda: dead_dynamodb(silent_endpoint)),
    "DynamoDB unreachable": ("closed port", lambda: dead_dynamodb(closed_endpoint)),
    "DynamoDB access denied": ("Stubber", lambda: stubbed_dynamodb("AccessDeniedException")),
    "Secrets Manager timeout": ("silent socket", lambda: dead_secrets(silent_endpoint)),
    "Secrets Manager unreachable": ("closed port", lambda: dead_secrets(closed_endpoint)),
    "Secrets Manager error": ("Stubber", stubbed_secrets),
    "malformed item": ("moto", malformed_item),
    "fallback route": ("no dependency", fallback),
    "DynamoDB timeout, max_attempts=2 (before)": (
        "silent socket",
        lambda: dead_dynamodb(silent_endpoint, RETRIES_ONLY_CONFIG),
    ),
}


def answer(app: VoiceApp, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    route = next(r for r in tpl.api_routes(tpl.load()) if r.path == "/voice/incoming")
    module, handler = load_handler(route.code_dir, route.handler)
    setattr(module, "voice", app)  # noqa: B010 - the loaded module is typed ModuleType
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):  # EMF metrics
        start = time.perf_counter()
        response = handler(event, LocalContext(function_name="VoiceFunction"))
        elapsed = time.perf_counter() - start
    return elapsed, response


def polite(response: dict[str, Any]) -> bool:
    if response.get("statusCode") != 200:
        return False
    root = ET.fromstring(response["body"])  # noqa: S314 - our own TwiML
    spoken = " ".join(el.text or "" for el in root.iter("Say"))
    return spoken in (messages.UNAVAILABLE, messages.CONNECTING) or "Welcome" in spoken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = []
    print(f"{'fault':44} {'how':14} {'min s':>6} {'median':>6} {'max s':>6}  polite")
    for name, (how, scenario) in SCENARIOS.items():
        times, all_polite = [], True
        for _ in range(max(1, min(args.repeats, 50))):
            with scenario() as (app, event):
                elapsed, response = answer(app, event)
            times.append(elapsed)
            all_polite = all_polite and polite(response)
        row: dict[str, Any] = {
            "fault": name,
            "how": how,
            "min": min(times),
            "median": statistics.median(times),
            "max": max(times),
        }
        row["polite"] = all_polite
        results.append(row)
        print(f"{name:44} {how:14} {row['min']:6.3f} {row['median']:6.3f} {row['max']:6.3f}  {all_polite}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"repeats": args.repeats, "results": results}, indent=2) + "\n")
    current = [r for r in results if "(before)" not in r["fault"]]
    ok = all(r["polite"] and r["max"] < LIMIT_SECONDS for r in current)
    print(f"every fault answered politely within {LIMIT_SECONDS:.0f} s: {ok}  ({RESULTS.relative_to(ROOT)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
