"""What a function wrote: its log lines (as Powertools renders them for CloudWatch) and its
EMF metrics (printed to stdout when the handler returns)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from dialin.observability import logger


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
        found = []
        for blob in self.emf():
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    values = blob[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        found.append((metric["Name"], metric["Unit"], value))
        return found

    def metric_totals(self) -> dict[str, float]:
        totals: Counter[str] = Counter()
        for name, _, value in self.metrics():
            totals[name] += value
        return dict(totals)

    def nowhere(self, *texts: str) -> bool:
        """None of ``texts`` appears in any log line or metric."""
        written = self.stdout() + json.dumps(self.logs(), ensure_ascii=False) + self.caplog.text
        return not any(text in written for text in texts)
