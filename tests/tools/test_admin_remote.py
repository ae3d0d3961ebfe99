"""`dialin route|pin|lockout ... --url`: requests to a deployed admin API are SigV4-signed with the
user's AWS credentials; `dialin serve` on this machine gets them unsigned."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, unquote

import boto3
import pytest
from support.local_http import Received, serve

from dialin.admin.lockouts import ATTESTED, LockoutState
from dialin.core.errors import Conflict, Invalid
from dialin.core.records import Route
from dialin_tools.commands.admin.remote import RemoteAdmin, signer_for
from dialin_tools.lib.sigv4 import Signer

API = "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod"


def test_a_deployed_api_is_signed_for_its_region_and_a_local_one_is_not():
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="us-east-1"
    )
    signer = signer_for(API, session)
    assert signer is not None and signer.region == "eu-west-1"
    assert signer_for("http://127.0.0.1:3000", session) is None


def test_requests_carry_a_sigv4_signature_for_execute_api(aws: None):
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="us-east-1"
    )
    answer = {"number": "+15551230000", "mode": "direct", "room": "Board", "identity_policy": "last-digits"}

    def respond(request: Received) -> tuple[int, object]:
        return 201, answer

    with serve(respond) as (url, received):
        remote = RemoteAdmin(url, Signer(session.get_credentials(), "us-east-1"))
        route = remote.add_route(Route("+15551230000", room="Board"))
    assert route == Route("+15551230000", room="Board")
    [request] = received
    assert request.path == "/admin/routes"
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/execute-api/aws4_request" in authorization
    assert json.loads(request.body) == {
        "number": "+15551230000",
        "mode": "direct",
        "room": "Board",
        "identity_policy": "last-digits",
    }


@pytest.mark.parametrize(("status", "error"), [(400, Invalid), (409, Conflict)])
def test_api_errors_become_the_same_user_errors(status: int, error: type[Exception]):
    def respond(request: Received) -> tuple[int, object]:
        return status, {"error": "x", "field": "room", "message": "room is empty"}

    with serve(respond) as (url, _), pytest.raises(error, match=f"HTTP {status}: room is empty") as raised:
        RemoteAdmin(url, None).add_route(Route("+15551230000", room="Board"))
    assert getattr(raised.value, "field", "") == "room"


def sigv4_is_valid(request: Received, secret: str) -> bool:
    """Check a request's SigV4 signature as API Gateway does (the spec, not botocore's signer):
    the canonical request from what arrived, its query sorted and encoded, every signed header."""
    fields = dict(
        part.split("=", 1) for part in request.headers["Authorization"].split(" ", 1)[1].split(", ")
    )
    _, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    path, _, query = request.path.partition("?")
    pairs = sorted(tuple(quote(unquote(x), safe="-_.~") for x in p.split("=", 1)) for p in query.split("&"))
    canonical = "\n".join(
        [
            request.method,
            path,
            "&".join(f"{k}={v}" for k, v in pairs),
            "".join(f"{name}:{request.headers[name].strip()}\n" for name in signed),
            fields["SignedHeaders"],
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return service == "execute-api" and hmac.compare_digest(expected, fields["Signature"])


LISTED = {
    "counters": [
        {"scope": "attested", "number": None, "failures": 0, "locked": False, "locked_until": None},
        {
            "scope": "number",
            "number": "+15555550101",
            "failures": 10,
            "locked": True,
            "locked_until": "2027-01-15T09:00:00Z",
        },
    ],
    "locked": 1,
}


def test_lockout_requests_carry_the_caller_encoded_in_a_signed_query(aws: None):
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1"
    )

    def respond(request: Received) -> tuple[int, object]:
        return 200, LISTED if request.method == "GET" else {"cleared": 1}

    with serve(respond) as (url, received):
        remote = RemoteAdmin(url, Signer(session.get_credentials(), "us-east-1"))
        states = remote.lockout_states("+14155550123", "+15555550101")
        cleared = remote.clear_lockouts("withheld")
    assert states == [LockoutState(ATTESTED, 0, None), LockoutState("+15555550101", 10, 1_800_003_600)]
    assert cleared == 1
    listing, clearing = received
    assert (listing.method, listing.path) == (
        "GET",
        "/admin/lockouts?caller=%2B14155550123&number=%2B15555550101",
    )
    assert (clearing.method, clearing.path) == ("DELETE", "/admin/lockouts?caller=withheld")
    assert sigv4_is_valid(listing, "secret") and sigv4_is_valid(clearing, "secret")
    assert not sigv4_is_valid(listing, "another secret")
    tampered = Received(listing.method, listing.path.replace("0123", "0124"), listing.headers, listing.body)
    assert not sigv4_is_valid(tampered, "secret")  # the caller is covered by the signature


@pytest.mark.parametrize(
    ("caller", "number", "message"),
    [
        ("4155550123", "", "caller must be an E.164 phone number"),
        ("", "", "give the caller's number"),
        ("+14155550123", "5555550101", "number must be an E.164 phone number"),
    ],
)
def test_a_bad_caller_or_number_is_refused_before_any_request(caller: str, number: str, message: str):
    with serve(lambda request: (200, LISTED)) as (url, received):
        remote = RemoteAdmin(url, None)
        with pytest.raises(Invalid, match=message):
            remote.lockout_states(caller, number)
        with pytest.raises(Invalid, match=message):
            remote.clear_lockouts(caller, number)
    assert received == []


def test_a_refusal_of_the_lockout_routes_is_the_same_user_error():
    def respond(request: Received) -> tuple[int, object]:
        return 400, {"error": "invalid_request", "field": "caller", "message": "caller must be an E.164 ..."}

    with serve(respond) as (url, _), pytest.raises(Invalid, match="HTTP 400: caller must be") as raised:
        RemoteAdmin(url, None).clear_lockouts("+14155550123")
    assert raised.value.field == "caller"
