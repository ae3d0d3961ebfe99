"""The status callback route (/voice/status) through the real VoiceFunction handler."""

from __future__ import annotations

from typing import Any

import pytest
from support.observed import Observed
from support.twiml import parse
from support.voice import BASE, Handler

from dialin.voice.status import direction, duration_seconds
from dialin_tools.lib.apigw import signed_twilio_event

CALLER = "+14155550123"
NUMBER = "+15555550100"
CALL_SID = "CA" + "b" * 32


@pytest.fixture
def observed(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Observed:
    return Observed(caplog, capsys)


def status_event(status: str, direction: str = "inbound", **extra: str) -> dict[str, Any]:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": CALL_SID,
        "CallStatus": status,
        "Direction": direction,
        "From": CALLER if direction == "inbound" else NUMBER,
        "To": NUMBER if direction == "inbound" else CALLER,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
        "Timestamp": "Mon, 01 Jan 2035 10:00:00 +0000",
        **extra,
    }
    return signed_twilio_event(base_url=BASE, route="/voice/status", params=params, stage="Prod")


def test_completed_inbound_leg_is_logged_and_measured(voice_handler: Handler, observed: Observed):
    root = parse(voice_handler(status_event("completed", CallDuration="754")))
    assert list(root) == []  # empty TwiML: Twilio ignores the body of a status callback
    [line] = [line for line in observed.logs() if line["message"] == "leg ended"]
    assert {k: line[k] for k in ("status", "direction", "duration", "to", "from")} == {
        "status": "completed",
        "direction": "inbound",
        "duration": 754,
        "to": "+1…00",
        "from": "+1…23",
    }
    assert line["correlation_id"] == CALL_SID
    assert ("LegsCompleted", "Count", 1.0) in observed.metrics()
    assert ("LegDuration", "Seconds", 754.0) in observed.metrics()
    assert observed.nowhere(CALLER, NUMBER)


@pytest.mark.parametrize(
    ("status", "metric"),
    [
        ("busy", "LegsBusy"),
        ("no-answer", "LegsNoAnswer"),
        ("failed", "LegsFailed"),
        ("canceled", "LegsCanceled"),
    ],
)
def test_dial_out_legs_that_never_answered(
    voice_handler: Handler, observed: Observed, status: str, metric: str
):
    parse(voice_handler(status_event(status, "outbound-api", CallDuration="0", SipResponseCode="486")))
    [line] = [line for line in observed.logs() if line["message"] == "leg ended"]
    assert (line["status"], line["direction"], line["sipResponseCode"]) == (status, "outbound", "486")
    totals = observed.metric_totals()
    assert totals[metric] == 1
    assert not {m for m in totals if m.startswith("Legs")} - {metric}
    assert observed.nowhere(CALLER, NUMBER)


@pytest.mark.parametrize("status", ["initiated", "ringing", "in-progress", "queued"])
def test_progress_events_are_answered_but_not_counted(
    voice_handler: Handler, observed: Observed, status: str
):
    root = parse(voice_handler(status_event(status, "outbound-api")))
    assert list(root) == []
    assert not [line for line in observed.logs() if line["message"] == "leg ended"]
    assert not [m for m in observed.metric_totals() if m.startswith("Leg")]


def test_unsigned_or_missigned_status_callback_is_403(voice_handler: Handler, observed: Observed):
    forged = status_event("completed", CallDuration="5")
    forged["headers"]["X-Twilio-Signature"] = "bm90LWEtdmFsaWQtc2lnbmF0dXJlIQ=="
    assert voice_handler(forged)["statusCode"] == 403
    missing = status_event("completed")
    del missing["headers"]["X-Twilio-Signature"]
    del missing["multiValueHeaders"]["X-Twilio-Signature"]
    assert voice_handler(missing)["statusCode"] == 403
    wrong_token = signed_twilio_event(
        base_url=BASE, route="/voice/status", params={"CallSid": CALL_SID}, stage="Prod", token="other"
    )
    assert voice_handler(wrong_token)["statusCode"] == 403
    # A valid signature for another route does not carry over.
    elsewhere = signed_twilio_event(
        base_url=BASE, route="/voice/incoming", params={"CallSid": CALL_SID, "CallStatus": "completed"}
    )
    elsewhere["resource"] = elsewhere["path"] = "/voice/status"
    elsewhere["requestContext"]["path"] = "/Prod/voice/status"
    assert voice_handler(elsewhere)["statusCode"] == 403
    assert not [m for m in observed.metric_totals() if m.startswith("Leg")]


def test_tampered_status_is_403(voice_handler: Handler):
    event = status_event("completed", CallDuration="5")
    event["body"] = event["body"].replace("completed", "failed")
    assert voice_handler(event)["statusCode"] == 403


@pytest.mark.parametrize(
    ("raw", "seconds"), [("0", 0), ("86400", 86400), ("86401", None), ("-1", None), ("", None), ("٣", None)]
)
def test_duration_seconds(raw: str, seconds: int | None):
    assert duration_seconds(raw) == seconds


def test_direction():
    assert [direction(d) for d in ("inbound", "outbound-api", "outbound-dial", "")] == [
        "inbound",
        "outbound",
        "outbound",
        "unknown",
    ]
