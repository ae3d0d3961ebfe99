"""API Gateway proxy events (REST API v1 and HTTP API v2 payloads): headers, the body, form
parameters, the route, and the public base URL our routes live under.

Shared by the webhooks (``signature`` rebuilds the signed URL from these) and dial-out.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ..core.errors import BadRequest


class FormParams:
    """Decoded POST parameters, keeping order, blank values and repeated keys.

    ``RequestValidator`` reads repeated keys through ``getall`` (Flask's MultiDict shape),
    else ``getlist`` (Django's QueryDict); both are answered from an index built once, so
    checking a signature over Twilio's ~25 parameters does not scan them for every name.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs: list[tuple[str, str]] = list(pairs)
        self._values: dict[str, list[str]] = {}
        for name, value in self.pairs:
            self._values.setdefault(name, []).append(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    getall = getlist

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default


def lower_headers(event: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if values:
            headers[str(name).lower()] = str(values[-1])
    for name, value in (event.get("headers") or {}).items():
        if value is not None:
            headers[str(name).lower()] = str(value)
    return headers


def decoded_body(event: Mapping[str, Any]) -> str:
    """The request body as text; API Gateway may hand it over base64-encoded."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise BadRequest("the body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is not valid base64 UTF-8") from exc
    return body


def form_params(event: Mapping[str, Any]) -> FormParams:
    return FormParams(parse_qsl(decoded_body(event), keep_blank_values=True))


def is_http_api(event: Mapping[str, Any]) -> bool:
    return event.get("version") == "2.0"


def route_path(event: Mapping[str, Any]) -> str:
    """The route as declared in the template (``/voice/incoming``), without stage or base path,
    and without the trailing slash a request may add (``requested_route`` keeps it).

    A REST API routes ``/voice/incoming/`` to the ``/voice/incoming`` resource and names that
    in ``resource``. An HTTP API route cannot end in ``/``; a greedy (``/voice/{proxy+}``) or
    ``$default`` route catches the slash, and the route is then read from ``rawPath``.
    """
    if is_http_api(event):
        declared = str(event.get("routeKey") or "").partition(" ")[2]
        if declared and not declared.endswith("+}"):
            return declared
        return _unslashed(_stageless(event, str(event.get("rawPath") or "")))
    return str(event.get("resource") or _unslashed(str(event.get("path") or "")))


def requested_route(event: Mapping[str, Any]) -> str:
    """``route_path`` as it was requested: with the trailing slash when the request had one
    (``/voice/incoming/``). Twilio signs the URL as it requested it."""
    route = route_path(event)
    slashed = f"{route}/"
    return slashed if not route.endswith("/") and _requested_path(event).endswith(slashed) else route


def _unslashed(path: str) -> str:
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def _requested_path(event: Mapping[str, Any]) -> str:
    """The path API Gateway saw: HTTP API ``rawPath``; REST API ``requestContext.path``, which
    keeps the stage or base path mapping (``event.path`` only when there is no context)."""
    if is_http_api(event):
        return str(event.get("rawPath") or "")
    return str((event.get("requestContext") or {}).get("path") or event.get("path") or "")


def _stageless(event: Mapping[str, Any], raw_path: str) -> str:
    """HTTP API v2 ``$default`` route: ``rawPath`` keeps a named stage (``/Prod/voice/incoming``)."""
    stage = str((event.get("requestContext") or {}).get("stage") or "")
    prefix = f"/{stage}"
    if stage and stage != "$default" and raw_path.startswith(f"{prefix}/"):
        return raw_path[len(prefix) :]
    return raw_path


def _route_prefix(event: Mapping[str, Any]) -> str:
    """What the requested path has before the route: the stage, a base path mapping, or ""."""
    full_path = _requested_path(event)
    # The declared route, or (a route with path parameters) the concrete path it matched.
    for tail in (requested_route(event), str(event.get("path") or "")):
        if tail and full_path.endswith(tail):
            return full_path[: -len(tail)]
    return ""


def query_pairs(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    multi = event.get("multiValueQueryStringParameters") or {}
    if multi:
        return [(str(k), str(v)) for k, values in multi.items() for v in (values or [])]
    return [(str(k), str(v)) for k, v in (event.get("queryStringParameters") or {}).items()]


def signed_query_pairs(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query parameters exactly as the signature check covered them: HTTP API v2's raw
    query string, REST API v1's multi-value pairs (never the single-value map)."""
    if is_http_api(event):
        return parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True)
    return query_pairs(event)


def derived_base_url(event: Mapping[str, Any]) -> str:
    """``scheme://host[:port]`` + the path prefix before the route, from the event itself;
    "" when the event names no host (no ``Host`` header and no ``requestContext.domainName``):
    no URL Twilio requested can be rebuilt from it."""
    headers = lower_headers(event)
    domain = str((event.get("requestContext") or {}).get("domainName") or "")
    # HTTP API: the domain API Gateway recorded first; REST API: the Host header (as Twilio
    # sent it), else that domain.
    host = (domain or headers.get("host", "")) if is_http_api(event) else (headers.get("host", "") or domain)
    if not host:
        return ""
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip() or "https"
    port = headers.get("x-forwarded-port", "").split(",")[0].strip()
    default_port = "443" if scheme == "https" else "80"
    if port and port != default_port and ":" not in host:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{_route_prefix(event)}".rstrip("/")


def public_base_url(event: Mapping[str, Any], configured: str = "") -> str:
    """The configured base URL, else ``derived_base_url`` ("" when neither names a host)."""
    return configured.rstrip("/") if configured else derived_base_url(event)


def context_base_url(event: Mapping[str, Any], configured: str = "") -> str:
    """Like ``public_base_url``, but never from request headers (``Host``, ``X-Forwarded-*``):
    from configuration, else the domain and path API Gateway itself recorded in
    ``requestContext``. For URLs we hand to Twilio that no signature check covers."""
    if configured:
        return configured.rstrip("/")
    host = str((event.get("requestContext") or {}).get("domainName") or "")
    return f"https://{host}{_route_prefix(event)}".rstrip("/")
