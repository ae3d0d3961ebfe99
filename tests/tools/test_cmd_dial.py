"""`dialin dial`, run as the CLI runs it, against HTTP servers on 127.0.0.1: a SigV4-checking
stand-in for API Gateway, and the real DialOutFunction in dry-run mode behind a local server."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from support.dial_events import dial_out_module
from support.local_http import Received, serve
from support.registered import run_registered
from support.stack_stub import OUTPUTS, STACK, cloudformation
from support.voice import local_settings

from dialin.dialout.app import DialOutApp
from dialin.dialout.request import DialOutSettings
from dialin.edge.credentials import Credentials
from dialin_tools.commands.dial import cli as cmd_dial
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.lib.apigw import rest_event
from dialin_tools.lib.faultinject import closed_endpoint
from dialin_tools.lib.sigv4 import region_from_url

CALLEE = "+14155550123"
ROOM = "DailyStandup"
# conftest's fake AWS credentials
ACCESS_KEY, SECRET_KEY, SESSION_TOKEN = "testing", "testing", "testing"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/execute-api/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def sigv4_valid(request: Received, secret_key: str, body: bytes | None = None) -> bool:
    """Check the signature the way API Gateway does, written out from the SigV4 spec."""
    match = AUTHORIZATION.fullmatch(request.headers["Authorization"])
    assert match, request.headers["Authorization"]
    signed = match["signed"].split(";")
    canonical_headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed)
    path, _, query = request.path.partition("?")
    payload = request.body if body is None else body
    canonical_request = "\n".join(
        [request.method, path, query, canonical_headers, match["signed"], hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{match['date']}/{match['region']}/execute-api/aws4_request"
    amz_date = request.headers["X-Amz-Date"]
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (match["date"], match["region"], "execute-api", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match["signature"])


@dataclass
class Cli:
    capsys: pytest.CaptureFixture[str]
    cfn: Any = None
    session_factory: Any = None

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        def register(commands: Any) -> None:
            cmd_dial.register(
                commands, cloudformation=lambda region: self.cfn, session_factory=self.session_factory
            )

        return run_registered(register, argv, self.capsys)


def placed(request: Received) -> tuple[int, Any]:
    return 201, {"callSid": "CA" + "7" * 32, "status": "queued", "room": ROOM, "identity": "phone-0123-abcde"}


def test_stack_request_is_sigv4_signed_with_the_users_credentials(capsys: pytest.CaptureFixture[str]):
    with serve(placed) as (base, received):
        cli = Cli(capsys, cloudformation({**OUTPUTS, "DialOutUrl": f"{base}/Prod/calls"}))
        code, out, _ = cli("dial", "--to", CALLEE, "--room", ROOM, "--identity", "dr-jones", "--stack", STACK)
    assert code == 0
    assert out == f"Calling: {'CA' + '7' * 32} joins room {ROOM} as phone-0123-abcde.\n"
    [request] = received
    assert (request.method, request.path) == ("POST", "/Prod/calls")
    assert json.loads(request.body) == {"to": CALLEE, "room": ROOM, "identity": "dr-jones"}
    match = AUTHORIZATION.fullmatch(request.headers["Authorization"])
    assert match is not None
    assert (match["key"], match["region"]) == (ACCESS_KEY, "us-east-1")  # the session's region
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(match["signed"].split(";"))
    assert request.headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert match["date"] == request.headers["X-Amz-Date"][:8]
    assert sigv4_valid(request, SECRET_KEY)
    # The signature covers the body and the secret: neither can change.
    assert not sigv4_valid(request, SECRET_KEY, body=request.body.replace(b"dr-jones", b"mallory"))
    assert not sigv4_valid(request, "another-secret")


def test_region_option_names_the_signing_region(capsys: pytest.CaptureFixture[str]):
    with serve(placed) as (base, received):
        cli = Cli(capsys, cloudformation({**OUTPUTS, "DialOutUrl": f"{base}/Prod/calls"}))
        assert cli("dial", "--to", CALLEE, "--room", ROOM, "--stack", STACK, "--region", "eu-west-1")[0] == 0
    match = AUTHORIZATION.fullmatch(received[0].headers["Authorization"])
    assert match["region"] == "eu-west-1"
    assert sigv4_valid(received[0], SECRET_KEY)


def test_region_comes_from_an_execute_api_url():
    assert (
        region_from_url("https://abc123.execute-api.ap-southeast-2.amazonaws.com/Prod/calls")
        == "ap-southeast-2"
    )
    assert region_from_url("https://voice.example.com/calls") is None


def test_without_aws_credentials_nothing_is_sent(capsys: pytest.CaptureFixture[str]):
    @dataclass
    class NoCredentials:
        region_name: str = "us-east-1"

        def get_credentials(self) -> None:
            return None

    with serve(placed) as (base, received):
        cli = Cli(
            capsys, cloudformation({**OUTPUTS, "DialOutUrl": f"{base}/Prod/calls"}), lambda r: NoCredentials()
        )
        code, _, err = cli("dial", "--to", CALLEE, "--room", ROOM, "--stack", STACK)
    assert (code, err) == (1, "dialin dial: no AWS credentials found to sign the request\n")
    assert received == []


def test_iam_refusal_explains_the_policy(capsys: pytest.CaptureFixture[str]):
    def forbidden(request: Received) -> tuple[int, Any]:
        user = "arn:aws:iam::123456789012:user/ops"
        return 403, {"message": f"User: {user} is not authorized to perform: execute-api:Invoke"}

    with serve(forbidden) as (base, _):
        cli = Cli(capsys, cloudformation({**OUTPUTS, "DialOutUrl": f"{base}/Prod/calls"}))
        code, _, err = cli("dial", "--to", CALLEE, "--room", ROOM, "--stack", STACK)
    assert code == 1
    assert err.startswith("dialin dial: HTTP 403: User: arn:aws:iam::123456789012:user/ops is not authorized")
    assert "DialOutPolicyArn" in err


def test_twilio_refusal_shows_twilios_code(capsys: pytest.CaptureFixture[str]):
    def rejected(request: Received) -> tuple[int, Any]:
        body = {"error": "twilio_rejected", "message": "not a valid phone number", "twilioCode": 21211}
        return 422, {**body, "moreInfo": "https://www.twilio.com/docs/errors/21211"}

    with serve(rejected) as (base, _):
        code, _, err = Cli(capsys)("dial", "--to", CALLEE, "--room", ROOM, "--url", base)
    assert code == 1
    assert err == (
        "dialin dial: HTTP 422: not a valid phone number\n"
        "Twilio error 21211: https://www.twilio.com/docs/errors/21211\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "4155550123", "--room", ROOM], "dialin dial: --to must be an E.164 number"),
        (["--to", CALLEE, "--room", ROOM, "--from", "+1"], "dialin dial: --from must be an E.164 number"),
        (["--to", CALLEE, "--room", "r" * 129], "dialin dial: --room is longer than 128 characters"),
        (["--to", CALLEE, "--room", ROOM, "--identity", ""], "dialin dial: --identity is empty"),
    ],
)
def test_bad_arguments_send_nothing(capsys: pytest.CaptureFixture[str], argv: list[str], message: str):
    with serve(placed) as (base, received):
        code, _, err = Cli(capsys)("dial", *argv, "--url", base)
    assert code == 2
    assert err.startswith(message)
    assert received == []


def test_stack_and_url_are_exclusive(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        Cli(capsys)("dial", "--to", CALLEE, "--room", ROOM, "--stack", STACK, "--url", "http://127.0.0.1:1")
    assert exit_.value.code == 2


def test_unreachable_url(capsys: pytest.CaptureFixture[str]):
    with closed_endpoint() as url:
        code, _, err = Cli(capsys)("dial", "--to", CALLEE, "--room", ROOM, "--url", url)
    assert code == 2  # every "cannot reach" is exit 2, as dialin call and the admin commands
    assert err.startswith(f"dialin dial: cannot reach {url}/calls")


def test_answer_without_a_target_plays_against_the_local_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """--answer only plays a local call, so like `dialin call` it finds `make run`'s port 3000."""
    monkeypatch.delenv("DIALIN_URL", raising=False)
    with closed_endpoint() as url:
        monkeypatch.setattr(cmd_dial, "DEFAULT_URL", url)
        code, _, err = Cli(capsys)("dial", "--to", CALLEE, "--room", ROOM, "--answer")
        without_answer = Cli(capsys)("dial", "--to", CALLEE, "--room", ROOM)
    assert code == 2
    assert err.startswith(f"dialin dial: cannot reach {url}/calls")
    assert without_answer[0] == 2  # a real dial-out still names its target
    assert "give --stack NAME" in without_answer[2]


@pytest.fixture
def local_dial_out(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real DialOutFunction as `dialin serve` runs it: DIALOUT_DRY_RUN=true, no IAM."""
    module = dial_out_module()

    def answer(request: Received) -> tuple[int, Any]:
        host = request.headers["Host"]
        # As `dialin serve` configures it: its own URL is the public base URL.
        env = {
            "DIALOUT_DRY_RUN": "true",
            "DIALOUT_CALLER_NUMBER": "+15555550100",
            "DIALOUT_ALLOWED_PREFIXES": "+1",
            "PUBLIC_BASE_URL": f"http://{host}",
        }
        app = DialOutApp(DialOutSettings.from_env(env), Credentials(local_settings()))
        monkeypatch.setattr(module, "dial_out", app)
        headers = {name: value for name, value in request.headers.items()}
        headers.update({"X-Forwarded-Proto": "http", "X-Forwarded-Port": host.partition(":")[2]})
        event = rest_event(
            method=request.method,
            resource="/calls",
            path="/calls",
            stage="",
            headers=headers,
            body=request.body,
        )
        response = module.lambda_handler(event, LocalContext("DialOutFunction"))
        return response["statusCode"], response["body"]

    return answer


def test_local_server_shows_the_request_that_would_go_to_twilio(
    capsys: pytest.CaptureFixture[str], local_dial_out: Any
):
    with serve(local_dial_out) as (base, received):
        code, out, _ = Cli(capsys)(
            "dial", "--to", CALLEE, "--room", ROOM, "--identity", "dr-jones", "--no-confirm", "--url", base
        )
    assert code == 0
    assert "Authorization" not in received[0].headers  # the local server has no IAM
    # In this process the handler's own metrics land on stdout too; the command's output follows.
    out = "".join(line for line in out.splitlines(keepends=True) if not line.startswith('{"_aws"'))
    heading, _, rest = out.partition("\n")
    assert heading == "Dry run: no call was placed. This is the request Twilio would have received:"
    shown, _, footer = rest.rpartition("}\n")
    request = json.loads(shown + "}")
    assert footer == f"Room {ROOM}, identity dialout-dr-jones.\n"
    assert request["method"] == "POST"
    assert request["url"].endswith("/Calls.json")
    data = request["data"]
    assert (data["To"], data["From"], data["Timeout"]) == (CALLEE, "+15555550100", 30)
    assert data["StatusCallback"] == f"{base}/voice/status"
    assert f'<Room participantIdentity="dialout-dr-jones">{ROOM}</Room>' in data["Twiml"]
    assert f'<Redirect method="POST">{base}/voice/wait?' in data["Twiml"]
