"""Which table admin commands change: the embedded table of a running `dialin serve`
(``--local``), or a deployed stack's (``--stack NAME``: its outputs name the table and the
secret holding the PIN pepper; without --stack, the stack named in samconfig.toml)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from dialin.admin.table import Admin
from dialin.core.pins import MAX_PIN_LENGTH, MIN_PIN_LENGTH, RECOMMENDED_PIN_LENGTH
from dialin.guard.lockout import LockoutPolicy
from dialin_tools.errors import Invalid, NotFound, Unreachable
from dialin_tools.lib.apigw import DEV_PIN_PEPPER
from dialin_tools.lib.sample_events import LOCAL_TABLE
from dialin_tools.lib.stack import describe_stack

if TYPE_CHECKING:
    from dialin_tools.commands.admin.remote import RemoteAdmin

LOCAL_HOST = "127.0.0.1"
LOCAL_DYNAMODB_PORT = 8000  # the port DynamoDB Local uses
LOCAL_ENDPOINT = f"http://{LOCAL_HOST}:{LOCAL_DYNAMODB_PORT}"
# Points every `--local` command at another `dialin serve`'s DynamoDB (as DIALIN_URL does --url).
DYNAMODB_URL_ENV = "DIALIN_DYNAMODB_URL"
LOCAL_REGION = "us-east-1"


@dataclass
class Target:
    admin: Admin | RemoteAdmin
    where: str  # for messages: "the local table dialin-local", "table X of stack Y"
    local: bool
    remote: bool = False  # through the admin API (--url): ``admin`` is a RemoteAdmin
    lockout: LockoutPolicy = field(
        default_factory=LockoutPolicy
    )  # the stack's Lockout* parameters (defaults locally)


def local_client(endpoint: str = LOCAL_ENDPOINT) -> Any:
    """A client for the embedded DynamoDB: fixed fake credentials, never the user's."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=LOCAL_REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto accepts anything
        config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
    )


# The stack parameters of the lockout rules, and the environment variables they set.
LOCKOUT_PARAMETERS = {
    "LockoutFailures": "LOCKOUT_FAILURES",
    "LockoutWindowSeconds": "LOCKOUT_WINDOW_SECONDS",
    "LockoutSeconds": "LOCKOUT_SECONDS",
}


def local_target(endpoint: str = LOCAL_ENDPOINT, table: str = LOCAL_TABLE) -> Target:
    admin = Admin(local_client(endpoint), table, DEV_PIN_PEPPER)
    # `dialin serve` takes LOCKOUT_* from its environment, else the template's defaults.
    policy = _lockout_policy({name: os.environ.get(env, "") for name, env in LOCKOUT_PARAMETERS.items()})
    return Target(admin, f"the local table {table} at {endpoint}", local=True, lockout=policy)


def stack_target(stack: str, session: Any) -> Target:
    """The table, pepper and PIN length of a deployed stack, from its outputs and parameters."""
    outputs, params = describe_stack(session.client("cloudformation"), stack)
    table, secret = outputs.get("TableName"), outputs.get("PinPepperSecretArn")
    if not table or not secret:
        raise Invalid(f"stack {stack} has no TableName and PinPepperSecretArn outputs: is it this project's?")
    try:
        min_length = min(
            max(int(params.get("MinPinLength") or MIN_PIN_LENGTH), MIN_PIN_LENGTH), MAX_PIN_LENGTH
        )
    except ValueError:
        min_length = MIN_PIN_LENGTH
    try:
        pin_length = int(params.get("PinLength") or RECOMMENDED_PIN_LENGTH)
    except ValueError:
        pin_length = RECOMMENDED_PIN_LENGTH
    secrets = session.client("secretsmanager")

    def pepper() -> str:
        value = secrets.get_secret_value(SecretId=secret).get("SecretString") or ""
        if not value:
            raise Invalid(f"the PIN pepper secret of stack {stack} is empty")
        return value

    admin = Admin(session.client("dynamodb"), table, pepper, min_pin_length=min_length, pin_length=pin_length)
    return Target(admin, f"table {table} of stack {stack}", local=False, lockout=_lockout_policy(params))


def _lockout_policy(params: dict[str, str]) -> LockoutPolicy:
    defaults = LockoutPolicy()
    try:
        return LockoutPolicy(
            max_failures=int(params.get("LockoutFailures") or defaults.max_failures),
            window_seconds=int(params.get("LockoutWindowSeconds") or defaults.window_seconds),
            lock_seconds=int(params.get("LockoutSeconds") or defaults.lock_seconds),
        )
    except ValueError:
        return defaults


def aws_session(region: str = "") -> Any:
    import boto3

    return boto3.session.Session(region_name=region or None)


@contextlib.contextmanager
def aws_errors(local: bool) -> Iterator[None]:
    """AWS and connection failures as one clear line each, without a traceback."""
    try:
        yield
    except NoCredentialsError:
        raise Unreachable(
            "no AWS credentials found: configure them (aws configure, AWS_PROFILE) or use --local"
        ) from None
    except NoRegionError:
        raise Unreachable("no AWS region: give --region or set AWS_REGION") from None
    except EndpointConnectionError as exc:
        hint = " Is `dialin serve` running (and on this --endpoint-url)?" if local else ""
        raise Unreachable(
            f"cannot connect to {exc.kwargs.get('endpoint_url', 'the endpoint')}.{hint}"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code == "ResourceNotFoundException" and local:
            raise NotFound("the local table does not exist: start `dialin serve` first") from None
        if code == "ValidationError" and "does not exist" in message:
            raise NotFound(f"{message} (give --stack NAME, or --local)") from None
        raise Unreachable(f"AWS refused: {code}: {message}") from None
    except BotoCoreError as exc:
        raise Unreachable(f"AWS call failed: {exc}") from None
