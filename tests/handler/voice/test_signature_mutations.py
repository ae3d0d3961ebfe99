"""Any single change to a signed request gives 403: the URL's scheme, host, path or query,
a parameter's name or value, an added or dropped parameter, the token, the signature.

Two ways a request can differ from what Twilio signed: changed in the event (tampering on
the way, or API Gateway reporting another URL), and signed for another URL than the one we
check (Twilio configured with another URL), with the public base URL configured or derived.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from support.callers import ALICE_PIN, CALLER, PIN_NUMBER
from support.twiml import parse
from support.voice import BASE, Handler, local_settings

from dialin.calls.steps import PinState, Speech, Urls
from dialin.edge.credentials import Credentials
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import LocalContext, load_handler
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, signed_twilio_event, twilio_signature
from dialin_tools.lib.template import api_routes, load

STATE = PinState(2, 3, Speech("Polly.Joanna", "en-US"), "last-digits")
QUERY = [tuple(pair.split("=", 1)) for pair in Urls(BASE).pin(STATE).split("?", 1)[1].split("&")]
PARAMS = [
    ("AccountSid", "AC" + "0" * 32),
    ("CallSid", "CA" + "b" * 32),
    ("Digits", ALICE_PIN),
    ("From", CALLER),
    ("To", PIN_NUMBER),
    ("ForwardedFrom", ""),  # blank values are signed too
]
Event = dict[str, Any]


def signed(params: list[tuple[str, str]] = PARAMS, query: list[tuple[str, str]] = QUERY, **kw: Any) -> Event:
    return signed_twilio_event(
        base_url=BASE, route="/voice/pin", params=params, query=query, stage="Prod", **kw
    )


def _with_body(event: Event, params: list[tuple[str, str]]) -> Event:
    event["body"] = urlencode(params)
    return event


def _with_query(event: Event, query: list[tuple[str, str]]) -> Event:
    event["queryStringParameters"] = dict(query) or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query} or None
    return event


def _header(name: str, value: str) -> Callable[[Event], Event]:
    def change(event: Event) -> Event:
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
        return event

    return change


def _context_path(path: str) -> Callable[[Event], Event]:
    def change(event: Event) -> Event:
        event["requestContext"]["path"] = path
        return event

    return change


def _other(value: str) -> str:
    return value[:-1] + ("0" if value[-1:] != "0" else "1") if value else "x"


def event_mutations() -> dict[str, Callable[[Event], Event]]:
    """Changes made to a signed event after signing."""
    found: dict[str, Callable[[Event], Event]] = {
        "scheme-http": _header("X-Forwarded-Proto", "http"),
        "host-other": _header("Host", "abc124.execute-api.us-east-1.amazonaws.com"),
        # (Not the port alone: twilio's RequestValidator also tries the URL without its port.)
        "path-stage": _context_path("/Dev/voice/pin"),
        "path-base-mapping": _context_path("/dialin/Prod/voice/pin"),
        "path-trailing-slash": lambda e: _context_path("/Prod/voice/pin/")({**e, "path": "/voice/pin/"}),
        "path-other-route": lambda e: {**e, "resource": "/voice/wait", "path": "/voice/wait"},
        "query-added": lambda e: _with_query(e, [*QUERY, ("x", "1")]),
        "param-added": lambda e: _with_body(e, [*PARAMS, ("Extra", "1")]),
        "param-repeated": lambda e: _with_body(e, [*PARAMS, ("Digits", "000000")]),
        "signature-flipped": lambda e: _header(
            "X-Twilio-Signature", _flip(e["headers"]["X-Twilio-Signature"])
        )(e),
        "signature-dropped": _without_signature,
    }
    found.update(_pair_mutations("query", QUERY, str.upper, _with_query))
    found.update(_pair_mutations("param", PARAMS, str.lower, _with_body))
    return found


def _pair_mutations(
    kind: str,
    pairs: list[tuple[str, str]],
    rename: Callable[[str], str],
    rebuild: Callable[[Event, list[tuple[str, str]]], Event],
) -> dict[str, Callable[[Event], Event]]:
    """Each pair's value changed, its name changed (``rename``) and the pair dropped."""
    found: dict[str, Callable[[Event], Event]] = {}
    for i, (key, value) in enumerate(pairs):
        before, after = pairs[:i], pairs[i + 1 :]
        found[f"{kind}-{key}-value"] = lambda e, b=before, a=after, k=key, v=value: rebuild(
            e, [*b, (k, _other(v)), *a]
        )
        found[f"{kind}-{key}-name"] = lambda e, b=before, a=after, k=key, v=value: rebuild(
            e, [*b, (rename(k), v), *a]
        )
        found[f"{kind}-{key}-dropped"] = lambda e, o=[*before, *after]: rebuild(e, o)
    return found


def _without_signature(event: Event) -> Event:
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("X-Twilio-Signature")
    return event


def _flip(signature: str) -> str:
    return ("A" if signature[0] != "A" else "B") + signature[1:]


def signing_mutations() -> dict[str, tuple[str, list[tuple[str, str]], str]]:
    """(url, params, token) Twilio might have signed instead of what we check."""
    url = Urls(BASE).pin(STATE)
    return {
        "signed-scheme": (url.replace("https://", "http://"), PARAMS, DEV_AUTH_TOKEN),
        "signed-host": (url.replace("abc123", "abc999"), PARAMS, DEV_AUTH_TOKEN),
        "signed-port": (url.replace(".com/", ".com:8443/"), PARAMS, DEV_AUTH_TOKEN),
        "signed-path": (url.replace("/voice/pin", "/voice/pin/"), PARAMS, DEV_AUTH_TOKEN),
        "signed-stage": (url.replace("/Prod/", "/prod/"), PARAMS, DEV_AUTH_TOKEN),
        "signed-query": (url.replace("a=2", "a=1"), PARAMS, DEV_AUTH_TOKEN),
        "signed-no-query": (url.split("?")[0], PARAMS, DEV_AUTH_TOKEN),
        "token-other": (url, PARAMS, "another-auth-token"),
        "token-one-char": (url, PARAMS, _other(DEV_AUTH_TOKEN)),
        "token-empty": (url, PARAMS, ""),
    }


EVENT_MUTATIONS = event_mutations()
SIGNING_MUTATIONS = signing_mutations()


class Untouchable:
    """A directory that fails the test if a refused request reads anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request touched the directory: {name}")


def guarded(base: str = "") -> Callable[[Event], dict[str, Any]]:
    """The real handler whose app refuses to touch the table, the base URL derived or configured."""
    route = next(r for r in api_routes(load()) if r.path == "/voice/pin")
    module, function = load_handler(route.code_dir, route.handler)
    config = local_settings(PUBLIC_BASE_URL=base)
    app = VoiceApp(config, Untouchable(), Credentials(config), Untouchable())  # type: ignore[arg-type]

    def call(event: Event) -> dict[str, Any]:
        original, module.voice = module.voice, app
        try:
            return function(event, LocalContext(function_name="VoiceFunction"))
        finally:
            module.voice = original

    return call


@pytest.fixture(params=["derived", "configured"])
def handler(request: pytest.FixtureRequest) -> Callable[[Event], dict[str, Any]]:
    return guarded(BASE if request.param == "configured" else "")


@pytest.mark.parametrize("base", ["", BASE], ids=["derived", "configured"])
def test_the_unchanged_request_is_accepted(voice_handler: Handler, dynamodb: Any, base: str):
    config = local_settings(PUBLIC_BASE_URL=base)
    voice_handler.module.voice = VoiceApp.on_table(config, dynamodb, Credentials(config))
    joined = parse(voice_handler(signed()))
    assert joined.find("Connect/Room").text == "ClinicRoom1"


@pytest.mark.parametrize("name", sorted(EVENT_MUTATIONS))
def test_changed_after_signing_is_403(name: str):
    event = EVENT_MUTATIONS[name](copy.deepcopy(signed()))
    assert guarded()(event)["statusCode"] == 403, name


@pytest.mark.parametrize("name", sorted(SIGNING_MUTATIONS))
def test_signed_for_something_else_is_403(handler: Callable[[Event], dict[str, Any]], name: str):
    url, params, token = SIGNING_MUTATIONS[name]
    signature = twilio_signature(url, params, token) if token else ""
    assert handler(signed(signature=signature))["statusCode"] == 403, name


def test_a_token_we_accept_is_accepted(voice_handler: Handler):
    """Control for the token mutations: the same request signed with the configured token."""
    url, params, _ = SIGNING_MUTATIONS["token-other"]
    assert voice_handler(signed(signature=twilio_signature(url, params, DEV_AUTH_TOKEN)))["statusCode"] == 200


def test_mutation_count():
    """The closing note reports this number; every one of them is a distinct single change."""
    assert len(EVENT_MUTATIONS) == 11 + 3 * len(QUERY) + 3 * len(PARAMS)
    assert len(SIGNING_MUTATIONS) == 10
