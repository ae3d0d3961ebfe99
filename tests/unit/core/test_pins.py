"""PINs as callers hear them read aloud."""

from __future__ import annotations

import pytest

from dialin.core.pins import group_digits


@pytest.mark.parametrize(
    ("pin", "spoken"), [("123456", "123 456"), ("1234567", "123 4567"), ("1234567890", "123 456 7890")]
)
def test_pins_are_read_aloud_in_groups(pin: str, spoken: str):
    assert group_digits(pin) == spoken
