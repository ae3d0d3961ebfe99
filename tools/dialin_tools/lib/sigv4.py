"""POST JSON to our API: signed with SigV4 (service execute-api) and the caller's AWS
credentials, as API Gateway's AWS_IAM authorization expects, or unsigned for `dialin serve`."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from dialin_tools.errors import Unreachable

SERVICE = "execute-api"
EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class RequestFailed(Unreachable):
    """The URL could not be reached at all (exit status 2, as every "cannot reach")."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Signer:
    credentials: Any  # botocore Credentials (frozen or refreshable)
    region: str

    def headers(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        frozen = getattr(self.credentials, "get_frozen_credentials", None)
        credentials = frozen() if frozen else self.credentials
        SigV4Auth(credentials, SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def region_from_url(url: str) -> str | None:
    """``us-east-1`` for ``https://abc123.execute-api.us-east-1.amazonaws.com/Prod/calls``."""
    match = EXECUTE_API_HOST.match(urlsplit(url).hostname or "")
    return match.group(1) if match else None


def post_json(url: str, payload: Any, signer: Signer | None = None, timeout: float = 30) -> HttpResult:
    return request_json("POST", url, payload, signer, timeout)


def request_json(
    method: str,
    url: str,
    payload: Any = None,
    signer: Signer | None = None,
    timeout: float = 30,
    headers: dict[str, str] | None = None,
) -> HttpResult:
    """``method`` ``url`` with a JSON body (none when ``payload`` is None), SigV4-signed
    when a signer is given."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise RequestFailed(f"not an http(s) URL: {url}")
    body = b"" if payload is None else json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    if signer is not None:
        headers = signer.headers(method, url, body, headers)
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            return HttpResult(response.status, response.read().decode("utf-8", errors="replace"))
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, exc.read().decode("utf-8", errors="replace"))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RequestFailed(f"cannot reach {url}: {reason}") from None
