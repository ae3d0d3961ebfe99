"""`dialin route|pin ... --url`: requests to a deployed admin API are SigV4-signed with the
user's AWS credentials; `dialin serve` on this machine gets them unsigned."""

from __future__ import annotations

import json

import boto3
import pytest
from support.local_http import Received, serve

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
