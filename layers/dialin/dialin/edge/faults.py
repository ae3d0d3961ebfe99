"""Faults on our side, named for logs and metrics. The caller hears the same polite
"temporarily unavailable" for each; operators see which one it was. ``report`` is the one
reporter every function uses: a ``service fault`` log line and the metrics ``ServiceFaults``
and ``Fault<kind>``."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ..core.errors import BadState, CredentialsUnavailable, IncompleteRead
from ..core.records import MalformedRecord
from .observability import count, logger

THROTTLED = "Throttled"
TIMEOUT = "Timeout"
UNREACHABLE = "Unreachable"
ACCESS_DENIED = "AccessDenied"
SECRETS_UNAVAILABLE = "SecretsUnavailable"
MALFORMED_ITEM = "MalformedItem"
BAD_STATE = "BadState"
OTHER = "Other"

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "KMSAccessDeniedException"}
)
# What the functions catch as a fault on our side (each adds its own, e.g. a room conflict).
SERVICE_FAULTS = (
    BotoCoreError,
    ClientError,
    CredentialsUnavailable,
    MalformedRecord,
    BadState,
    IncompleteRead,
)


def classify(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in THROTTLING_CODES:
            return THROTTLED
        if code in ACCESS_DENIED_CODES:
            return ACCESS_DENIED
        return OTHER
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return TIMEOUT
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return UNREACHABLE
    if isinstance(exc, IncompleteRead):
        return THROTTLED
    if isinstance(exc, CredentialsUnavailable):
        return SECRETS_UNAVAILABLE
    if isinstance(exc, MalformedRecord):
        return MALFORMED_ITEM
    if isinstance(exc, BadState):
        return BAD_STATE
    return OTHER


def root_cause(exc: BaseException, depth: int = 6) -> str:
    """What failed underneath ``exc`` (e.g. the ReadTimeoutError behind "secret could not be
    read"): the first botocore error in the chain, as its error code or type name. Never a
    message: those may hold ARNs or keys."""
    current: BaseException | None = exc
    for _ in range(depth):
        if current is None:
            break
        if isinstance(current, ClientError):
            return str(current.response.get("Error", {}).get("Code") or "ClientError")
        if isinstance(current, BotoCoreError):
            return type(current).__name__
        current = current.__cause__ or current.__context__
    return type(exc).__name__


def report(where: str, exc: BaseException, **context: Any) -> str:
    """Log a ``service fault`` (the step, the fault's type, its kind and root cause, never
    its message) and count ``ServiceFaults`` and ``Fault<kind>``; returns the kind.
    ``context`` is logged with it: never a PIN or a full phone number."""
    kind = classify(exc)
    extra = {**context, "step": where, "fault": type(exc).__name__, "kind": kind, "cause": root_cause(exc)}
    logger.error("service fault", extra=extra)
    count("ServiceFaults")
    count(f"Fault{kind}")
    return kind
