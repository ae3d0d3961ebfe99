"""The brute-force rules, pure: who is attested, withheld numbers as one caller, the budgets'
gates."""

from __future__ import annotations

import pytest

from dialin.guard.budgets import ATTESTED_VERSTAT, WITHHELD, Budget, Budgets, Gate, caller_of, is_attested
from dialin.guard.lockout import Counter

BUDGET = Budget(soft=20, hard=60, window_seconds=3600)


@pytest.mark.parametrize(
    "value", ["", "anonymous", "Anonymous", " restricted ", "+266696687", "+86282452253"]
)
def test_every_withheld_value_is_one_caller(value: str):
    assert caller_of(value) == WITHHELD
    assert not is_attested(value, ATTESTED_VERSTAT)


def test_only_a_full_attestation_counts():
    assert is_attested("+14155550123", ATTESTED_VERSTAT)
    for verstat in ("", "TN-Validation-Passed-B", "TN-Validation-Passed-C", "No-TN-Validation"):
        assert not is_attested("+14155550123", verstat)
    assert caller_of("+14155550123") == "+14155550123"


def test_a_budget_opens_slows_then_closes_within_its_window():
    assert BUDGET.gate(None, 0) is Gate.OPEN
    assert BUDGET.gate(Counter(19, 1000, 1500), 1500) is Gate.OPEN
    assert BUDGET.gate(Counter(20, 1000, 1500), 1500) is Gate.SLOW
    assert BUDGET.gate(Counter(60, 1000, 1500), 4599) is Gate.CLOSED
    assert BUDGET.gate(Counter(500, 1000, 1500), 4600) is Gate.OPEN  # the window is over


def test_the_stricter_budget_decides():
    budgets = Budgets(number=BUDGET, stack=Budget(soft=60, hard=240, window_seconds=3600))
    assert budgets.gate(Counter(20, 0, 0), Counter(0, 0, 0), 10) is Gate.SLOW
    assert budgets.gate(Counter(20, 0, 0), Counter(240, 0, 0), 10) is Gate.CLOSED
    assert budgets.gate(None, Counter(60, 0, 0), 10) is Gate.SLOW
