"""Logs carry the CallSid as correlation id; EMF metrics count calls, connects, PIN failures
and unknown numbers; no PIN, token or full phone number is ever written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.voice import BASE, Handler

from dialin.edge.observability import logger
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, signed_twilio_event

CALLER = "+14155550123"
CALL_SID = "CA" + "f" * 32


def _run(handler: Handler, route: str, query=(), **params: str) -> dict[str, Any]:
    form = {"CallSid": CALL_SID, "From": CALLER, **params}
    return handler(signed_twilio_event(base_url=BASE, route=route, params=form, query=query, stage="Prod"))


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Iterator[callable]:
    """Everything the function writes: log lines (Logger's stream) and EMF (stdout)."""
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield lambda: stream.getvalue() + capsys.readouterr().out
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def _records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _metric_names(records: list[dict[str, Any]]) -> set[str]:
    names = set()
    for record in records:
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            names.update(m["Name"] for m in directive["Metrics"])
    return names


def test_logs_and_metrics_for_a_pin_call(voice_handler: Handler, output):
    _run(voice_handler, "/voice/incoming", To="+15555550101")
    _run(voice_handler, "/voice/incoming", To="+15555550199")
    query = [("a", "1"), ("l", "en-US"), ("m", "3"), ("p", "last-digits"), ("v", "Polly.Joanna")]
    _run(voice_handler, "/voice/pin", query, To="+15555550101", Digits="999999")
    _run(voice_handler, "/voice/pin", query, To="+15555550101", Digits="246810")
    out = output()
    records = _records(out)
    logs = [r for r in records if "message" in r]
    assert logs and all(r.get("correlation_id") == CALL_SID for r in logs)
    assert {"Calls", "Connects", "PinFailures", "UnknownNumbers"} <= _metric_names(records)
    for secret in ("246810", "999999", DEV_AUTH_TOKEN, DEV_PIN_PEPPER, CALLER, "+15555550101"):
        assert secret not in out


def test_rejected_signature_is_logged_without_the_body(voice_handler: Handler, output):
    event = signed_twilio_event(
        base_url=BASE, route="/voice/incoming", params={"To": "+15555550100", "From": CALLER}, token="forged"
    )
    assert voice_handler(event)["statusCode"] == 403
    out = output()
    assert "signature rejected" in out and "SignatureRejected" in out
    assert CALLER not in out and "+15555550100" not in out
