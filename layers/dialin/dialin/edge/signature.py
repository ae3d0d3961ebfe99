"""Twilio request signatures for API Gateway events.

Twilio signs the exact public URL it requested plus the sorted POST parameters. Behind
API Gateway that URL is not in the event as such, so it is rebuilt here: from the
configured public base URL when there is one, else from the Host header (or the domain API
Gateway recorded) and the path API Gateway saw (``requestContext.path`` keeps the stage and
any base path mapping), with the route as requested (a trailing slash kept).

``signed_params`` is the one preamble of every Twilio webhook (voice steps, room callbacks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any
from urllib.parse import quote, quote_plus

from twilio.request_validator import RequestValidator

from ..core.errors import BadRequest
from .apigateway import (
    FormParams,
    form_params,
    is_http_api,
    lower_headers,
    public_base_url,
    query_pairs,
    requested_route,
    route_path,
)
from .observability import count, logger

SIGNATURE_HEADER = "x-twilio-signature"
# Twilio's signature is an HMAC-SHA1 in base64: a header of any other shape is no signature,
# refused before the body is parsed or a token read.
SIGNATURE_SHAPE = re.compile(r"[A-Za-z0-9+/]{27}=")
# A Twilio webhook's form is a few KB (a long SpeechResult included); a bigger body is not
# Twilio's and is refused unparsed (API Gateway would hand a function up to 6 MB).
MAX_BODY_CHARS = 64 * 1024


# A query with a repeated key: at most this many further orderings are tried, and only for
# a query of at most MAX_INTERLEAVED_PAIRS pairs (an operator's URL has a few).
MAX_ORDERINGS = 24
MAX_INTERLEAVED_PAIRS = 12


def _query_variants(event: Mapping[str, Any]) -> Iterator[str]:
    """Query strings Twilio may have requested, most likely first, each built only when
    the ones before it did not match.

    HTTP API v2 keeps the raw query. REST API v1 only gives decoded parameters, so the
    string is rebuilt in the order given and in sorted order (our own URLs are sorted),
    with both percent-encoding styles. Its ``multiValueQueryStringParameters`` group a
    repeated key's values (``x=1&y=2&x=3`` arrives as ``x: [1, 3], y: [2]``), so with a
    repeated key the interleavings that keep each key's values in order are tried too.
    """
    if is_http_api(event):
        yield str(event.get("rawQueryString") or "")
        return
    pairs = query_pairs(event)
    if not pairs:
        yield ""
        return
    seen: set[str] = set()
    orders: Iterable[list[tuple[str, str]]] = (pairs, sorted(pairs))
    if len({key for key, _ in pairs}) < len(pairs) <= MAX_INTERLEAVED_PAIRS:
        orders = chain(orders, islice(_interleavings(pairs), MAX_ORDERINGS))
    for ordered in orders:
        for quoter in (quote, quote_plus):
            text = "&".join(f"{quoter(k, safe='')}={quoter(v, safe='')}" for k, v in ordered)
            if text not in seen:
                seen.add(text)
                yield text


def _interleavings(pairs: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """The orders of ``pairs`` a grouped multi-value map may have come from: the keys first
    appear in their given order, each key's values stay in order, and a key's later values
    may come anywhere after its earlier ones (``x=1&y=2&x=3`` from ``x: [1, 3], y: [2]``)."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    keys = list(values)
    taken = dict.fromkeys(keys, 0)

    def orders(prefix: list[tuple[str, str]], started: int) -> Iterator[list[tuple[str, str]]]:
        if len(prefix) == len(pairs):
            yield list(prefix)
            return
        for index, key in enumerate(keys[: started + 1]):
            used = taken[key]
            if used < len(values[key]):
                taken[key] = used + 1
                yield from orders([*prefix, (key, values[key][used])], max(started, index + 1))
                taken[key] = used

    return orders([], 0)


def _candidate_urls(event: Mapping[str, Any], configured_base: str = "") -> Iterator[str]:
    """The URLs Twilio may have signed: the base, the route as requested (a trailing slash
    kept), and each query variant. None when no base URL is known (no Host, no domain, no
    configured URL): nothing then matches, and the request is refused."""
    base = public_base_url(event, configured_base)
    if not base:
        return iter(())
    path = requested_route(event)
    return (f"{base}{path}" + (f"?{q}" if q else "") for q in _query_variants(event))


def candidate_urls(event: Mapping[str, Any], configured_base: str = "") -> list[str]:
    return list(_candidate_urls(event, configured_base))


def is_valid(
    event: Mapping[str, Any],
    params: FormParams,
    tokens: Iterable[str],
    configured_base: str = "",
) -> bool:
    """True when ``X-Twilio-Signature`` matches for any accepted token. Fails closed.

    Tokens and URL variants are both produced on demand: the usual request matches the
    current token on the first URL, so nothing else is built or fetched.
    """
    signature = lower_headers(event).get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    pending = _candidate_urls(event, configured_base)
    built: list[str] = []

    def urls() -> Iterator[str]:
        yield from built
        for url in pending:
            built.append(url)
            yield url

    try:
        for token in tokens:
            if token and any(RequestValidator(token).validate(url, params, signature) for url in urls()):
                return True
    except ValueError:  # a URL no request of Twilio's has: bad port in Host, lone surrogates
        return False
    return False


def signed_params(
    event: Mapping[str, Any], tokens_for: Callable[[str], Iterable[str]], configured_base: str = ""
) -> FormParams | None:
    """The form parameters of a request Twilio signed (with a token ``tokens_for`` gives for
    its AccountSid), or None: refused, logged and counted (``SignatureRejected``); the
    caller answers 403. A fault reading the tokens is raised, for the caller's fault answer."""
    route = route_path(event)
    unfit = _unfit(event)
    if unfit:
        logger.warning("signature rejected", extra={"route": route, "reason": unfit})
        count("SignatureRejected")
        return None
    try:
        params = form_params(event)
        if is_valid(event, params, tokens_for(params.get("AccountSid")), configured_base):
            return params
        logger.warning("signature rejected", extra={"route": route})
    except BadRequest:
        logger.warning("unreadable request rejected", extra={"route": route})
    count("SignatureRejected")
    return None


def _unfit(event: Mapping[str, Any]) -> str:
    """Why a request cannot be one Twilio signed, told without parsing its body ("" if it may)."""
    if not SIGNATURE_SHAPE.fullmatch(lower_headers(event).get(SIGNATURE_HEADER, "")):
        return "no signature"
    if len(str(event.get("body") or "")) > MAX_BODY_CHARS:
        return "body too large"
    return ""
