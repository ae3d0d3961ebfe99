"""The local demo directory (events/seed.json), loaded with the same code as `dialin import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialin.admin.bulk import ImportPlan
from dialin.admin.table import Admin
from dialin_tools.lib.template import ROOT

DEMO_SEED = ROOT / "events" / "seed.json"


def seed(client: Any, table_name: str, pepper: str, path: Path = DEMO_SEED) -> ImportPlan:
    """Import ``path`` (routes and PINs, JSON or CSV); returns what was written, PINs included."""
    return Admin(client, table_name, pepper).import_file(path)


def load_seed(client: Any, table_name: str, pepper: str, path: Path = DEMO_SEED) -> dict[str, int]:
    plan = seed(client, table_name, pepper, path)
    return {"routes": len(plan.routes), "pins": len(plan.pins)}
