"""API Gateway proxy events shaped as API Gateway builds them, and Twilio's signature.

Used by `dialin serve`, by the sample events and by the tests, so all three agree.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from dialin.edge.apigateway import FormParams

# The documented, obviously fake values for local runs and sample events.
DEV_AUTH_TOKEN = "dev-auth-token-not-a-secret"  # noqa: S105 - documented fake, local only
DEV_PIN_PEPPER = "dev-pin-pepper-not-a-secret"
FORM = "application/x-www-form-urlencoded"


def as_pairs(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def twilio_signature(url: str, params: Mapping[str, str] | Iterable[tuple[str, str]], token: str) -> str:
    """The X-Twilio-Signature Twilio would send for a POST of ``params`` to ``url``."""
    return RequestValidator(token).compute_signature(url, FormParams(as_pairs(params)))


def _body_text(body: bytes | str | None, base64_body: bool) -> str | None:
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii") if base64_body else body.decode("utf-8")
    if body is not None and base64_body:
        return base64.b64encode(body.encode("utf-8")).decode("ascii")
    return body


def rest_event(
    *,
    method: str,
    resource: str,
    path: str,
    stage: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]] = (),
    body: bytes | str | None = None,
    base64_body: bool = False,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A REST API (v1) proxy integration event.

    ``resource`` is the declared route (``/voice/incoming``), ``path`` what was requested
    after the stage or base path mapping, and ``requestContext.path`` adds the stage.
    ``headers`` may repeat a name (as pairs): ``headers`` keeps the last value,
    ``multiValueHeaders`` all of them.
    """
    multi_headers: dict[str, list[str]] = {}
    for name, value in as_pairs(headers):
        multi_headers.setdefault(name, []).append(value)
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    text = _body_text(body, base64_body)
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}" if stage else path,
            "stage": stage,
            "domainName": single_headers.get("Host", "").partition(":")[0],
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": single_headers.get("User-Agent", "")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": bool(base64_body and text is not None),
    }


def signed_twilio_event(
    *,
    base_url: str,
    route: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]] = (),
    token: str = DEV_AUTH_TOKEN,
    signature: str | None = None,
    stage: str = "",
    host_header: str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A Twilio webhook POST to ``base_url + route`` as API Gateway hands it to Lambda. A
    ``route`` typed with a trailing slash (``/voice/incoming/``) is requested as typed and
    signed so, but reaches the declared resource (``/voice/incoming``), as a REST API routes it."""
    pairs = as_pairs(params)
    query = list(query)
    url = f"{base_url}{route}" + (f"?{urlencode(query)}" if query else "")
    scheme, _, rest = base_url.partition("://")
    host = host_header or rest.split("/", 1)[0]
    port = host.partition(":")[2] or ("443" if scheme == "https" else "80")
    headers = {
        "Host": host,
        "Content-Type": FORM,
        "User-Agent": "TwilioProxy/1.1",
        "X-Forwarded-Proto": scheme,
        "X-Forwarded-Port": port,
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
    }
    headers["X-Twilio-Signature"] = (
        signature if signature is not None else twilio_signature(url, pairs, token)
    )
    return rest_event(
        method="POST",
        resource=route[:-1] if len(route) > 1 and route.endswith("/") else route,
        path=route,
        stage=stage,
        headers=headers,
        query=query,
        body=urlencode(pairs),
        base64_body=base64_body,
    )
