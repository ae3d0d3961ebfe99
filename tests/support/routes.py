"""template.yaml's API routes, read once per test session (parsing it takes about 150 ms)."""

from __future__ import annotations

from functools import cache

from dialin_tools.lib import template as tpl


@cache
def api_routes() -> tuple[tpl.ApiRoute, ...]:
    return tuple(tpl.api_routes(tpl.load()))


def api_route(path: str) -> tpl.ApiRoute:
    """The route the template declares for ``path`` (the first, if several methods share it)."""
    return next(route for route in api_routes() if route.path == path)
