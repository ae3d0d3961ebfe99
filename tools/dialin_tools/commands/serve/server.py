"""The parts of `dialin serve`: template.yaml's API routes served by the real handlers behind
an API Gateway-shaped HTTP server, the handlers' environment, and an embedded DynamoDB."""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from dialin_tools.commands.serve.environments import Environments, FunctionFailed
from dialin_tools.commands.serve.handlers import LocalContext
from dialin_tools.commands.serve.twilio_standin import PREFIX as STANDIN_PREFIX
from dialin_tools.commands.serve.twilio_standin import CallsStandIn
from dialin_tools.lib.apigw import rest_event
from dialin_tools.lib.simulated_time import (
    SIMULATED_SECONDS_HEADER,
    SimulatedClock,
    simulated_seconds,
)
from dialin_tools.lib.template import ApiRoute

ROOM_STATUS_PATH = "/video/status"  # Twilio's room callbacks: the stand-in follows them
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
CALL_SID = re.compile(r"(?:^|&)CallSid=(CA[0-9a-fA-F]{32})(?:&|$)")
DEFAULT_STAGE = "Prod"  # SAM's implicit API stage
# What the local IAM-authorised routes see as their caller (no IAM check is made locally).
LOCAL_IAM_IDENTITY = {
    "accountId": "123456789012",
    "caller": "LOCAL",
    "user": "LOCAL",
    "userArn": "arn:aws:iam::123456789012:user/dialin-serve-local",
}

Handler = Callable[[dict[str, Any], Any], Any]
Headers = list[tuple[str, str]]


# Reading the template


def _resolve(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """A template value as an environment string: literals, and !Ref to a parameter's default."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        default = parameters.get(value["Ref"])
        return None if default is None else _resolve(default, parameters)
    return None  # a resource's id or attribute: only known once deployed


def template_environment(template: Mapping[str, Any]) -> dict[str, str]:
    """Every function's environment as the template declares it (Globals first), where it
    can be known without deploying. All handlers share one process, so one environment."""
    parameters = {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()}
    sources = [((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}]
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            sources.append((resource.get("Properties") or {}).get("Environment") or {})
    env: dict[str, str] = {}
    for source in sources:
        for name, value in (source.get("Variables") or {}).items():
            resolved = _resolve(value, parameters)
            if resolved is not None:
                env[name] = resolved
    return env


def handler_environment(
    template: Mapping[str, Any], local: Mapping[str, str], existing: Mapping[str, str]
) -> dict[str, str]:
    """The template's values, except where the user's environment (``existing``) sets one,
    overridden by ``local`` (table, public URL, token, pepper, endpoint)."""
    env = {name: value for name, value in template_environment(template).items() if name not in existing}
    env.update(local)
    return env


def rest_api_of(template: Mapping[str, Any], route: ApiRoute) -> tuple[str, tuple[str, ...]]:
    """The route's API stage name and binary media types (``image~1png`` is ``image/png``)."""
    resources = template["Resources"]
    event = resources[route.function]["Properties"]["Events"][route.event]["Properties"]
    api_ref = event.get("RestApiId")
    globals_api = (template.get("Globals") or {}).get("Api") or {}
    props: Mapping[str, Any] = globals_api
    if isinstance(api_ref, dict) and api_ref.get("Ref") in resources:
        props = {**globals_api, **(resources[api_ref["Ref"]].get("Properties") or {})}
    parameters = {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()}
    stage = _resolve(props.get("StageName", DEFAULT_STAGE), parameters) or DEFAULT_STAGE
    types = tuple(
        t.replace("~1", "/").lower() for t in props.get("BinaryMediaTypes") or [] if isinstance(t, str)
    )
    return stage, types


def is_binary(content_type: str, binary_types: tuple[str, ...]) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return bool(media) and any(fnmatch.fnmatchcase(media, pattern) for pattern in binary_types)


@dataclass
class LocalRoute:
    route: ApiRoute
    handler: Handler
    stage: str = DEFAULT_STAGE
    binary_types: tuple[str, ...] = ()
    # The clocks of the function's apps, moved forward by `dialin call`'s simulated pauses.
    clocks: tuple[SimulatedClock, ...] = ()
    # Lambda runs one invocation per execution environment at a time; so does each function here.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The function's own environments (processes); None: the handler above, in this process.
    environments: Environments | None = None

    def run(self, event: dict[str, Any], seconds: float = 0.0) -> Any:
        """The function's answer to ``event``, ``seconds`` of `dialin call`'s simulated time on."""
        if self.environments is not None:
            return self.environments.invoke(self.route.function, event, seconds)
        with self.lock, contextlib.ExitStack() as ahead:
            for clock in self.clocks:
                ahead.enter_context(clock.ahead(seconds))
            return self.handler(event, LocalContext(function_name=self.route.function))


def environment_routes(
    template: Mapping[str, Any], routes: list[ApiRoute], environments: Environments
) -> list[LocalRoute]:
    """Each route served by its function's environments (processes that import the handler)."""
    loaded = []
    for route in routes:
        environments.add(route.function, route.code_dir, route.handler)
        stage, types = rest_api_of(template, route)
        loaded.append(LocalRoute(route, _in_environments, stage, types, environments=environments))
    return loaded


def _in_environments(event: dict[str, Any], context: Any) -> Any:
    raise AssertionError("a route served by environments is run by LocalRoute.run")


# The HTTP server


def _json(status: int, message: str) -> tuple[int, Headers, bytes]:
    return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()


def lambda_response(response: Any) -> tuple[int, Headers, bytes]:
    """A proxy integration's result as API Gateway returns it; a malformed one is a 502."""
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        return _json(502, "Internal server error")
    headers: Headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        for value in values or []:
            if (str(name), str(value)) not in headers:
                headers.append((str(name), str(value)))
    body = response.get("body") or ""
    try:
        payload = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    except ValueError:
        return _json(502, "Internal server error")
    return response["statusCode"], headers, payload


def match_path(declared: str, path: str) -> dict[str, str] | None:
    """``{"pin_id": "abc"}`` for ``/admin/pins/{pin_id}`` and ``/admin/pins/abc``, as API
    Gateway fills ``pathParameters`` (decoded); None when the path is another route's."""
    want, got = declared.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    parameters = {}
    for part, value in zip(want, got, strict=True):
        if part.startswith("{") and part.endswith("}") and value:
            parameters[part[1:-1]] = unquote(value)
        elif part != value:
            return None
    return parameters


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a crowd connects at once (the default backlog, 5, resets them)


class LocalApi:
    """A ThreadingHTTPServer that turns each request into a REST API (v1) proxy event."""

    def __init__(self, host: str, port: int, log: Callable[[str], None] | None = None) -> None:
        self.routes: dict[tuple[str, str], LocalRoute] = {}
        # Twilio's REST API, stood in for under /_twilio (see twilio_standin.py); None: not served.
        self.standin: CallsStandIn | None = None
        self.log = log or (lambda line: print(line, flush=True))
        self.server = _Server((host, port), _request_handler(self))

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def mount(self, routes: list[LocalRoute]) -> None:
        self.routes = {(r.route.method, r.route.path): r for r in routes}

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        self.server.server_close()

    def _match(self, method: str, path: str) -> tuple[LocalRoute | None, dict[str, str]]:
        """The route for a request: its exact path (or that path without one trailing slash,
        as a REST API routes ``/voice/incoming/`` to ``/voice/incoming``), else a declared
        path with ``{name}`` parts. The event keeps the path as requested."""
        exact = self.routes.get((method, path))
        if exact is None and len(path) > 1 and path.endswith("/"):
            exact = self.routes.get((method, path[:-1]))
        if exact is not None:
            return exact, {}
        for (route_method, declared), route in self.routes.items():
            parameters = match_path(declared, path)
            if route_method == method and parameters:
                return route, parameters
        return None, {}

    def invoke(
        self, method: str, target: str, headers: Headers, body: bytes, client_ip: str
    ) -> tuple[int, Headers, bytes]:
        parts = urlsplit(target)
        path = parts.path
        if self.standin is not None and path.startswith(STANDIN_PREFIX + "/"):
            return self.standin.handle(method, path, parts.query, body)
        route, path_parameters = self._match(method, path)
        if route is None:
            known = any(match_path(p, path) is not None for _, p in self.routes)
            return _json(405, "Method Not Allowed") if known else _json(404, "Not Found")
        simulated = [v for k, v in headers if k.lower() == SIMULATED_SECONDS_HEADER.lower()]
        headers = [(k, v) for k, v in headers if k.lower() != SIMULATED_SECONDS_HEADER.lower()]
        names = {name.lower() for name, _ in headers}
        # What API Gateway adds in front of the integration.
        for name, value in (
            ("X-Forwarded-For", client_ip),
            ("X-Forwarded-Port", str(self.port)),
            ("X-Forwarded-Proto", "http"),
        ):
            if name.lower() not in names:
                headers.append((name, value))
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        binary = is_binary(content_type, route.binary_types)
        event = rest_event(
            method=method,
            resource=route.route.path,
            path=path,
            stage=route.stage,
            headers=headers,
            query=parse_qsl(parts.query, keep_blank_values=True),
            body=(body if binary else body.decode("utf-8", errors="replace")) if body else None,
            base64_body=binary,
            source_ip=client_ip,
        )
        event["requestContext"]["path"] = path  # `sam local start-api` gives the stage-less path
        event["pathParameters"] = path_parameters or None
        if route.route.auth == "AWS_IAM":
            event["requestContext"]["identity"].update(LOCAL_IAM_IDENTITY)
        try:
            response = route.run(event, simulated_seconds(simulated[-1] if simulated else None))
        except FunctionFailed as failed:  # as API Gateway: the function failed, the client gets a 502
            print(failed, file=sys.stderr)
            return _json(502, "Internal server error")
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _json(502, "Internal server error")
        answer = lambda_response(response)
        if self.standin is not None and path == ROOM_STATUS_PATH and answer[0] == 200:
            self.standin.observe({k: v for k, v in parse_qsl(body.decode("utf-8", "replace"))})
        return answer


def _request_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "dialin-serve"

        def _dispatch(self) -> None:
            started = time.perf_counter()
            path = urlsplit(self.path).path
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            body = b""
            if not 0 <= length <= MAX_BODY_BYTES:
                status, headers, payload = _json(413 if length > 0 else 400, "Bad request body")
            else:
                body = self.rfile.read(length) if length else b""
                status, headers, payload = api.invoke(
                    self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                )
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            # One line per request, never the body or the query (it carries call state); the
            # CallSid of a Twilio webhook, so `dialin call`'s printed CallSid finds its requests.
            elapsed = (time.perf_counter() - started) * 1000
            sid = CALL_SID.search(body.decode("ascii", "replace"))
            tail = f" {sid.group(1)}" if sid else ""
            api.log(f"{time.strftime('%H:%M:%S')} {self.command} {path} {status} {elapsed:.0f} ms{tail}")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: `_dispatch` logs one line per request."""

    return RequestHandler
