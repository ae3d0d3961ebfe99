"""Powertools Logger and Metrics, shared by the functions. Logs carry the CallSid as the
correlation id and never a PIN, a token or a full phone number (see ``mask_number``)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "dialin"
NAMESPACE = "DialIn"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
