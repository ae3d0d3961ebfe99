"""Auth tokens and the pepper from Secrets Manager (moto): rotation, caching, failure."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from support.twiml import parse
from support.voice import BASE, TABLE, Clock

from dialin.core.config import Settings
from dialin.core.errors import CredentialsUnavailable
from dialin.edge.credentials import Credentials
from dialin.voice.app import VoiceApp
from dialin_tools.lib.apigw import DEV_PIN_PEPPER, signed_twilio_event


class CountingClient:
    """A real moto Secrets Manager client that counts the reads made through it."""

    def __init__(self) -> None:
        self.client = boto3.client("secretsmanager", region_name="us-east-1")
        self.reads: list[str] = []

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        self.reads.append(kwargs.get("VersionStage", "AWSCURRENT"))
        return self.client.get_secret_value(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def secrets(aws: None) -> dict[str, str]:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    twilio = client.create_secret(
        Name="twilio", SecretString=json.dumps({"accountSid": "AC" + "0" * 32, "authToken": "token-one"})
    )["ARN"]
    pepper = client.create_secret(Name="pepper", SecretString=DEV_PIN_PEPPER)["ARN"]
    return {"TWILIO_SECRET_ARN": twilio, "PIN_PEPPER_SECRET_ARN": pepper, "TABLE_NAME": TABLE}


def _rotate(arn: str, token: str) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"accountSid": "AC" + "0" * 32, "authToken": token})
    )


def test_current_token_read_once_and_cached(secrets: dict[str, str]):
    counting = CountingClient()
    creds = Credentials(Settings.from_env(secrets), secrets_client=lambda: counting)
    for _ in range(5):
        assert next(creds.auth_tokens()) == "token-one"
    assert counting.reads == ["AWSCURRENT"]


def test_previous_token_is_accepted_during_rotation(secrets: dict[str, str]):
    _rotate(secrets["TWILIO_SECRET_ARN"], "token-two")
    counting = CountingClient()
    creds = Credentials(Settings.from_env(secrets), secrets_client=lambda: counting)
    assert list(creds.auth_tokens()) == ["token-two", "token-one"]
    assert list(creds.auth_tokens()) == ["token-two", "token-one"]
    assert counting.reads == ["AWSCURRENT", "AWSPREVIOUS"]


def test_missing_previous_version_is_cached_too(secrets: dict[str, str]):
    counting = CountingClient()
    creds = Credentials(Settings.from_env(secrets), secrets_client=lambda: counting)
    for _ in range(3):
        assert list(creds.auth_tokens()) == ["token-one"]
    assert counting.reads == ["AWSCURRENT", "AWSPREVIOUS"]


def test_placeholder_or_unreadable_secret_is_unavailable(aws: None):
    settings = Settings.from_env(
        {"TWILIO_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone"}
    )
    creds = Credentials(
        settings, secrets_client=lambda: boto3.client("secretsmanager", region_name="us-east-1")
    )
    with pytest.raises(CredentialsUnavailable):
        list(creds.auth_tokens())
    with pytest.raises(CredentialsUnavailable):
        Credentials(Settings.from_env({})).pepper()


def test_local_values_are_ignored_when_secret_arns_are_set(secrets: dict[str, str]):
    settings = Settings.from_env({**secrets, "TWILIO_AUTH_TOKEN": "local", "PIN_PEPPER": "local"})
    creds = Credentials(
        settings, secrets_client=lambda: boto3.client("secretsmanager", region_name="us-east-1")
    )
    assert list(creds.auth_tokens()) == ["token-one"]
    assert creds.pepper() == DEV_PIN_PEPPER


def test_deployed_configuration_end_to_end(secrets: dict[str, str], dynamodb: Any):
    """Secrets by ARN as in a deployed stack: an old-token request after rotation still joins."""
    _rotate(secrets["TWILIO_SECRET_ARN"], "token-two")
    settings = Settings.from_env(secrets)
    creds = Credentials(
        settings, secrets_client=lambda: boto3.client("secretsmanager", region_name="us-east-1")
    )
    app = VoiceApp.on_table(settings, dynamodb, creds, clock=Clock())
    form = {"CallSid": "CA1", "AccountSid": "AC" + "0" * 32, "From": "+14155550123", "To": "+15555550101"}
    prompt = parse(
        app.handle(
            signed_twilio_event(
                base_url=BASE, route="/voice/incoming", params=form, stage="Prod", token="token-one"
            )
        )
    )
    query = parse_qsl(urlsplit(prompt.find("Gather").get("action")).query)
    joined = parse(
        app.handle(
            signed_twilio_event(
                base_url=BASE,
                route="/voice/pin",
                params={**form, "Digits": "246810"},
                query=query,
                stage="Prod",
                token="token-two",
            )
        )
    )
    assert joined.find("Connect/Room").text == "ClinicRoom1"
    wrong = signed_twilio_event(
        base_url=BASE, route="/voice/incoming", params=form, stage="Prod", token="token-x"
    )
    assert app.handle(wrong)["statusCode"] == 403


def test_previous_token_ends_with_the_grace_period(secrets: dict[str, str]):
    """A leaked token stops working once the rotation that replaced it is older than the grace."""
    _rotate(secrets["TWILIO_SECRET_ARN"], "token-two")
    settings = Settings.from_env({**secrets, "TOKEN_ROTATION_GRACE_SECONDS": "3600"})
    wall = Clock(time.time())
    monotonic = Clock(0.0)
    creds = Credentials(settings, secrets_client=CountingClient, clock=monotonic, wall_clock=wall)
    assert list(creds.auth_tokens()) == ["token-two", "token-one"]
    wall.now += 3601
    monotonic.now += 301  # past the cached creation date and the cached previous token
    assert list(creds.auth_tokens()) == ["token-two"]


def test_grace_zero_never_accepts_the_previous_token(secrets: dict[str, str]):
    _rotate(secrets["TWILIO_SECRET_ARN"], "token-two")
    counting = CountingClient()
    settings = Settings.from_env({**secrets, "TOKEN_ROTATION_GRACE_SECONDS": "0"})
    creds = Credentials(settings, secrets_client=lambda: counting)
    assert list(creds.auth_tokens()) == ["token-two"]
    assert counting.reads == ["AWSCURRENT"]


def test_unknown_creation_date_fails_closed(secrets: dict[str, str]):
    _rotate(secrets["TWILIO_SECRET_ARN"], "token-two")

    class NoListing(CountingClient):
        def list_secret_version_ids(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "ListSecretVersionIds")

    creds = Credentials(Settings.from_env(secrets), secrets_client=NoListing)
    assert list(creds.auth_tokens()) == ["token-two"]
