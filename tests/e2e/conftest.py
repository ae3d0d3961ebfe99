"""The e2e tier: calls are signed with the documented dev token, whatever the shell has."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def dev_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
