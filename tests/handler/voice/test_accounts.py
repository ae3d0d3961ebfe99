"""Several Twilio accounts on one stack: the signature is checked with the token of the
account named by the request's AccountSid (unknown accounts: 403), and a route may belong to
one account. Secrets on moto, as deployed; the local rule from the environment."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from support.admin_events import admin_event
from support.callers import ALICE_PIN, PIN_NUMBER, gather_action
from support.twiml import parse
from support.voice import BASE, TABLE, Clock, local_settings

from dialin.admin.api import AdminApp
from dialin.admin.specs import make_pin_spec, make_route
from dialin.admin.table import Admin
from dialin.core.config import Settings
from dialin.core.errors import CredentialsUnavailable
from dialin.edge.credentials import Credentials
from dialin.voice.app import VoiceApp
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, signed_twilio_event

MAIN = "AC" + "0" * 32
CUSTOMER = "AC" + "1" * 32
STRANGER = "AC" + "2" * 32
PREFIX = "dialin-stack/twilio/"


class CountingClient:
    def __init__(self) -> None:
        self.client = boto3.client("secretsmanager", region_name="us-east-1")
        self.reads: list[str] = []

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        self.reads.append(kwargs["SecretId"])
        return self.client.get_secret_value(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def put_secret(name: str, account: str, token: str) -> str:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    return client.create_secret(
        Name=name, SecretString=json.dumps({"accountSid": account, "authToken": token})
    )["ARN"]


@pytest.fixture
def deployed(dynamodb: Any) -> dict[str, str]:
    pepper = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="pepper", SecretString=DEV_PIN_PEPPER
    )["ARN"]
    put_secret(f"{PREFIX}{CUSTOMER}", CUSTOMER, "customer-token")
    return {
        "TABLE_NAME": TABLE,
        "TWILIO_SECRET_ARN": put_secret("twilio", MAIN, "main-token"),
        "PIN_PEPPER_SECRET_ARN": pepper,
        "TWILIO_ACCOUNTS": f"{CUSTOMER}, not-a-sid",
        "TWILIO_ACCOUNT_SECRET_PREFIX": PREFIX,
    }


def app_for(env: dict[str, str], dynamodb: Any, client: Any = None) -> VoiceApp:
    settings = Settings.from_env(env)
    factory = (lambda: client) if client is not None else None
    return VoiceApp.on_table(settings, dynamodb, Credentials(settings, secrets_client=factory), clock=Clock())


def incoming(app: VoiceApp, account: str | None, token: str, to: str = "+15555550100") -> dict[str, Any]:
    form = {"CallSid": "CA" + "3" * 32, "From": "+14155550123", "To": to}
    if account is not None:
        form["AccountSid"] = account
    event = signed_twilio_event(
        base_url=BASE, route="/voice/incoming", params=form, stage="Prod", token=token
    )
    return app.handle(event)


def test_each_account_is_checked_with_its_own_token(deployed: dict[str, str], dynamodb: Any):
    app = app_for(deployed, dynamodb)
    assert incoming(app, MAIN, "main-token")["statusCode"] == 200
    assert incoming(app, CUSTOMER, "customer-token")["statusCode"] == 200
    assert parse(incoming(app, CUSTOMER, "customer-token")).find("Connect/Room").text == "DailyStandup"
    # The other account's token, an unknown account, no account at all: refused.
    assert incoming(app, CUSTOMER, "main-token")["statusCode"] == 403
    assert incoming(app, MAIN, "customer-token")["statusCode"] == 403
    assert incoming(app, STRANGER, "main-token")["statusCode"] == 403
    assert incoming(app, None, "main-token")["statusCode"] == 403


def test_an_unknown_account_costs_no_secret_read(deployed: dict[str, str], dynamodb: Any):
    counting = CountingClient()
    app = app_for(deployed, dynamodb, counting)
    assert incoming(app, MAIN, "main-token")["statusCode"] == 200
    before = len(counting.reads)
    for _ in range(3):
        assert incoming(app, STRANGER, "main-token")["statusCode"] == 403
    assert counting.reads[before:] == []  # the main secret is cached; no other is looked up


def test_an_account_secret_that_names_another_account_signs_nothing(deployed: dict[str, str], dynamodb: Any):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.put_secret_value(
        SecretId=f"{PREFIX}{CUSTOMER}",
        SecretString=json.dumps({"accountSid": MAIN, "authToken": "customer-token"}),
    )
    assert incoming(app_for(deployed, dynamodb), CUSTOMER, "customer-token")["statusCode"] == 403


def test_an_extra_accounts_previous_token_is_accepted_during_its_rotation(
    deployed: dict[str, str], dynamodb: Any
):
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=f"{PREFIX}{CUSTOMER}",
        SecretString=json.dumps({"accountSid": CUSTOMER, "authToken": "rotated"}),
    )
    app = app_for(deployed, dynamodb)
    assert incoming(app, CUSTOMER, "rotated")["statusCode"] == 200
    assert incoming(app, CUSTOMER, "customer-token")["statusCode"] == 200
    assert incoming(app, CUSTOMER, "main-token")["statusCode"] == 403


def test_a_secret_without_its_account_sid_signs_for_any_account_as_before(
    deployed: dict[str, str], dynamodb: Any
):
    env = {**deployed, "TWILIO_SECRET_ARN": put_secret("unset", "ACreplace-me", "main-token")}
    app = app_for(env, dynamodb)
    assert incoming(app, STRANGER, "main-token")["statusCode"] == 200
    assert incoming(app, CUSTOMER, "main-token")["statusCode"] == 403  # a known account: its own token


def test_locally_any_account_unless_twilio_account_sid_is_set(dynamodb: Any):
    credentials_of = lambda settings: Credentials(settings)  # noqa: E731
    anyone = VoiceApp.on_table(local_settings(), dynamodb, credentials_of(local_settings()), clock=Clock())
    assert incoming(anyone, STRANGER, DEV_AUTH_TOKEN)["statusCode"] == 200
    assert incoming(anyone, None, DEV_AUTH_TOKEN)["statusCode"] == 200
    settings = local_settings(TWILIO_ACCOUNT_SID=MAIN)
    one = VoiceApp.on_table(settings, dynamodb, credentials_of(settings), clock=Clock())
    assert incoming(one, MAIN, DEV_AUTH_TOKEN)["statusCode"] == 200
    assert incoming(one, STRANGER, DEV_AUTH_TOKEN)["statusCode"] == 403
    # `dialin serve` names an account for its REST stand-in only: any account still passes.
    settings = local_settings(TWILIO_ACCOUNT_SID=MAIN, TWILIO_ANY_ACCOUNT="true")
    served = VoiceApp.on_table(settings, dynamodb, credentials_of(settings), clock=Clock())
    assert incoming(served, STRANGER, DEV_AUTH_TOKEN)["statusCode"] == 200


def test_a_route_of_one_account_answers_only_that_accounts_calls(deployed: dict[str, str], dynamodb: Any):
    Admin(dynamodb, TABLE, DEV_PIN_PEPPER).add_route(
        make_route("+15551239999", room="Tenant", account=CUSTOMER)
    )
    app = app_for(deployed, dynamodb)
    joined = parse(incoming(app, CUSTOMER, "customer-token", to="+15551239999"))
    assert joined.find("Connect/Room").text == "Tenant"
    refused = parse(incoming(app, MAIN, "main-token", to="+15551239999"))
    assert refused.find("Connect") is None  # as an unknown number


def test_calls_api_requests_use_the_rooms_account(deployed: dict[str, str], dynamodb: Any):
    from dialin.edge.rest import ClientCache

    clients = ClientCache(Credentials(Settings.from_env(deployed)))
    main, customer = clients.get(), clients.get(CUSTOMER)
    assert (main.username, main.password) == (MAIN, "main-token")
    assert (customer.username, customer.password) == (CUSTOMER, "customer-token")
    assert clients.get(MAIN) is main and clients.get(CUSTOMER) is customer  # once per container
    with pytest.raises(CredentialsUnavailable):
        clients.get(STRANGER)


def test_room_callbacks_are_checked_with_the_rooms_account_token(deployed: dict[str, str], dynamodb: Any):
    from dialin.rooms.events import RoomEventsApp

    settings = Settings.from_env(deployed)
    app = RoomEventsApp.on_table(settings, dynamodb, Credentials(settings), clock=Clock())
    params = {"AccountSid": CUSTOMER, "RoomName": "Tenant", "RoomSid": "RM" + "1" * 32}
    params |= {"StatusCallbackEvent": "room-created", "RoomStatus": "in-progress"}

    def post(token: str) -> int:
        event = signed_twilio_event(
            base_url=BASE, route="/video/status", params=params, stage="Prod", token=token
        )
        return int(app.handle(event)["statusCode"])

    assert post("customer-token") == 200
    assert post("main-token") == 403


# Tenants apart: a PIN names its account; one without is the main account's.

BOARD_PIN = "73924618"


def pin_call(app: VoiceApp, account: str, token: str, digits: str) -> ET.Element:
    """A call to the seeded PIN number of ``account`` entering ``digits``: the answer."""
    form = {"CallSid": "CA" + "4" * 32, "From": "+14155550123", "To": PIN_NUMBER, "AccountSid": account}
    asked = parse(
        app.handle(
            signed_twilio_event(
                base_url=BASE, route="/voice/incoming", params=form, stage="Prod", token=token
            )
        )
    )
    action = urlsplit(gather_action(asked))
    event = signed_twilio_event(
        base_url=BASE,
        route=action.path.removeprefix("/Prod"),
        params={**form, "Digits": digits},
        query=parse_qsl(action.query, keep_blank_values=True),
        stage="Prod",
        token=token,
    )
    return parse(app.handle(event))


def joined_room(root: ET.Element) -> str | None:
    room = root.find("Connect/Room")
    return None if room is None else room.text


def test_a_pin_of_one_account_is_unknown_on_anothers_calls(deployed: dict[str, str], dynamodb: Any):
    admin = Admin(dynamodb, TABLE, DEV_PIN_PEPPER)
    admin.create_pin(make_pin_spec("Board"), BOARD_PIN, account=CUSTOMER)
    app = app_for(deployed, dynamodb)
    assert joined_room(pin_call(app, CUSTOMER, "customer-token", BOARD_PIN)) == "Board"
    assert joined_room(pin_call(app, MAIN, "main-token", BOARD_PIN)) is None  # a wrong PIN there
    # A PIN without an account is the main account's: unknown on the further account's calls.
    assert joined_room(pin_call(app, MAIN, "main-token", ALICE_PIN)) is not None
    assert joined_room(pin_call(app, CUSTOMER, "customer-token", ALICE_PIN)) is None


def test_one_tenants_room_ended_never_revokes_anothers_pins(deployed: dict[str, str], dynamodb: Any):
    from dialin.rooms.events import RoomEventsApp

    admin = Admin(dynamodb, TABLE, DEV_PIN_PEPPER)
    mains, _ = admin.create_pin(make_pin_spec("Board"), "51739264", ends_with_room=True)  # no account: main's
    admin.create_pin(make_pin_spec("Board"), BOARD_PIN, ends_with_room=True, account=CUSTOMER)
    settings = Settings.from_env(deployed)
    clock = Clock()
    clock.now += 60
    app = RoomEventsApp.on_table(settings, dynamodb, Credentials(settings), clock=clock)

    def ended(account: str, token: str) -> None:
        params = {"AccountSid": account, "RoomName": "Board", "RoomSid": "RM" + account[-1] * 32}
        params |= {"StatusCallbackEvent": "room-ended", "RoomStatus": "completed"}
        event = signed_twilio_event(
            base_url=BASE, route="/video/status", params=params, stage="Prod", token=token
        )
        assert app.handle(event)["statusCode"] == 200

    def live() -> set[str]:
        return {e.pin_id for e in admin.room_pins("Board")[0]}

    ended(CUSTOMER, "customer-token")
    assert live() == {mains.grant.pin_hash}  # only the customer's own PIN ended with its room
    ended(MAIN, "main-token")
    assert live() == set()


def test_with_several_accounts_pins_and_room_operations_name_theirs(deployed: dict[str, str], dynamodb: Any):
    admin = Admin(dynamodb, TABLE, DEV_PIN_PEPPER)
    api = AdminApp(admin, accounts=Settings.from_env(deployed).twilio_accounts)

    def call(
        method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        answer = api.handle(admin_event(method, path, body, query=query))
        return answer["statusCode"], json.loads(answer["body"])

    status, body = call("POST", "/admin/pins", {"room": "Board"})
    assert status == 400 and body["field"] == "account"  # nothing written
    assert admin.room_pins("Board")[0] == []
    assert call("POST", "/admin/pins", {"room": "Board", "account": CUSTOMER})[0] == 201
    assert call("POST", "/admin/pins", {"room": "Board", "account": MAIN})[0] == 201
    status, body = call("DELETE", "/admin/pins", query={"room": "Board"})
    assert status == 400 and body["field"] == "account" and len(admin.room_pins("Board")[0]) == 2
    status, body = call("GET", "/admin/pins", query={"room": "Board", "account": CUSTOMER})
    assert status == 200 and [p["account"] for p in body["pins"]] == [CUSTOMER]
    status, body = call("DELETE", "/admin/pins", query={"room": "Board", "account": CUSTOMER})
    assert status == 200 and len(body["revoked"]) == 1
    assert [e.account for e in admin.room_pins("Board")[0]] == [MAIN]  # the other tenant's stays


def test_a_listed_account_without_a_secret_costs_one_read_a_minute(deployed: dict[str, str], dynamodb: Any):
    """Anyone may name a listed account; its missing secret is not asked for at every request."""
    env = {**deployed, "TWILIO_ACCOUNTS": f"{CUSTOMER},{STRANGER}"}  # no secret for STRANGER
    counting, now = CountingClient(), [1000.0]
    settings = Settings.from_env(env)
    credentials = Credentials(settings, secrets_client=lambda: counting, clock=lambda: now[0])
    app = VoiceApp.on_table(settings, dynamodb, credentials, clock=Clock())
    for _ in range(3):
        answer = incoming(app, STRANGER, "any-token")
        assert answer["statusCode"] == 200 and parse(answer).find("Connect") is None  # polite, nothing joins
    missing = f"{PREFIX}{STRANGER}"
    assert counting.reads.count(missing) == 1
    now[0] += 61
    incoming(app, STRANGER, "any-token")
    assert counting.reads.count(missing) == 2
