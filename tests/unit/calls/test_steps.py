"""The state a step carries in its signed URL: what the PIN step keeps (attestation, not
before, expiry), and a query that names a key twice (alike: one value; differing: refused)."""

from __future__ import annotations

import pytest

from dialin.calls.steps import PinState, Speech, single_values
from dialin.core.errors import BadState


def test_pin_state_round_trips_attestation_not_before_and_expiry():
    state = PinState(1, 1, Speech(), "", attested=True, not_before=1_800_000_020, expires=1_800_000_320)
    query = {k: str(v) for k, v in state.query().items() if v != ""}
    assert PinState.from_query(query) == state
    with pytest.raises(BadState):
        PinState.from_query({**query, "k": "2"})


def test_a_repeated_state_key_is_refused():
    assert single_values([("a", "1"), ("m", "3")]) == {"a": "1", "m": "3"}
    with pytest.raises(BadState):
        single_values([("a", "1"), ("m", "3"), ("m", "10")])


def test_a_state_key_repeated_with_the_same_value_is_that_value():
    assert single_values([("l", "fr-FR"), ("a", "1"), ("l", "fr-FR")]) == {"l": "fr-FR", "a": "1"}
