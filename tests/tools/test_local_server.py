"""`dialin serve`'s API Gateway emulation: the events it builds, the answers it returns, and
the environment it gives the handlers (all in-process, no sockets used for requests)."""

from __future__ import annotations

import base64
import types
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from dialin.edge.apigateway import form_params, requested_route, route_path
from dialin_tools.commands.serve import server
from dialin_tools.commands.serve.server import LocalApi, LocalRoute
from dialin_tools.lib import template as tpl
from dialin_tools.lib.simulated_time import SIMULATED_SECONDS_HEADER, follow_simulated_time


@pytest.fixture
def api() -> Iterator[LocalApi]:
    local = LocalApi("127.0.0.1", 0, log=lambda line: None)
    yield local
    local.close()


class Recorder:
    def __init__(self, response: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.response = response or {
            "statusCode": 200,
            "headers": {"Content-Type": "application/xml"},
            "body": "<R/>",
        }

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


def mount(api: LocalApi, template: dict[str, Any], handler: Recorder, **changes: Any) -> LocalRoute:
    route = next(r for r in tpl.api_routes(template) if r.path == "/voice/pin")
    stage, types = server.rest_api_of(template, route)
    local = LocalRoute(replace(route, **changes), handler, stage, types)
    api.mount([local])
    return local


def test_rest_v1_event_as_api_gateway_builds_it(api: LocalApi, template: dict[str, Any]):
    recorder = Recorder()
    mount(api, template, recorder)
    headers = [
        ("Host", f"127.0.0.1:{api.port}"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Twilio-Signature", "abc="),
        ("Accept", "text/xml"),
        ("Accept", "application/xml"),
    ]
    status, out_headers, body = api.invoke(
        "POST",
        "/voice/pin?a=1&m=3&v=Polly.Joanna&e=",
        headers,
        b"Digits=246810&To=%2B15555550101",
        "10.1.2.3",
    )
    assert (status, body) == (200, b"<R/>")
    assert ("Content-Type", "application/xml") in out_headers
    (event,) = recorder.events
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/voice/pin", "/voice/pin", "POST")
    assert route_path(event) == "/voice/pin"
    assert event["headers"]["Accept"] == "application/xml"
    assert event["multiValueHeaders"]["Accept"] == ["text/xml", "application/xml"]
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    assert event["headers"]["X-Forwarded-Port"] == str(api.port)
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["queryStringParameters"] == {"a": "1", "m": "3", "v": "Polly.Joanna", "e": ""}
    assert event["multiValueQueryStringParameters"]["m"] == ["3"]
    context = event["requestContext"]
    assert context["path"] == "/voice/pin"  # stage-less, as `sam local start-api`
    assert context["stage"] == "Prod"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["requestId"]
    assert event["isBase64Encoded"] is False
    assert form_params(event).get("Digits") == "246810"


def test_a_trailing_slash_reaches_the_route_with_the_path_as_requested(
    api: LocalApi, template: dict[str, Any]
):
    recorder = Recorder()
    mount(api, template, recorder)
    status, _, _ = api.invoke("POST", "/voice/pin/?a=1", [("Host", "127.0.0.1")], b"", "127.0.0.1")
    assert status == 200  # a REST API routes /voice/pin/ to the /voice/pin resource
    (event,) = recorder.events
    assert (event["resource"], event["path"], event["requestContext"]["path"]) == (
        "/voice/pin",
        "/voice/pin/",
        "/voice/pin/",
    )
    assert (route_path(event), requested_route(event)) == ("/voice/pin", "/voice/pin/")
    assert api.invoke("GET", "/voice/pin/", [], b"", "127.0.0.1")[0] == 405
    assert api.invoke("POST", "/voice/pin//", [], b"", "127.0.0.1")[0] == 405


def test_binary_media_types_arrive_base64(api: LocalApi, template: dict[str, Any]):
    recorder = Recorder()
    mount(api, template, recorder).binary_types = ("application/x-www-form-urlencoded",)
    body = b"Digits=1&Name=%C3%A9"
    api.invoke(
        "POST", "/voice/pin", [("Content-Type", "application/x-www-form-urlencoded")], body, "127.0.0.1"
    )
    (event,) = recorder.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert form_params(event).get("Name") == "é"


def test_binary_types_come_from_the_template():
    template = {
        "Globals": {"Api": {"BinaryMediaTypes": ["image~1png"]}},
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"StageName": "v1", "BinaryMediaTypes": ["*~1*"]},
            },
            "Fn": {
                "Properties": {
                    "Events": {"A": {"Properties": {"RestApiId": {"Ref": "Api"}}}, "B": {"Properties": {}}}
                }
            },
        },
    }
    route = tpl.ApiRoute("Fn", "A", "POST", "/a", None, "app.handler", "")  # type: ignore[arg-type]
    assert server.rest_api_of(template, route) == ("v1", ("*/*",))
    assert server.rest_api_of(template, replace(route, event="B")) == ("Prod", ("image/png",))
    assert server.is_binary("image/png; q=1", ("image/png",))
    assert not server.is_binary("text/plain", ("image/*",))
    assert server.is_binary("text/plain", ("*/*",))


def test_iam_routes_get_a_local_caller(api: LocalApi, template: dict[str, Any]):
    recorder = Recorder()
    mount(api, template, recorder, auth="AWS_IAM")
    api.invoke("POST", "/voice/pin", [], b"", "127.0.0.1")
    identity = recorder.events[0]["requestContext"]["identity"]
    assert identity["userArn"].endswith(":user/dialin-serve-local")
    assert recorder.events[0]["body"] is None


def test_unknown_paths_methods_and_failures(api: LocalApi, template: dict[str, Any]):
    recorder = Recorder()
    mount(api, template, recorder)
    assert api.invoke("POST", "/voice/nope", [], b"", "127.0.0.1")[0] == 404
    assert api.invoke("GET", "/voice/pin", [], b"", "127.0.0.1")[0] == 405
    recorder.response = RuntimeError("boom")
    assert api.invoke("POST", "/voice/pin", [], b"", "127.0.0.1")[0] == 502
    recorder.response = {"body": "no status"}
    assert api.invoke("POST", "/voice/pin", [], b"", "127.0.0.1")[0] == 502
    recorder.response = {"statusCode": 403, "body": "Forbidden", "multiValueHeaders": {"X-A": ["1", "2"]}}
    status, headers, body = api.invoke("POST", "/voice/pin", [], b"", "127.0.0.1")
    assert (status, body) == (403, b"Forbidden")
    assert [h for h in headers if h[0] == "X-A"] == [("X-A", "1"), ("X-A", "2")]


def test_handler_environment_from_the_template(template: dict[str, Any]):
    local = {
        "TABLE_NAME": "dialin-local",
        "TWILIO_AUTH_TOKEN": "t",
        "PUBLIC_BASE_URL": "http://127.0.0.1:3000",
    }
    env = server.handler_environment(template, local, existing={"HOLD_SECONDS": "7", "TABLE_NAME": "mine"})
    assert env["POWERTOOLS_SERVICE_NAME"] == "dialin"  # Globals
    assert env["PIN_ATTEMPTS"] == "3"  # !Ref PinAttempts -> its default
    assert env["MAX_WAIT_SECONDS"] == "600"
    assert "HOLD_SECONDS" not in env  # the user's own environment wins over the template ...
    assert env["TABLE_NAME"] == "dialin-local"  # ... and the local settings win over both
    assert "TWILIO_SECRET_ARN" not in env  # !Ref to a resource: unknown until deployed


class ClockedApp:
    """Stands for a handler module's app (``voice``): it reads its injected clock."""

    def __init__(self) -> None:
        self.clock: Any = lambda: 1_000.0
        self.read: list[float] = []

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.read.append(self.clock())
        return {"statusCode": 200, "headers": {"X-Seen": ",".join(sorted(event["headers"]))}, "body": ""}


def test_the_handlers_clock_follows_dialin_calls_simulated_seconds(api: LocalApi, template: dict[str, Any]):
    module = types.ModuleType("handler_module")
    app = ClockedApp()
    module.voice = app  # type: ignore[attr-defined]
    clocks = follow_simulated_time(module)
    assert follow_simulated_time(module) == clocks  # wrapped once, however many routes share it
    route = next(r for r in tpl.api_routes(template) if r.path == "/voice/wait")
    api.mount([LocalRoute(route, app.handler, clocks=tuple(clocks))])
    for seconds in ("620", "nonsense", "-5", "1e9", None):
        headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if seconds is not None:
            headers.append((SIMULATED_SECONDS_HEADER.lower(), seconds))
        status, out, _ = api.invoke("POST", "/voice/wait", headers, b"", "127.0.0.1")
        assert status == 200
        seen = dict(out)["X-Seen"].lower()
        assert SIMULATED_SECONDS_HEADER.lower() not in seen  # the handler never sees the header
    # 620 simulated seconds move the clock for that request only; bad values count as none.
    assert app.read == [1_620.0, 1_000.0, 1_000.0, 1_000.0, 1_000.0]
    assert app.clock() == 1_000.0


def test_the_twilio_stand_in_answers_a_calls_update_and_keeps_the_twiml(api: LocalApi):
    from dialin_tools.commands.serve.twilio_standin import CallsStandIn

    lines: list[str] = []
    api.standin = CallsStandIn(lines.append)
    twiml = (
        '<Response><Connect><Room participantIdentity="phone-0123-k3fa2">Board</Room></Connect></Response>'
    )
    from urllib.parse import urlencode

    call_sid, account = "CA" + "1" * 32, "AC" + "0" * 32
    path = f"/_twilio/2010-04-01/Accounts/{account}/Calls/{call_sid}.json"
    status, _, body = api.invoke("POST", path, [], urlencode({"Twiml": twiml}).encode(), "127.0.0.1")
    assert status == 200 and b'"in-progress"' in body
    assert api.standin.updates == {call_sid: [twiml]}
    assert lines == [
        f"Calls API (stand-in): {call_sid[:8]}… moved: <Connect> to room Board as phone-0123-k3fa2"
    ]
