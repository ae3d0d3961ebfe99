"""The CloudWatch dashboard: every DialIn metric it plots is one the code publishes (no dead
widgets), every function is on it, its URL is a stack output, and template.yaml carries the
body generated from tools/dialin_tools/lib/dashboard.py (`make dashboard`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from support.published_metrics import published, scan

from dialin.edge import faults
from dialin.voice import status
from dialin_tools.lib import dashboard as generator
from dialin_tools.lib import template as tpl

NAMESPACE = "DialIn"
SEARCH_NAME = re.compile(r"MetricName=\\?\"(\w+)\\?\"")


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{[^}]+\}", "x", body))


def plotted(board: dict[str, Any], namespace: str) -> list[tuple[str, ...]]:
    """(metric name, *dimension values) of every metric in ``namespace`` the widgets plot,
    the names inside SEARCH expressions included."""
    found = []
    for widget in board["widgets"]:
        previous: list[Any] = []
        for row in widget["properties"].get("metrics", []):
            spec = [item for item in row if not isinstance(item, dict)]
            spec = [previous[i] if item == "." and i < len(previous) else item for i, item in enumerate(spec)]
            previous = spec
            if spec and spec[0] == namespace:
                found.append(tuple(spec[1:]))
            for options in (item for item in row if isinstance(item, dict)):
                expression = options.get("expression", "")
                if f"{{{namespace}," in expression:
                    found += [(name,) for name in SEARCH_NAME.findall(expression)]
    return found


def code_metrics() -> set[str]:
    names, prefixes = published()
    # Published by name from a table of the code's own (not literals in the call).
    names |= set(status.FINAL_STATUSES.values()) | {status.DURATION_METRIC}
    kinds = {v for k, v in vars(faults).items() if k.isupper() and isinstance(v, str)}
    assert prefixes == {"Fault"}, f"expand the new f-string metric names {prefixes} here"
    return names | {f"Fault{kind}" for kind in kinds}


def test_every_plotted_dialin_metric_is_published_by_the_code(template: dict[str, Any]):
    names = {spec[0] for spec in plotted(dashboard(template), NAMESPACE)}
    dead = sorted(names - code_metrics())
    assert not dead, f"the dashboard plots metrics the code does not publish: {dead}"


def test_the_dashboard_shows_what_operators_asked_for(template: dict[str, Any]):
    names = {spec[0] for spec in plotted(dashboard(template), NAMESPACE)}
    faults_by_kind = {name for name in code_metrics() if name.startswith("Fault")}
    wanted = {"Calls", "Connects", "PinFailures", "PinFailuresByNumber", "LockedOutCalls", "CallersLockedOut"}
    wanted |= {"ServiceFaults", *faults_by_kind, "DialOutPlaced", "DialOutNotConfirmed", "LegsNoAnswer"}
    assert wanted <= names
    # Metrics with the service dimension (the default Powertools adds), and only the metrics
    # published with a dimension of their own (observability.timings) with that one too.
    own = {"JoinDelay": "Joined"}
    for spec in plotted(dashboard(template), NAMESPACE):
        assert spec[1:3] in ((), ("service", "dialin")), spec
        assert len(spec) <= 3 or spec[3:-1] == (own.get(spec[0]),), spec


def test_every_function_has_duration_percentiles_errors_and_the_api_its_latency(template: dict[str, Any]):
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    functions = [
        name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    ]
    lambda_rows = [
        (row[1], row[3], (row[4] if len(row) > 4 else {}).get("stat"))
        for widget in json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))["widgets"]
        for row in widget["properties"].get("metrics", [])
        if row[0] == "AWS/Lambda"
    ]
    for function in functions:
        missing = f"add {function} to FUNCTIONS in dialin_tools/lib/dashboard.py, then `make dashboard`"
        assert ("Duration", function, "p50") in lambda_rows, missing
        assert ("Duration", function, "p99") in lambda_rows, missing
        assert any(metric == "Errors" and name == function for metric, name, _ in lambda_rows), missing
    api = {spec[0] for spec in plotted(dashboard(template), "AWS/ApiGateway")}
    assert {"Latency", "4XXError", "5XXError"} <= api


def test_a_metric_renamed_in_the_code_no_longer_counts_as_published():
    names, _ = scan('count("Calls")\ncount("A" if ok else "B")\ncount_by("ByNumber", "D", label)')
    assert names == {"Calls", "A", "B", "ByNumber"}
    renamed, _ = scan('count("IncomingCalls")')
    assert "Calls" not in renamed


def test_the_dashboard_url_is_an_output(template: dict[str, Any]):
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/")
    assert url.endswith("#dashboards:name=${Dashboard}")


def test_the_template_carries_the_generated_dashboard():
    text = tpl.TEMPLATE.read_text(encoding="utf-8")
    stale = "template.yaml's dashboard is not what dialin_tools/lib/dashboard.py generates: `make dashboard`"
    assert generator.rewrite(text) == text, stale


def test_the_deployed_body_is_the_generated_one(template: dict[str, Any]):
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert json.loads(body) == generator.body()


def test_make_dashboard_rewrites_only_between_the_markers():
    text = tpl.TEMPLATE.read_text(encoding="utf-8")
    edited = text.replace('"title": "Calls and joins"', '"title": "Old title"')
    assert edited != text
    assert generator.rewrite(edited) == text
    with pytest.raises(ValueError, match="markers"):
        generator.rewrite(text.replace(generator.END, "# the end marker, lost"))


def test_the_widgets_are_laid_out_without_overlap():
    cells: set[tuple[int, int]] = set()
    for widget in generator.body()["widgets"]:
        assert widget["x"] + widget["width"] <= generator.FULL
        area = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not area & cells, widget["properties"].get("title")
        cells |= area
