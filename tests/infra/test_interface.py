"""template.yaml's AWS::CloudFormation::Interface: what `sam deploy --guided` and the console
show. Every parameter sits in exactly one group and has a label; no group or label names a
parameter the template does not have."""

from __future__ import annotations

from collections import Counter
from typing import Any


def interface(template: dict[str, Any]) -> dict[str, Any]:
    return template["Metadata"]["AWS::CloudFormation::Interface"]


def test_every_parameter_is_in_exactly_one_group(template: dict[str, Any]):
    grouped = Counter(
        name for group in interface(template)["ParameterGroups"] for name in group["Parameters"]
    )
    parameters = set(template["Parameters"])
    assert sorted(parameters - set(grouped)) == [], "put these parameters in a ParameterGroup"
    assert sorted(set(grouped) - parameters) == [], "these grouped parameters do not exist"
    assert sorted(name for name, times in grouped.items() if times > 1) == [], "in more than one group"


def test_every_group_has_a_label_and_parameters(template: dict[str, Any]):
    labels = [group["Label"]["default"] for group in interface(template)["ParameterGroups"]]
    assert all(label.strip() for label in labels)
    assert len(set(labels)) == len(labels)
    assert all(group["Parameters"] for group in interface(template)["ParameterGroups"])


def test_every_parameter_has_a_short_label(template: dict[str, Any]):
    labels = {name: label["default"] for name, label in interface(template)["ParameterLabels"].items()}
    assert sorted(set(template["Parameters"]) - set(labels)) == [], "give these parameters a label"
    assert sorted(set(labels) - set(template["Parameters"])) == [], "labels of parameters that do not exist"
    assert [name for name, label in labels.items() if not label.strip() or len(label) > 50] == []
