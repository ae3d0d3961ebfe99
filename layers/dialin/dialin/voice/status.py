"""Status callbacks: how each phone leg ended, as a log line and metrics.

Inbound numbers and dial-out calls both send their status callback here. Only final
statuses are recorded; numbers appear masked, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from ..calls.call import Call
from ..core.validation import mask_number
from ..edge.observability import count, logger, metrics

# Final CallStatus values and the metric each one counts.
FINAL_STATUSES = {
    "completed": "LegsCompleted",
    "busy": "LegsBusy",
    "no-answer": "LegsNoAnswer",
    "failed": "LegsFailed",
    "canceled": "LegsCanceled",
}
DURATION_METRIC = "LegDuration"
# Twilio ends every call after at most 24 hours.
MAX_DURATION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LegEnd:
    status: str
    direction: str  # inbound, outbound or unknown
    duration: int | None  # seconds; Twilio sends it with the final status only
    sip_response_code: str = ""

    @property
    def metric(self) -> str:
        return FINAL_STATUSES[self.status]


def direction(raw: str) -> str:
    if raw == "inbound":
        return "inbound"
    # outbound-api (our dial-out) and outbound-dial (a <Dial> leg)
    return "outbound" if raw.startswith("outbound") else "unknown"


def duration_seconds(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_DURATION_SECONDS else None


def leg_end(call: Call) -> LegEnd | None:
    """How the leg ended, or None while it is still in progress (initiated, ringing, ...)."""
    if call.status not in FINAL_STATUSES:
        return None
    code = call.sip_response_code
    return LegEnd(
        status=call.status,
        direction=direction(call.direction),
        duration=duration_seconds(call.duration),
        sip_response_code=code if code.isascii() and code.isdigit() and len(code) == 3 else "",
    )


def record_status(call: Call) -> LegEnd | None:
    count("StatusCallbacks")
    end = leg_end(call)
    if end is None:
        logger.debug("leg progress", extra={"step": "status", "status": call.status[:32]})
        return None
    count(end.metric)
    if end.duration is not None:
        metrics.add_metric(name=DURATION_METRIC, unit=MetricUnit.Seconds, value=end.duration)
    fields: dict[str, object] = {
        "step": "status",
        "status": end.status,
        "direction": end.direction,
        "duration": end.duration,
        "to": mask_number(call.to_number),
        "from": mask_number(call.from_number),
    }
    if end.sip_response_code:
        fields["sipResponseCode"] = end.sip_response_code
    logger.info("leg ended", extra=fields)
    return end
