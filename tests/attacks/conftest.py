"""The attack tier's shared stack: three PIN numbers, 200 live unscoped PINs over 20 rooms,
the default settings, the real voice handler on moto and a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.attacker import LIVE_PINS, add_live_pins, add_pin_numbers, voice_handler_with
from support.voice import Clock


@pytest.fixture
def stack(empty_table: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    add_pin_numbers(empty_table)
    add_live_pins(empty_table, clock, LIVE_PINS)
    # Thousands of requests: their per-request log lines would only slow the run down.
    from dialin.edge.observability import logger

    level = logger.log_level
    logger.setLevel("ERROR")
    yield voice_handler_with(empty_table, clock, monkeypatch)
    logger.setLevel(level)
