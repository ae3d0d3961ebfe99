"""Powertools Logger and Metrics, shared by the functions. Logs carry the CallSid as the
correlation id and never a PIN, a token or a full phone number (see ``mask_number``)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit, single_metric

SERVICE = "dialin"
NAMESPACE = "DialIn"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, label: str, value: int = 1) -> None:
    """A metric with a dimension of its own (e.g. per dialed number), flushed at once so it
    does not add the dimension to the other metrics. ``label`` must never be a full number."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name=dimension, value=label)


def timings(name: str, dimension: str, label: str, values_ms: Iterable[float]) -> None:
    """Several values of one metric with a dimension of its own, in one EMF line (a shared
    ``Metrics`` would add the dimension to every metric of the invocation)."""
    values = list(values_ms)
    if not values:
        return
    batch = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    batch.add_dimension(name=dimension, value=label)
    for value in values:
        batch.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
    batch.flush_metrics()
