"""What a function wrote: its log lines (as Powertools renders them for CloudWatch) and its
EMF metrics (printed to stdout when the handler returns)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from dialin.edge.observability import logger


def emf_metrics(lines: Iterable[str]) -> list[tuple[str, str, float]]:
    """(name, unit, value) for every value of every EMF blob among ``lines``."""
    found = []
    for line in lines:
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.append((metric["Name"], metric["Unit"], value))
    return found


def totals(metrics: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    summed: Counter[str] = Counter()
    for name, _, value in metrics:
        summed[name] += value
    return dict(summed)


@dataclass
class Emitted:
    """What the function wrote to stdout: Powertools JSON log lines and EMF metrics."""

    text: str

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def logs(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if "_aws" not in r]

    def metrics(self) -> dict[str, float]:
        """Metric name -> sum of its values, across every EMF blob."""
        return totals(emf_metrics(self.text.splitlines()))


@dataclass
class Observed:
    caplog: pytest.LogCaptureFixture
    capsys: pytest.CaptureFixture[str]
    _stdout: str = field(default="", init=False)

    def stdout(self) -> str:
        self._stdout += self.capsys.readouterr().out
        return self._stdout

    def logs(self) -> list[dict[str, Any]]:
        formatter = logger.registered_formatter
        return [json.loads(formatter.format(r)) for r in self.caplog.records if r.name == logger.name]

    def emf(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout().splitlines() if line.startswith('{"_aws"')]

    def metrics(self) -> list[tuple[str, str, float]]:
        """(name, unit, value) for every value published."""
        return emf_metrics(self.stdout().splitlines())

    def metric_totals(self) -> dict[str, float]:
        return totals(self.metrics())

    def nowhere(self, *texts: str) -> bool:
        """None of ``texts`` appears in any log line or metric."""
        written = self.stdout() + json.dumps(self.logs(), ensure_ascii=False) + self.caplog.text
        return not any(text in written for text in texts)
