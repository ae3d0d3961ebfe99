"""The package layering as a test, on the real import graph (the way import-linter's
"layers" contract does): a package imports only from packages listed before it."""

from __future__ import annotations

import ast
from pathlib import Path

import dialin

# Lowest first. A module may import its own package and any package before it.
LAYERS = ("core", "speech", "edge", "guard", "calls", "rooms", "dialout", "voice", "admin")
ROOT = Path(dialin.__file__).parent


def imported_packages(path: Path, root: Path = ROOT) -> set[str]:
    """The dialin packages one module imports (absolute or relative)."""
    here = path.relative_to(root).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - (node.level - 1)]) if node.level > 1 else list(here)
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [target] if target else [[alias.name] for alias in node.names]
            elif node.module and node.module.split(".")[0] == "dialin":
                target = node.module.split(".")[1:]
                names = [target] if target else [[alias.name] for alias in node.names]
            else:
                continue
            found.update(parts[0] for parts in names if parts)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "dialin" and len(parts) > 1:
                    found.add(parts[1])
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2:
            continue
        edges.setdefault(parts[0], set()).update(imported_packages(path) - {parts[0]})
    return edges


def test_the_layers_name_every_package():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert packages == set(LAYERS)


def test_no_package_imports_a_later_one():
    order = {name: index for index, name in enumerate(LAYERS)}
    forbidden = sorted(
        f"{package} -> {target}"
        for package, targets in graph().items()
        for target in targets
        if order[target] >= order[package]
    )
    assert forbidden == [], f"imports against the layering {' < '.join(LAYERS)}"


def test_the_graph_is_read_from_the_code():
    """The check sees real edges (the test would pass vacuously on an empty graph)."""
    edges = graph()
    assert "core" in edges["voice"] and "guard" in edges["voice"] and "rooms" in edges["voice"]
    assert edges["core"] == set()


def test_a_forbidden_import_is_caught(tmp_path: Path):
    assert imported_packages(ROOT / "core" / "validation.py") == set()
    (tmp_path / "core").mkdir()
    probe = tmp_path / "core" / "probe.py"
    probe.write_text("from ..voice import flow\nfrom dialin.rooms.state import Room\n", encoding="utf-8")
    assert imported_packages(probe, tmp_path) == {"voice", "rooms"}


def test_init_files_import_nothing():
    for init in ROOT.rglob("__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert not [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)], init
