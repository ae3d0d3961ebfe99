"""Signature checking against twilio's own RequestValidator and API Gateway event shapes, the
URL rebuilt as Twilio requested it (a trailing slash, a repeated query key)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode

import pytest
from twilio.request_validator import RequestValidator

from dialin.edge.apigateway import FormParams, form_params
from dialin.edge.signature import (
    MAX_INTERLEAVED_PAIRS,
    MAX_ORDERINGS,
    candidate_urls,
    is_valid,
    signed_params,
)
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, rest_event, signed_twilio_event, twilio_signature

PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_known_answer_vector_from_design():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    expected = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature(url, PARAMS, "12345") == expected
    validator = RequestValidator("12345")
    assert validator.validate(url, PARAMS, expected)
    assert validator.validate("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, expected)


def test_known_vector_through_an_api_gateway_event_keeps_query_order():
    # The configured URL carries foo=1&bar=2 in that order (not sorted); v1 events give dicts.
    event = rest_event(
        method="POST",
        resource="/myapp.php",
        path="/myapp.php",
        stage="",
        headers={"Host": "mycompany.com", "X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
        query=[("foo", "1"), ("bar", "2")],
        body=urlencode(PARAMS),
    )
    assert is_valid(event, form_params(event), ["12345"])
    assert not is_valid(event, form_params(event), ["54321"])


@pytest.mark.parametrize(
    ("base_url", "stage", "configured"),
    [
        ("https://abc123.execute-api.us-east-1.amazonaws.com/Prod", "Prod", ""),
        ("https://abc123.execute-api.us-east-1.amazonaws.com/Prod", "Prod", "derived-must-match"),
        ("https://voice.example.com", "", "https://voice.example.com"),
        ("https://example.com/dialin", "", "https://example.com/dialin"),
        ("http://127.0.0.1:3000", "", ""),
    ],
    ids=["execute-api-derived", "execute-api-configured", "custom-domain", "base-path-mapping", "sam-local"],
)
def test_rest_api_shapes(base_url: str, stage: str, configured: str):
    if configured == "derived-must-match":
        configured = base_url
    event = signed_twilio_event(base_url=base_url, route="/voice/incoming", params=PARAMS, stage=stage)
    if base_url.endswith("/dialin"):
        # Base path mapping: API Gateway reports the path after the mapping, and
        # requestContext.path with it; only the configured base URL knows the public URL.
        event["requestContext"]["path"] = "/dialin/voice/incoming"
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN], configured)
    assert not is_valid(event, form_params(event), ["another-token"], configured)


def test_custom_domain_with_base_path_derived_from_request_context():
    event = signed_twilio_event(base_url="https://example.com/dialin", route="/voice/incoming", params=PARAMS)
    event["requestContext"]["path"] = "/dialin/voice/incoming"
    assert candidate_urls(event)[0] == "https://example.com/dialin/voice/incoming"
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_wrong_configured_base_url_fails_closed():
    event = signed_twilio_event(base_url="https://voice.example.com", route="/voice/incoming", params=PARAMS)
    assert not is_valid(event, form_params(event), [DEV_AUTH_TOKEN], "https://other.example.com")


def test_http_api_v2_payload_uses_raw_path_and_query():
    url = "https://api.example.com/live/voice/pin?a=2&m=3"
    body = urlencode(PARAMS)
    event = {
        "version": "2.0",
        "routeKey": "POST /voice/pin",
        "rawPath": "/live/voice/pin",
        "rawQueryString": "a=2&m=3",
        "headers": {
            "host": "api.example.com",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "x-twilio-signature": twilio_signature(url, PARAMS, DEV_AUTH_TOKEN),
        },
        "queryStringParameters": {"a": "2", "m": "3"},
        "requestContext": {"domainName": "api.example.com", "stage": "live", "http": {"method": "POST"}},
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }
    assert candidate_urls(event) == [url]
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])
    event["rawQueryString"] = "a=3&m=3"
    assert not is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_base64_body_empty_values_and_repeated_keys():
    params = [("CallSid", "CA1"), ("Digits", ""), ("StirVerstat", ""), ("Tag", "b"), ("Tag", "a")]
    event = signed_twilio_event(
        base_url="https://voice.example.com", route="/voice/pin", params=params, base64_body=True
    )
    assert event["isBase64Encoded"]
    parsed = form_params(event)
    assert parsed.getlist("Tag") == ["b", "a"]
    assert parsed.get("Digits") == ""
    assert is_valid(event, parsed, [DEV_AUTH_TOKEN])
    # Dropping the empty value changes what was signed.
    dropped = FormParams([p for p in parsed.pairs if p[0] != "StirVerstat"])
    assert not is_valid(event, dropped, [DEV_AUTH_TOKEN])


def test_previous_token_is_checked_against_every_url_variant():
    # API Gateway lost the query's order: only the rebuilt, sorted variant is what was signed,
    # and only by the previous token (a rotation in progress).
    url = "https://voice.example.com/voice/pin?a=2&m=3"
    event = signed_twilio_event(
        base_url="https://voice.example.com",
        route="/voice/pin",
        params=PARAMS,
        query=[("m", "3"), ("a", "2")],
        signature=twilio_signature(url, PARAMS, "previous-token"),
    )
    params = form_params(event)
    assert params.getall("Digits") == params.getlist("Digits") == [PARAMS["Digits"]]
    assert is_valid(event, params, iter(["current-token", "previous-token"]))
    assert not is_valid(event, params, iter(["current-token", "another-token"]))


def test_port_443_in_signed_url_is_accepted():
    url = "https://voice.example.com:443/voice/incoming"
    event = signed_twilio_event(
        base_url="https://voice.example.com",
        route="/voice/incoming",
        params=PARAMS,
        signature=twilio_signature(url, PARAMS, DEV_AUTH_TOKEN),
    )
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_state_in_our_own_query_string_is_signed():
    query = [("a", "2"), ("m", "3")]
    event = signed_twilio_event(
        base_url="https://v.example.com", route="/voice/pin", params=PARAMS, query=query
    )
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])
    event["queryStringParameters"] = {"a": "1", "m": "3"}
    event["multiValueQueryStringParameters"] = {"a": ["1"], "m": ["3"]}
    assert not is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_current_and_previous_tokens_are_accepted():
    event = signed_twilio_event(
        base_url="https://v.example.com", route="/voice/incoming", params=PARAMS, token="old-token"
    )
    assert is_valid(event, form_params(event), ["new-token", "old-token"])
    assert not is_valid(event, form_params(event), ["new-token"])


@pytest.mark.parametrize("signature", ["", "not-base64", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_missing_or_wrong_signature_fails_closed(signature: str):
    event = signed_twilio_event(
        base_url="https://v.example.com", route="/voice/incoming", params=PARAMS, signature=signature
    )
    if not signature:
        del event["headers"]["X-Twilio-Signature"]
        del event["multiValueHeaders"]["X-Twilio-Signature"]
    assert not is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_no_token_at_all_fails_closed():
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming", params=PARAMS)
    assert not is_valid(event, form_params(event), [])
    assert not is_valid(event, form_params(event), [""])


def test_lowercase_header_names_are_read():
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming", params=PARAMS)
    event["headers"] = {k.lower(): v for k, v in event["headers"].items()}
    event["multiValueHeaders"] = {}
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_a_trailing_slash_is_signed_as_requested():
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming/", params=PARAMS)
    assert candidate_urls(event) == ["https://v.example.com/voice/incoming/"]
    assert candidate_urls(event, "https://c.example.com/") == ["https://c.example.com/voice/incoming/"]
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


@pytest.mark.parametrize("query", ["x=1&x=2", "x=2&x=1", "x=1&y=2&x=3", "a=1&b=2&c=3&b=5&a=4", "k=&k="])
def test_a_repeated_key_is_rebuilt_from_the_multi_value_map(query: str):
    # A REST API groups a key's values (x=1&y=2&x=3 arrives as x: [1, 3], y: [2]).
    url = f"https://v.example.com/voice/incoming?{query}"
    event = signed_twilio_event(
        base_url="https://v.example.com",
        route="/voice/incoming",
        params=PARAMS,
        query=parse_qsl(query, keep_blank_values=True),
        signature=twilio_signature(url, PARAMS, DEV_AUTH_TOKEN),
    )
    assert url in candidate_urls(event)
    assert is_valid(event, form_params(event), [DEV_AUTH_TOKEN])


def test_orderings_of_a_long_repeated_query_are_not_tried():
    pairs = [(f"k{n % 3}", str(n)) for n in range(MAX_INTERLEAVED_PAIRS + 1)]
    event = signed_twilio_event(
        base_url="https://v.example.com", route="/voice/pin", params=PARAMS, query=pairs
    )
    assert len(candidate_urls(event)) <= 4  # given and sorted, two encodings each
    shorter = signed_twilio_event(
        base_url="https://v.example.com",
        route="/voice/pin",
        params=PARAMS,
        query=pairs[:MAX_INTERLEAVED_PAIRS],
    )
    assert len(candidate_urls(shorter)) <= 4 + 2 * MAX_ORDERINGS


def test_no_base_url_means_no_candidate_and_no_match():
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming", params=PARAMS)
    del event["headers"]["Host"], event["multiValueHeaders"]["Host"]
    del event["requestContext"]["domainName"]
    assert candidate_urls(event) == []
    assert not is_valid(event, form_params(event), [DEV_AUTH_TOKEN])
    assert candidate_urls(event, "https://v.example.com") == ["https://v.example.com/voice/incoming"]


@pytest.mark.parametrize(
    ("signature", "body", "reason"),
    [
        (None, "", "no signature"),
        ("x", "", "no signature"),
        ("a" * 28, "", "no signature"),  # 28 characters but no padding: no HMAC-SHA1 in base64
        ("shape", "CallSid=CA1&" * 400_000, "body too large"),  # 4.8 MB
    ],
)
def test_a_request_that_cannot_be_signed_is_refused_before_its_body_is_read(
    signature: str | None, body: str, reason: str, caplog: pytest.LogCaptureFixture
):
    """No token is asked for (a Secrets Manager read per request, for any account named) and
    the form is never parsed (a 4.4 MB body took about 1 s of CPU)."""
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming", params=PARAMS)
    headers = {k: v for k, v in event["headers"].items() if k != "X-Twilio-Signature"}
    if signature is not None:
        headers["X-Twilio-Signature"] = (
            event["headers"]["X-Twilio-Signature"] if signature == "shape" else signature
        )
    event = {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}
    if body:
        event["body"] = body
    asked: list[str] = []
    assert signed_params(event, lambda account: asked.append(account) or [DEV_AUTH_TOKEN]) is None
    assert asked == []
    [record] = [r for r in caplog.records if r.getMessage() == "signature rejected"]
    assert record.__dict__.get("reason") == reason


def test_a_signed_request_still_passes_signed_params():
    event = signed_twilio_event(base_url="https://v.example.com", route="/voice/incoming", params=PARAMS)
    params = signed_params(event, lambda account: [DEV_AUTH_TOKEN])
    assert params is not None and params.get("CallSid") == PARAMS["CallSid"]
