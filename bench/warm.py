"""Warm requests: complete signed webhooks through the real handler, in-process.

Run by bench/run.py in a fresh python3.13 with the built function and layer on the path:

    python3.13 -I -S -B bench/warm.py RESULT.json ITERATIONS PATH[:PATH...]

DynamoDB and Secrets Manager are the handler's own botocore clients answered by a
Stubber, so only our code (and botocore's client-side work) is timed. Each scenario is
interleaved, request by request, with its floor: ``RequestValidator.validate`` plus
building the same TwiML with twilio's builders. Every response is checked (outside the
timed region) so a broken stub cannot pass for a fast answer.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ACCOUNT_SID = "AC" + "0" * 32
BENCH_TOKEN = "bench-auth-token-not-a-secret"  # noqa: S105 - fake, bench only
BENCH_PEPPER = "bench-pin-pepper-not-a-secret"
API_BASE = "https://abc123defg.execute-api.us-east-1.amazonaws.com/Prod"
PIN_NUMBER = "+15555550101"
CALLER = "+14155550123"
GOOD_PIN = "246810"
WRONG_PIN = "999999"
WARMUP = 200
Item = dict[str, Any]
# One DynamoDB call a step makes: (operation, the Stubber's answer, the expected parameters).
Stub = tuple[str, Item, Item]


@dataclass
class Scenario:
    name: str
    event: Item
    stubs: list[Stub]  # the step's DynamoDB calls, in order
    expect: str  # a TwiML verb the answer must contain
    floor: Callable[[], str]
    calls: list[tuple[Callable[..., Any], Item]]  # the same calls as the handler made them


def pin_batch(table: str, pin_hash: str, counters: list[Item], grant: Item | None) -> Stub:
    """The PIN step's one read: the grant (if any) with the caller's counters (none yet)."""
    from dialin.core.keys import pin_key

    answer = {"Responses": {table: [grant] if grant else []}}
    return ("batch_get_item", answer, {"RequestItems": {table: {"Keys": [pin_key(pin_hash), *counters]}}})


def get_item(table: str, key: Item, item: Item | None) -> Stub:
    return ("get_item", {"Item": item} if item else {}, {"TableName": table, "Key": key})


def update(table: str, key: Item, any_value: Any) -> Stub:
    """One conditional counter update (``dialin.guard.lockout.FailureCounters``), answered with a
    fresh counter."""
    counter = {**key, "failures": {"N": "1"}, "window_start": {"N": "1"}, "last_failure": {"N": "1"}}
    expected = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": any_value,
        "ConditionExpression": any_value,
        "ExpressionAttributeValues": any_value,
        "ReturnValues": "ALL_NEW",
    }
    return ("update_item", {"Attributes": counter}, expected)


def twilio_params(to: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound call (the full set, so signing costs what it costs)."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + "5" * 32,
        "CallStatus": "ringing",
        "CallToken": "%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9%22%7D",
        "Called": to,
        "CalledCity": "",
        "CalledCountry": "US",
        "CalledState": "CA",
        "CalledZip": "",
        "Caller": CALLER,
        "CallerCity": "SAN FRANCISCO",
        "CallerCountry": "US",
        "CallerState": "CA",
        "CallerZip": "94103",
        "Direction": "inbound",
        "From": CALLER,
        "FromCity": "SAN FRANCISCO",
        "FromCountry": "US",
        "FromState": "CA",
        "FromZip": "94103",
        "To": to,
        "ToCity": "",
        "ToCountry": "US",
        "ToState": "CA",
        "ToZip": "",
    }
    params.update(extra)
    return params


def signed(url: str, params: dict[str, str]) -> tuple[dict[str, Any], tuple[str, dict[str, str], str]]:
    """The API Gateway event for Twilio's POST of ``params`` to ``url`` (one of our URLs,
    exactly as written in our TwiML), and what the floor validates: (url, params, signature)."""
    from dialin_tools.lib.apigw import signed_twilio_event, twilio_signature

    parts = urlsplit(url)
    signature = twilio_signature(url, params, BENCH_TOKEN)
    event = signed_twilio_event(
        base_url=f"{parts.scheme}://{parts.netloc}/Prod",
        route=parts.path.removeprefix("/Prod"),
        params=params,
        query=parse_qsl(parts.query, keep_blank_values=True),
        stage="Prod",
        signature=signature,
    )
    return event, (url, params, signature)


def _element(root: ET.Element, path: str) -> ET.Element:
    found = root.find(path)
    if found is None:
        raise AssertionError(f"no <{path}> in the handler's answer")
    return found


def _floor_gather(url: str, params: dict[str, str], signature: str, root: ET.Element) -> Callable[[], str]:
    """Validate + a <Gather> with a <Say>, as the handler answered."""
    from twilio.request_validator import RequestValidator
    from twilio.twiml.voice_response import VoiceResponse

    validator = RequestValidator(BENCH_TOKEN)
    gather, say = _element(root, "Gather"), _element(root, "Gather/Say")
    action, text = gather.get("action"), say.text
    voice, language = say.get("voice"), say.get("language")

    def floor() -> str:
        if not validator.validate(url, params, signature):
            raise AssertionError("floor signature")
        response = VoiceResponse()
        g = response.gather(
            input="dtmf",
            finish_on_key="#",
            timeout=8,
            action=action,
            method="POST",
            action_on_empty_result=True,
        )
        g.say(text, voice=voice, language=language)
        return response.to_xml()

    return floor


def _floor_connect(url: str, params: dict[str, str], signature: str, root: ET.Element) -> Callable[[], str]:
    """Validate + <Say>, <Connect><Room>, <Redirect>, as the handler answered."""
    from twilio.request_validator import RequestValidator
    from twilio.twiml.voice_response import VoiceResponse

    validator = RequestValidator(BENCH_TOKEN)
    say, room, redirect = _element(root, "Say"), _element(root, "Connect/Room"), _element(root, "Redirect")
    text, voice, language = say.text, say.get("voice"), say.get("language")
    room_name, identity, wait_url = room.text, room.get("participantIdentity"), redirect.text

    def floor() -> str:
        if not validator.validate(url, params, signature):
            raise AssertionError("floor signature")
        response = VoiceResponse()
        response.say(text, voice=voice, language=language)
        response.connect().room(room_name, participant_identity=identity)
        response.redirect(wait_url, method="POST")
        return response.to_xml()

    return floor


class Bench:
    """The handler module with its clients stubbed, and the three scenarios."""

    def __init__(self, module: Any) -> None:
        import boto3
        from botocore.stub import ANY, Stubber

        from dialin.core.keys import attested_budget_key, day_counter_key
        from dialin.core.pins import hash_pin
        from dialin.core.records import PinGrant, Route, route_key
        from dialin.edge.credentials import Credentials
        from dialin.guard.budgets import ATTESTED_VERSTAT
        from dialin.guard.defences import caller_key, number_key, stack_key
        from dialin.rooms.state import account_key

        self.module = module
        voice = module.voice
        self.table = voice.settings.table_name
        self.ddb = Stubber(voice.directory.client)
        self.ddb.activate()
        secrets = boto3.client("secretsmanager")
        self.secrets = Stubber(secrets)
        self.secrets.activate()
        # The handler's own Credentials, wired to the stubbed Secrets Manager client.
        voice.credentials = Credentials(voice.settings, secrets_client=lambda: secrets)
        settings = voice.settings
        for arn, value in (
            (settings.twilio_secret_arn, json.dumps({"accountSid": ACCOUNT_SID, "authToken": BENCH_TOKEN})),
            (settings.pepper_secret_arn, BENCH_PEPPER),
        ):
            self.secrets.add_response(
                "get_secret_value",
                {"ARN": arn, "Name": arn.rsplit(":", 1)[-1], "SecretString": value},
                {"SecretId": arn, "VersionStage": "AWSCURRENT"},
            )
        # Read once and cached for the container's life (5 min), as in a warm Lambda.
        next(voice.credentials.auth_tokens())
        voice.credentials.pepper()

        route = Route(
            number=PIN_NUMBER,
            mode="pin",
            greeting="Welcome to the clinic dial-in.",
            voice="Polly.Joanna",
            language="en-US",
            attempts=3,
        ).to_item()
        grant = PinGrant(hash_pin(BENCH_PEPPER, GOOD_PIN), room="ClinicRoom1", identity="alice").to_item()

        incoming_url = f"{API_BASE}/voice/incoming"
        incoming, incoming_signed = signed(incoming_url, twilio_params(PIN_NUMBER))
        # What each step reads (and writes) in the table, in order. A change to a step's data
        # access changes its plan here; until then the bench stops with a clear error.
        # /voice/incoming reads the route, every failure counter that applies and the account's
        # room-callback marker in one BatchGetItem: an unattested caller's counter on this
        # number and its 24-hour one, the number's and the stack's budgets; an attested
        # caller's own stack-wide counter, its 24-hour one and the attested budget. A PIN step
        # reads the grant with the same counters in one BatchGetItem (they decide before the
        # grant is used); a wrong PIN then counts the failure: four conditional UpdateItems
        # (unattested), three (attested). A correct PIN writes nothing.
        own = caller_key(BENCH_PEPPER, CALLER, PIN_NUMBER, attested=False)
        marker = account_key(ACCOUNT_SID)
        counters = [own, day_counter_key(own), number_key(BENCH_PEPPER, PIN_NUMBER), stack_key()]
        keys = [route_key(PIN_NUMBER), *counters, marker]
        batch = {"RequestItems": {self.table: {"Keys": keys}}}
        incoming_stubs = [("batch_get_item", {"Responses": {self.table: [route]}}, batch)]
        attested_own = caller_key(BENCH_PEPPER, CALLER, PIN_NUMBER, attested=True)
        attested_counters = [attested_own, day_counter_key(attested_own), attested_budget_key()]
        attested_keys = [route_key(PIN_NUMBER), *attested_counters, marker]
        attested_batch = {"RequestItems": {self.table: {"Keys": attested_keys}}}
        attested_stubs = [("batch_get_item", {"Responses": {self.table: [route]}}, attested_batch)]
        good_stubs = [pin_batch(self.table, hash_pin(BENCH_PEPPER, GOOD_PIN), counters, grant)]
        wrong_lookup = pin_batch(self.table, hash_pin(BENCH_PEPPER, WRONG_PIN), counters, None)
        wrong_stubs = [wrong_lookup, *(update(self.table, key, ANY) for key in counters)]
        attested_lookup = pin_batch(self.table, hash_pin(BENCH_PEPPER, WRONG_PIN), attested_counters, None)
        attested_wrong_stubs = [attested_lookup, *(update(self.table, key, ANY) for key in attested_counters)]
        incoming_case, root = self.scenario(
            "incoming call (PIN number)", incoming, incoming_signed, incoming_stubs, "<Gather", _floor_gather
        )
        action = _element(root, "Gather").get("action") or ""
        pin_form = {"Digits": GOOD_PIN, "FinishedOnKey": "#", "msg": "Gather End"}
        good, good_signed = signed(action, twilio_params(PIN_NUMBER, **pin_form))
        wrong, wrong_signed = signed(action, twilio_params(PIN_NUMBER, **{**pin_form, "Digits": WRONG_PIN}))
        good_case, _ = self.scenario("correct PIN", good, good_signed, good_stubs, "<Room", _floor_connect)
        wrong_case, _ = self.scenario("wrong PIN", wrong, wrong_signed, wrong_stubs, "<Gather", _floor_gather)
        # The same caller, attested (StirVerstat): fewer keys read, one counter written.
        vouched = {"StirVerstat": ATTESTED_VERSTAT}
        attested_in, attested_in_signed = signed(incoming_url, twilio_params(PIN_NUMBER, **vouched))
        _, attested_root = self.scenario(
            "incoming call (attested)",
            attested_in,
            attested_in_signed,
            attested_stubs,
            "<Gather",
            _floor_gather,
        )
        attested_action = _element(attested_root, "Gather").get("action") or ""
        attested_form = twilio_params(PIN_NUMBER, **{**pin_form, **vouched, "Digits": WRONG_PIN})
        attested_wrong, attested_wrong_signed = signed(attested_action, attested_form)
        attested_case, _ = self.scenario(
            "wrong PIN (attested caller)",
            attested_wrong,
            attested_wrong_signed,
            attested_wrong_stubs,
            "<Gather",
            _floor_gather,
        )
        self.scenarios = [incoming_case, good_case, wrong_case, attested_case]

    def context(self) -> Any:
        from dialin_tools.commands.serve.handlers import LocalContext

        return LocalContext(function_name="VoiceFunction")

    def stub(self, stubs: list[Stub]) -> None:
        for operation, answer, expected in stubs:
            self.ddb.add_response(operation, answer, expected)

    def scenario(
        self,
        name: str,
        event: Item,
        signed_request: tuple[str, dict[str, str], str],
        stubs: list[Stub],
        expect: str,
        floor_of: Callable[..., Callable[[], str]],
    ) -> tuple[Scenario, ET.Element]:
        """One checked request: its TwiML, the DynamoDB calls it made (recorded as botocore
        received them), and a floor that builds the very same TwiML."""
        from botocore import xform_name

        client = self.module.voice.directory.client
        made: list[tuple[str, Item]] = []

        def record(params: Item, model: Any, **_: Any) -> None:
            made.append((xform_name(model.name), copy.deepcopy(params)))

        self.stub(stubs)
        client.meta.events.register("provide-client-params.dynamodb", record, unique_id="bench-record")
        try:
            response = self.module.lambda_handler(event, self.context())
        finally:
            client.meta.events.unregister("provide-client-params.dynamodb", unique_id="bench-record")
        body = response.get("body", "")
        try:
            self.ddb.assert_no_pending_responses()
            unused = False
        except AssertionError:
            unused = True
        if response["statusCode"] != 200 or expect not in body or unused:
            raise AssertionError(
                f"{name}: the handler answered {response['statusCode']} {body[:300]!r} after DynamoDB "
                f"calls {[op for op, _ in made]}; its stub plan in bench/warm.py expects "
                f"{[op for op, _, _ in stubs]}"
            )
        root = ET.fromstring(body)  # noqa: S314 - our own answer
        floor = floor_of(*signed_request, root)
        floor_root = ET.fromstring(floor())  # noqa: S314 - our own floor
        if ET.tostring(root, encoding="unicode") != ET.tostring(floor_root, encoding="unicode"):
            raise AssertionError(f"{name}: the floor does not build the same TwiML")
        calls = [(getattr(client, op), params) for op, params in made]
        return Scenario(name, event, stubs, expect, floor, calls), root

    def run(self, scenario: Scenario, iterations: int, warmup: int = WARMUP) -> dict[str, Any]:
        """Ours, the floor, and the step's stubbed DynamoDB calls made alone on the same
        client (botocore's client-side share of ours), interleaved request by request."""
        handler, event, context = self.module.lambda_handler, scenario.event, self.context()
        ours: list[int] = []
        floor: list[int] = []
        botocore: list[int] = []
        clock = time.perf_counter_ns
        for i in range(warmup + iterations):
            self.stub(scenario.stubs)
            start = clock()
            answer = handler(event, context)
            end = clock()
            if answer["statusCode"] != 200 or scenario.expect not in answer["body"]:
                raise AssertionError(f"{scenario.name}: unexpected answer {answer}")
            self.ddb.assert_no_pending_responses()
            floor_start = clock()
            floor_xml = scenario.floor()
            floor_end = clock()
            if scenario.expect not in floor_xml:
                raise AssertionError(f"{scenario.name}: unexpected floor {floor_xml}")
            self.stub(scenario.stubs)
            calls_start = clock()
            for call, params in scenario.calls:
                call(**params)
            calls_end = clock()
            if i >= warmup:
                ours.append(end - start)
                floor.append(floor_end - floor_start)
                botocore.append(calls_end - calls_start)
        self.ddb.assert_no_pending_responses()
        return {
            "name": scenario.name,
            "ours": summary(ours),
            "floor": summary(floor),
            "botocore_dynamodb": summary(botocore),
        }


def summary(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    n = len(ordered)

    def at(q: float) -> float:
        return ordered[min(n - 1, round(q * (n - 1)))] / 1000

    return {"n": n, "median_us": at(0.5), "p99_us": at(0.99), "min_us": ordered[0] / 1000}


def run_all(module: Any, iterations: int, warmup: int = WARMUP) -> list[dict[str, Any]]:
    bench = Bench(module)
    gc.collect()
    return [bench.run(s, iterations, warmup) for s in bench.scenarios]


def main() -> None:
    out, iterations, paths = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(os.pathsep)
    sys.path[:0] = paths
    import importlib

    module = importlib.import_module("app")  # the function's handler module, as Lambda loads it
    results = run_all(module, iterations)
    out.write_text(json.dumps({"python": sys.version.split()[0], "scenarios": results}), encoding="utf-8")


if __name__ == "__main__":
    main()
