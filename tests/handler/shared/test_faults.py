"""Faults on our side: each gives a polite 200 TwiML, a `service fault` log line naming it,
and a Fault<kind> metric. Injected with botocore's Stubber, dead endpoints on 127.0.0.1 and
corrupt items in moto. (Time to answer is measured by `make bench`, not asserted here.)
Every other function reports its faults the same way (the end of this file)."""

from __future__ import annotations

import io
import json
import socket
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from support.admin_events import AdminHandler, admin_module
from support.callers import ALICE_PIN, CALLER, DIRECT, INCOMING, PIN_NUMBER, fallback_post, twilio_post
from support.dial_events import calls_event, dial_out_module
from support.observed import Emitted
from support.published_metrics import SOURCES
from support.rooms import SCHEDULED, RoomHandler, room_callback, room_events_app
from support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from support.twiml import parse, said, verbs
from support.voice import BASE, TABLE, Clock, handle, local_settings, throttle

from dialin.admin.api import AdminApp
from dialin.admin.table import Admin
from dialin.calls.steps import PinState, Speech, Urls
from dialin.core.keys import day_counter_key
from dialin.core.pins import hash_pin
from dialin.core.records import PinGrant, pin_key, route_key
from dialin.dialout.app import DialOutApp
from dialin.dialout.rate import CallRate
from dialin.dialout.request import DialOutSettings
from dialin.edge import faults
from dialin.edge.credentials import Credentials, secrets_config
from dialin.edge.dynamo import DYNAMODB_CONFIG, dynamodb_client
from dialin.guard.defences import caller_key, number_key, stack_key
from dialin.guard.lockout import Counter
from dialin.rooms.events import RoomEventsApp
from dialin.rooms.pins import pin_revoker
from dialin.rooms.state import account_key
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER
from dialin_tools.lib.faultinject import closed_endpoint, silent_endpoint
from dialin_tools.lib.template import api_routes, load

TWILIO_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dialin-twilio-AbCdEf"
PEPPER_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dialin-pepper-AbCdEf"
PIN_URL = Urls(BASE).pin(PinState(1, 3, Speech()))
WRONG = "999999"


def local_app(client: Any, credentials: Credentials | None = None, **settings: Any) -> VoiceApp:
    config = local_settings(**settings)
    return VoiceApp.on_table(config, client, credentials or Credentials(config))


def assert_polite_fault(response: dict[str, Any], out: Emitted, kind: str) -> None:
    root = parse(response)
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.UNAVAILABLE
    lines = [r for r in out.logs() if r.get("message") == "service fault"]
    assert [r["kind"] for r in lines] == [kind]
    metrics = out.metrics()
    assert metrics.get("ServiceFaults") == 1 and metrics.get(f"Fault{kind}") == 1


@pytest.fixture
def stubbed_dynamodb() -> Iterator[tuple[Any, Stubber]]:
    client = dynamodb_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _pin_found() -> dict[str, Any]:
    return {
        "Item": PinGrant(hash_pin(DEV_PIN_PEPPER, WRONG), room="Elsewhere", number="+15555550150").to_item()
    }


# DynamoDB: throttling and access denied on each operation a step makes (botocore Stubber).
DYNAMODB_FAULTS = [
    ("ProvisionedThroughputExceededException", faults.THROTTLED),
    ("ThrottlingException", faults.THROTTLED),
    ("RequestLimitExceeded", faults.THROTTLED),
    ("AccessDeniedException", faults.ACCESS_DENIED),
]


@pytest.mark.parametrize(("code", "kind"), DYNAMODB_FAULTS)
@pytest.mark.parametrize("operation", ["batch_get_item", "pin_read", "update_item"])
def test_dynamodb_error_on_each_operation(
    stubbed_dynamodb: tuple[Any, Stubber],
    emitted: Callable[[], Emitted],
    code: str,
    kind: str,
    operation: str,
):
    client, stubber = stubbed_dynamodb
    if operation == "batch_get_item":
        event = twilio_post(INCOMING, To=PIN_NUMBER)
    else:
        event = twilio_post(PIN_URL, To=PIN_NUMBER, Digits=WRONG)
        if operation == "update_item":  # the lookup works (a PIN scoped elsewhere), counting fails
            stubber.add_response("batch_get_item", {"Responses": {TABLE: [_pin_found()["Item"]]}})
    # The PIN step reads the PIN with the caller's counters in one BatchGetItem.
    stubber.add_client_error(
        "batch_get_item" if operation == "pin_read" else operation, code, http_status_code=400
    )
    response = handle(local_app(client), event)
    assert_polite_fault(response, emitted(), kind)


def test_batch_read_left_unprocessed_is_throttling(
    stubbed_dynamodb: tuple[Any, Stubber], emitted: Callable[[], Emitted]
):
    client, stubber = stubbed_dynamodb
    # The route, the caller's counters and budgets, and the account's room-callback marker.
    keys = [
        route_key(PIN_NUMBER),
        caller_key(DEV_PIN_PEPPER, CALLER, PIN_NUMBER, attested=False),
        day_counter_key(caller_key(DEV_PIN_PEPPER, CALLER, PIN_NUMBER, attested=False)),
        number_key(DEV_PIN_PEPPER, PIN_NUMBER),
        stack_key(),
        account_key("AC" + "0" * 32),
    ]
    stubber.add_response(
        "batch_get_item",
        {"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: {"Keys": keys}}},
        {"RequestItems": {TABLE: {"Keys": keys}}},
    )
    assert_polite_fault(
        handle(local_app(client), twilio_post(INCOMING, To=PIN_NUMBER)), emitted(), "Throttled"
    )


# DynamoDB endpoints that never answer or refuse: the real client config, real sockets.


def test_client_bounds_are_what_keeps_the_answer_inside_five_seconds():
    for config in (DYNAMODB_CONFIG, secrets_config()):
        attempts = config.retries["total_max_attempts"]  # max_attempts would count retries only
        assert config.retries["mode"] == "standard"  # first retry waits under 1 s
        worst = attempts * (config.connect_timeout + config.read_timeout) + 1
        assert (attempts, config.connect_timeout, config.read_timeout, worst) == (2, 1, 1, 5)
    client = dynamodb_client()
    assert client.meta.config.read_timeout == 1 and client.meta.config.retries["total_max_attempts"] == 2


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [(silent_endpoint, faults.TIMEOUT), (closed_endpoint, faults.UNREACHABLE)],
    ids=["timeout", "unreachable"],
)
def test_dynamodb_endpoint_dead(endpoint: Callable[[], Any], kind: str, emitted: Callable[[], Emitted]):
    with endpoint() as url:
        app = local_app(dynamodb_client(url))
        response = handle(app, twilio_post(INCOMING, To=DIRECT))
    assert_polite_fault(response, emitted(), kind)


def test_a_closed_endpoint_keeps_its_port_until_the_end():
    """The port is held (bound, never listening) so no other process can take it meanwhile
    and answer: a freed port, taken by a server of another test run, made this tier flaky."""
    with closed_endpoint() as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))
        with socket.socket() as caller, pytest.raises(ConnectionRefusedError):
            caller.connect(("127.0.0.1", port))


# Secrets Manager (deployed configuration: secrets by ARN) unavailable.


def _secrets_app(dynamodb: Any, secrets: Any) -> VoiceApp:
    config = local_settings(TWILIO_SECRET_ARN=TWILIO_ARN, PIN_PEPPER_SECRET_ARN=PEPPER_ARN)
    return VoiceApp.on_table(config, dynamodb, Credentials(config, secrets_client=lambda: secrets))


@pytest.mark.parametrize(
    "code",
    ["InternalServiceError", "AccessDeniedException", "ResourceNotFoundException", "ThrottlingException"],
)
def test_secrets_manager_errors(dynamodb: Any, emitted: Callable[[], Emitted], code: str):
    secrets = boto3.client("secretsmanager", config=secrets_config())
    with Stubber(secrets) as stubber:
        stubber.add_client_error("get_secret_value", code, http_status_code=400)
        response = handle(_secrets_app(dynamodb, secrets), twilio_post(INCOMING, To=DIRECT))
    out = emitted()
    assert_polite_fault(response, out, faults.SECRETS_UNAVAILABLE)
    assert [r["cause"] for r in out.logs() if r.get("message") == "service fault"] == [code]


def test_pepper_secret_unavailable_after_token_read(dynamodb: Any, emitted: Callable[[], Emitted]):
    secrets = boto3.client("secretsmanager", config=secrets_config())
    with Stubber(secrets) as stubber:
        token = json.dumps({"accountSid": "AC0", "authToken": DEV_AUTH_TOKEN})
        stubber.add_response("get_secret_value", {"Name": "twilio", "SecretString": token})
        stubber.add_client_error("get_secret_value", "InternalServiceError", http_status_code=500)
        response = handle(_secrets_app(dynamodb, secrets), twilio_post(INCOMING, To=PIN_NUMBER))
    assert_polite_fault(response, emitted(), faults.SECRETS_UNAVAILABLE)


@pytest.mark.parametrize("endpoint", [silent_endpoint, closed_endpoint], ids=["timeout", "unreachable"])
def test_secrets_manager_endpoint_dead(dynamodb: Any, emitted: Callable[[], Emitted], endpoint: Any):
    with endpoint() as url:
        secrets = boto3.client("secretsmanager", endpoint_url=url, config=secrets_config())
        response = handle(_secrets_app(dynamodb, secrets), twilio_post(INCOMING, To=DIRECT))
    out = emitted()
    assert_polite_fault(response, out, faults.SECRETS_UNAVAILABLE)
    cause = next(r["cause"] for r in out.logs() if r.get("message") == "service fault")
    assert cause == ("ReadTimeoutError" if endpoint is silent_endpoint else "EndpointConnectionError")


def test_secrets_by_arn_work_when_secrets_manager_does(dynamodb: Any):
    """Control for the tests above: the same wiring with a working Secrets Manager (moto)."""
    secrets = boto3.client("secretsmanager", config=secrets_config())
    token = secrets.create_secret(Name="twilio", SecretString=json.dumps({"authToken": DEV_AUTH_TOKEN}))
    pepper = secrets.create_secret(Name="pepper", SecretString=DEV_PIN_PEPPER)
    config = local_settings(TWILIO_SECRET_ARN=token["ARN"], PIN_PEPPER_SECRET_ARN=pepper["ARN"])
    app = VoiceApp.on_table(config, dynamodb, Credentials(config, secrets_client=lambda: secrets))
    joined = parse(handle(app, twilio_post(PIN_URL, To=PIN_NUMBER, Digits=ALICE_PIN)))
    assert joined.find("Connect/Room").text == "ClinicRoom1"


# Malformed items in the table (moto).

CORRUPT_ITEMS = {
    "route-mode": {**route_key(PIN_NUMBER), "number": {"S": PIN_NUMBER}, "mode": {"S": "telepathy"}},
    "route-number-type": {**route_key(PIN_NUMBER), "number": {"N": "15555550101"}},
    "route-room-control-chars": {
        **route_key(DIRECT),
        "number": {"S": DIRECT},
        "room": {"S": "Daily\x00Standup"},
    },
    "pin-room-too-long": {**pin_key(hash_pin(DEV_PIN_PEPPER, ALICE_PIN)), "room": {"S": "r" * 129}},
    "pin-validity-not-a-number": {
        **pin_key(hash_pin(DEV_PIN_PEPPER, ALICE_PIN)),
        "room": {"S": "ClinicRoom1"},
        "valid_until": {"S": "tomorrow"},
    },
}
# The unattested caller's counter on the PIN number (no StirVerstat in these calls).
OWN_COUNTER = caller_key(DEV_PIN_PEPPER, CALLER, PIN_NUMBER, attested=False)
CORRUPT_COUNTERS = {
    "counter-failures-text": {
        **OWN_COUNTER,
        "failures": {"S": "lots"},
        "window_start": {"N": "1"},
        "last_failure": {"N": "1"},
    },
    "counter-missing-attributes": {**OWN_COUNTER, "failures": {"N": "30"}},
}


@pytest.mark.parametrize("name", sorted(CORRUPT_ITEMS))
def test_malformed_item(voice_app: VoiceApp, dynamodb: Any, emitted: Callable[[], Emitted], name: str):
    dynamodb.put_item(TableName=TABLE, Item=CORRUPT_ITEMS[name])
    if name.startswith("pin-"):
        event = twilio_post(PIN_URL, To=PIN_NUMBER, Digits=ALICE_PIN)
    else:
        event = twilio_post(INCOMING, To=DIRECT if "control" in name else PIN_NUMBER)
    assert_polite_fault(handle(voice_app, event), emitted(), faults.MALFORMED_ITEM)


@pytest.mark.parametrize("name", sorted(CORRUPT_COUNTERS))
def test_malformed_counter_is_reported_and_read_as_none(
    voice_app: VoiceApp, dynamodb: Any, emitted: Callable[[], Emitted], name: str
):
    """Callers cannot write counters: a corrupt one is our bug, and must not shut a caller
    out for good (it may have no expiry). Reported like any malformed item, read as none."""
    dynamodb.put_item(TableName=TABLE, Item=CORRUPT_COUNTERS[name])
    root = parse(handle(voice_app, twilio_post(INCOMING, To=PIN_NUMBER)))
    assert verbs(root) == ["Gather"]
    out = emitted()
    assert [r["kind"] for r in out.logs() if r.get("message") == "service fault"] == [faults.MALFORMED_ITEM]
    assert out.metrics().get("FaultMalformedItem") == 1


def test_next_failure_overwrites_a_malformed_counter(voice_app: VoiceApp, dynamodb: Any):
    dynamodb.put_item(TableName=TABLE, Item=CORRUPT_COUNTERS["counter-missing-attributes"])
    root = parse(handle(voice_app, twilio_post(PIN_URL, To=PIN_NUMBER, Digits=WRONG)))
    assert verbs(root) == ["Gather"]  # counted as the first failure of a new window
    item = dynamodb.get_item(TableName=TABLE, Key=OWN_COUNTER)["Item"]
    assert Counter.from_item(item).failures == 1


# The fallback route: no table, no secret, not even a readable body.


class Exploding:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the fallback touched {name}")


@pytest.mark.parametrize(
    "body",
    ["ErrorCode=11200&ErrorUrl=https%3A%2F%2Fexample.com%2Fvoice%2Fincoming&CallSid=CA1", "", "%%%\x00"],
)
def test_fallback_needs_no_table_or_secret(emitted: Callable[[], Emitted], body: str):
    app = VoiceApp(local_settings(), Exploding(), Exploding(), Exploding())  # type: ignore[arg-type]
    event = fallback_post(body)
    root = parse(handle(app, event))
    assert verbs(root) == ["Say", "Hangup"] and said(root) == messages.UNAVAILABLE
    out = emitted()
    assert out.metrics().get("FallbackAnswered") == 1
    codes = [r.get("error_code") for r in out.logs() if r.get("message") == "fallback answered"]
    assert codes == (["11200"] if body.startswith("ErrorCode") else [""])


def test_fallback_base64_garbage_body(emitted: Callable[[], Emitted]):
    app = VoiceApp(local_settings(), Exploding(), Exploding(), Exploding())  # type: ignore[arg-type]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x", "not a form")
    event = fallback_post(buffer.getvalue(), base64_body=True)
    assert said(parse(handle(app, event))) == messages.UNAVAILABLE


# Every function: one injected fault (DynamoDB throttling each request of one client),
# through the real handler, is one `service fault` line with its kind and Fault<kind>.


def throttled_client() -> Any:
    """A DynamoDB client whose every request is refused as throttled (before it is sent)."""
    client = dynamodb_client()
    client.meta.events.register("before-call.dynamodb", throttle)
    return client


def assert_reported(out: Emitted, step: str, kind: str = faults.THROTTLED) -> dict[str, Any]:
    """One `service fault` line (step, kind, cause), ServiceFaults and Fault<kind> in the EMF."""
    lines = [r for r in out.logs() if r.get("message") == "service fault"]
    cause = "ThrottlingException" if kind == faults.THROTTLED else "CredentialsUnavailable"
    assert [(r["step"], r["kind"], r["cause"]) for r in lines] == [(step, kind, cause)]
    assert "Rate exceeded" not in json.dumps(lines)  # never the fault's message
    metrics = out.metrics()
    assert (metrics.get("ServiceFaults"), metrics.get(f"Fault{kind}")) == (1, 1)
    return lines[0]


@pytest.fixture
def room_events_on(monkeypatch: pytest.MonkeyPatch) -> Callable[[RoomEventsApp], RoomHandler]:
    """The real functions/room_events/app.py handler, with the app a test gives it."""
    route = next(r for r in api_routes(load()) if r.path == "/video/status")
    module, _ = load_handler(route.code_dir, route.handler)

    def wire(app: RoomEventsApp) -> RoomHandler:
        monkeypatch.setattr(module, "room_events", app)
        return RoomHandler(module, app)

    return wire


NO_CALLS_API = "http://127.0.0.1:9"  # never reached: the table fails first


def test_voice_function_reports_a_fault(emitted: Callable[[], Emitted]):
    response = handle(local_app(throttled_client()), twilio_post(INCOMING, To=DIRECT))
    out = emitted()
    assert_polite_fault(response, out, faults.THROTTLED)
    assert_reported(out, "incoming")


def test_room_events_function_reports_a_fault_in_a_callback(
    room_events_on: Callable[[RoomEventsApp], RoomHandler], emitted: Callable[[], Emitted]
):
    clock = Clock()
    rooms = room_events_on(room_events_app(throttled_client(), clock, NO_CALLS_API))
    response = rooms(room_callback("room-created", "Standup", clock.now))
    assert (response["statusCode"], response["body"]) == (500, "Unavailable")
    assert_reported(emitted(), "room event")


def test_room_events_function_reports_a_fault_in_the_phone_only_sweep(
    room_events_on: Callable[[RoomEventsApp], RoomHandler], emitted: Callable[[], Emitted]
):
    rooms = room_events_on(room_events_app(throttled_client(), Clock(), NO_CALLS_API))
    assert rooms(SCHEDULED) == {"ended": 0, "fault": faults.THROTTLED}
    assert_reported(emitted(), "phone-only sweep")


def test_room_events_function_reports_pins_not_revoked(
    rooms: RoomHandler, clock: Clock, monkeypatch: pytest.MonkeyPatch, emitted: Callable[[], Emitted]
):
    """The room's state is saved (the callback answers 200); only revoking its PINs failed."""
    monkeypatch.setattr(rooms.app, "on_room_ended", pin_revoker(throttled_client(), TABLE))
    assert rooms(room_callback("room-created", "Standup", clock.now))["statusCode"] == 200
    emitted()
    assert rooms(room_callback("room-ended", "Standup", clock.now + 60))["statusCode"] == 200
    assert assert_reported(emitted(), "pins revocation")["room"] == "Standup"


def _dial_out(app: DialOutApp, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    module = dial_out_module()
    monkeypatch.setattr(module, "dial_out", app)
    event = calls_event({"to": "+14155550123", "room": "Standup"})
    return module.lambda_handler(event, LocalContext(function_name="DialOutFunction"))


@pytest.mark.parametrize("fault", ["rate", "credentials"])
def test_dial_out_function_reports_a_fault(
    monkeypatch: pytest.MonkeyPatch, emitted: Callable[[], Emitted], twilio: FakeTwilio, fault: str
):
    account = ACCOUNT_SID if fault == "rate" else ""
    credentials = Credentials(local_settings(TWILIO_ACCOUNT_SID=account, TWILIO_AUTH_TOKEN=AUTH_TOKEN))
    settings = DialOutSettings.from_env({"DIALOUT_CALLER_NUMBER": "+14155550100"})
    rate = CallRate(throttled_client(), TABLE) if fault == "rate" else None
    response = _dial_out(DialOutApp(settings, credentials, http_client=twilio, rate=rate), monkeypatch)
    assert response["statusCode"] == 503 and twilio.sent == []
    if fault == "rate":
        line = assert_reported(emitted(), "dial-out rate")
    else:
        line = assert_reported(emitted(), "dial-out", faults.SECRETS_UNAVAILABLE)
    assert (line["to"], line["room"]) == ("+1…23", "Standup")


def test_admin_function_reports_a_fault(monkeypatch: pytest.MonkeyPatch, emitted: Callable[[], Emitted]):
    module = admin_module()
    app = AdminApp(Admin(throttled_client(), TABLE, DEV_PIN_PEPPER))
    monkeypatch.setattr(module, "admin", app)
    status, body = AdminHandler(module, app).call("GET", "/admin/routes")
    assert (status, body["error"]) == (503, "unavailable")
    assert assert_reported(emitted(), "admin")["route"] == "GET /admin/routes"


def test_only_edge_faults_reports_a_fault():
    """Every function reports through ``edge.faults.report``: a reporter of its own would
    drift (four did, and counted no Fault<kind>)."""
    reporters = sorted(
        str(path.relative_to(folder.parent))
        for folder in SOURCES
        for path in folder.rglob("*.py")
        if any(text in path.read_text(encoding="utf-8") for text in ('"ServiceFaults"', '"service fault"'))
    )
    assert reporters == ["dialin/edge/faults.py"]
