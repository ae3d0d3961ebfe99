"""Fixtures of the handler tier beyond the suite's (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.admin_events import AdminHandler, admin_module
from support.voice import TABLE, Clock

from dialin.admin.api import AdminApp
from dialin.admin.table import Admin
from dialin_tools.lib.apigw import DEV_PIN_PEPPER


@pytest.fixture
def api(dynamodb: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> AdminHandler:
    """The real functions/admin/app.py handler on the seeded moto table."""
    module = admin_module()
    app = AdminApp(Admin(dynamodb, TABLE, DEV_PIN_PEPPER, clock=clock))
    monkeypatch.setattr(module, "admin", app)
    return AdminHandler(module, app)
