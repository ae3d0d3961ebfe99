"""API Gateway event parsing: the route an event asks for (a trailing slash typed or not), and
the public URL it was sent to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from dialin.edge.apigateway import (
    context_base_url,
    derived_base_url,
    form_params,
    public_base_url,
    requested_route,
    route_path,
)
from dialin.edge.signature import is_valid
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, signed_twilio_event, twilio_signature

PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+15555550123", "To": "+15555550100"}


def http_api_event(route_key: str, stage: str, raw_path: str) -> dict[str, Any]:
    """An HTTP API (v2) payload as API Gateway sends it to a Lambda proxy integration."""
    url = f"https://abc123.execute-api.us-east-1.amazonaws.com{raw_path}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio_signature(url, PARAMS, DEV_AUTH_TOKEN),
        },
        "requestContext": {
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "stage": stage,
            "http": {"method": "POST", "path": raw_path},
        },
        "body": urlencode(PARAMS),
        "isBase64Encoded": False,
    }


def test_default_route_on_a_named_stage_drops_the_stage():
    event = http_api_event("$default", "Prod", "/Prod/voice/incoming")
    assert route_path(event) == "/voice/incoming"
    # The signed URL keeps the stage: it is what Twilio requested.
    assert derived_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


@pytest.mark.parametrize(
    ("route_key", "stage", "raw_path", "route"),
    [
        ("$default", "$default", "/voice/incoming", "/voice/incoming"),  # the $default stage has no prefix
        ("POST /voice/pin", "Prod", "/Prod/voice/pin", "/voice/pin"),  # a declared route names itself
        ("$default", "Prod", "/Production/voice/incoming", "/Production/voice/incoming"),  # not the stage
        ("$default", "voice", "/voice", "/voice"),  # the stage alone is no route
    ],
)
def test_route_path_of_http_api_events(route_key: str, stage: str, raw_path: str, route: str):
    assert route_path(http_api_event(route_key, stage, raw_path)) == route


@pytest.mark.parametrize(
    ("route_key", "raw_path"),
    [
        ("POST /voice/{proxy+}", "/Prod/voice/incoming/"),  # a greedy route catches the slash
        ("$default", "/Prod/voice/incoming/"),
        ("POST /voice/{proxy+}", "/Prod/voice/incoming"),
    ],
)
def test_an_http_api_route_typed_with_a_trailing_slash(route_key: str, raw_path: str):
    event = http_api_event(route_key, "Prod", raw_path)
    assert route_path(event) == "/voice/incoming"
    assert requested_route(event) == raw_path.removeprefix("/Prod")
    assert derived_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_a_declared_parameter_route_still_names_itself():
    event = http_api_event("DELETE /admin/pins/{pin_id}", "Prod", "/Prod/admin/pins/abc")
    assert route_path(event) == "/admin/pins/{pin_id}"


def test_a_rest_api_request_with_a_trailing_slash():
    event = signed_twilio_event(
        base_url="https://abc123.execute-api.us-east-1.amazonaws.com/Prod",
        route="/voice/incoming/",
        params=PARAMS,
        stage="Prod",
    )
    # A REST API routes /voice/incoming/ to the /voice/incoming resource.
    assert (event["resource"], event["path"]) == ("/voice/incoming", "/voice/incoming/")
    assert route_path(event) == "/voice/incoming"
    assert requested_route(event) == "/voice/incoming/"
    assert derived_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
    assert context_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"


def test_a_route_with_path_parameters_keeps_the_stage_in_its_base_url():
    from dialin_tools.lib.apigw import rest_event

    event = rest_event(
        method="DELETE",
        resource="/admin/rooms/{room}/callers/{identity}",
        path="/admin/rooms/Board/callers/alice",
        stage="Prod",
        headers={"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
    )
    assert event["requestContext"]["path"] == "/Prod/admin/rooms/Board/callers/alice"
    assert context_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"
    assert derived_base_url(event) == "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"


def test_no_host_and_no_domain_derive_no_base_url():
    event = signed_twilio_event(
        base_url="https://v.example.com/Prod", route="/voice/incoming", params=PARAMS, stage="Prod"
    )
    del event["headers"]["Host"], event["multiValueHeaders"]["Host"]
    assert derived_base_url(event) == "https://v.example.com/Prod"  # the domain API Gateway recorded
    del event["requestContext"]["domainName"]
    assert derived_base_url(event) == ""
    assert public_base_url(event) == ""
    assert public_base_url(event, "https://voice.example.com/") == "https://voice.example.com"
