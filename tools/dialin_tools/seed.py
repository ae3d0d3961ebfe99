"""Load a directory file (routes and PINs, JSON) into the table: the local demo seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dialin.pins import hash_pin
from dialin.records import PinGrant, Route

from .template import ROOT

DEMO_SEED = ROOT / "events" / "seed.json"


def route_from_dict(data: dict[str, Any]) -> Route:
    return Route.from_item(Route(**{k: data[k] for k in Route.__dataclass_fields__ if k in data}).to_item())


def pin_from_dict(data: dict[str, Any], pepper: str) -> PinGrant:
    fields = {k: data[k] for k in PinGrant.__dataclass_fields__ if k in data and k != "pin_hash"}
    grant = PinGrant(pin_hash=hash_pin(pepper, str(data["pin"])), **fields)
    return PinGrant.from_item(grant.to_item())


def load_seed(client: Any, table_name: str, pepper: str, path: Path = DEMO_SEED) -> dict[str, int]:
    data = json.loads(path.read_text(encoding="utf-8"))
    routes = [route_from_dict(r) for r in data.get("routes", [])]
    pins = [pin_from_dict(p, pepper) for p in data.get("pins", [])]
    for route in routes:
        client.put_item(TableName=table_name, Item=route.to_item())
    for grant in pins:
        client.put_item(TableName=table_name, Item=grant.to_item())
    return {"routes": len(routes), "pins": len(pins)}
