"""The metric names the code publishes, found by reading the source (AST), so a metric
renamed in the code no longer matches a dashboard or alarm that plots the old name."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where metrics are published: the runtime library and the functions' handlers.
SOURCES = (ROOT / "layers" / "dialin" / "dialin", ROOT / "functions")
PUBLISHERS = {"count", "count_by", "add_metric", "single_metric", "timings"}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _names(node: ast.expr | None, prefixes: set[str]) -> Iterable[str]:
    """String literals a name argument can take ("A" if x else "B" gives both); an f-string
    gives its literal head as a prefix (``f"Fault{kind}"`` -> ``Fault``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _names(node.body, prefixes)
        yield from _names(node.orelse, prefixes)
    elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        prefixes.add(str(node.values[0].value))


def _outcome_table(node: ast.AST) -> Iterable[str]:
    """An app's table of outcomes (``NAME_OUTCOMES = {outcome: (metric, ...)}``): each
    metric it names, counted where the app looks the outcome up (voice.app)."""
    if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        if any(isinstance(t, ast.Name) and t.id.endswith("_OUTCOMES") for t in targets):
            for value in node.value.values:
                first = value.elts[0] if isinstance(value, ast.Tuple) and value.elts else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                    yield first.value


def scan(source: str) -> tuple[set[str], set[str]]:
    """(metric names, f-string prefixes) published by one module's source."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names.update(_outcome_table(node))
        if isinstance(node, ast.Call) and _callee(node) in PUBLISHERS:
            keyword = next((k.value for k in node.keywords if k.arg == "name"), None)
            names.update(_names(keyword or (node.args[0] if node.args else None), prefixes))
    return names, prefixes


def published(sources: Iterable[Path] = SOURCES) -> tuple[set[str], set[str]]:
    names: set[str] = set()
    prefixes: set[str] = set()
    for folder in sources:
        for path in sorted(folder.rglob("*.py")):
            found, heads = scan(path.read_text(encoding="utf-8"))
            names |= found
            prefixes |= heads
    return names, prefixes
