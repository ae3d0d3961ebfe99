"""TwiML answers, parsed: a test fails unless the answer is a 200 with a TwiML <Response>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def parse(response: dict[str, Any]) -> ET.Element:
    """The TwiML of a handler response, parsed; fails the test if it is not a 200 TwiML."""
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"] == "application/xml"
    root = ET.fromstring(response["body"])
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def said(root: ET.Element) -> str:
    return " ".join((el.text or "") for el in root.iter("Say"))
