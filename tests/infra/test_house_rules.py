"""The house rules a review would otherwise count by hand: small modules with one concern
and short functions, everywhere outside tests/ and bench/."""

from __future__ import annotations

import ast
from pathlib import Path

import dialin
import dialin_tools
from dialin_tools.lib.template import ROOT

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # from its `def` to its last line, docstring included
SOURCE_DIRS = ("layers", "tools", "functions")


def sources() -> list[Path]:
    found = sorted(path for folder in SOURCE_DIRS for path in (ROOT / folder).rglob("*.py"))
    assert len(found) > 40  # the rules are checked over the real tree
    return found


def test_no_module_over_400_lines():
    long = {}
    for path in sources():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long[str(path.relative_to(ROOT))] = lines
    assert long == {}, f"split these modules by concern (at most {MAX_MODULE_LINES} lines)"


def test_no_function_over_60_lines():
    long = {}
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}, f"split these functions (at most {MAX_FUNCTION_LINES} lines)"


def test_every_module_is_on_the_code_map():
    """The package docstrings are the code map: each module is named (``name``) in the
    docstring of the package that holds it, and each package in its parent's (a package of
    one module per language, ``catalogues``, is named as a whole)."""
    import importlib

    missing = []
    for package in (dialin,):
        root = Path(package.__file__).parent
        for path in root.rglob("*.py"):
            if path.stem in ("__init__", "cli"):
                path = path.parent
                if path == root:
                    continue
            parent = path.parent
            dotted = ".".join((package.__name__, *parent.relative_to(root).parts))
            doc = importlib.import_module(dotted).__doc__ or ""
            holder = package.__doc__ or ""
            if path.parent.name == "catalogues" or f"``{path.stem}``" in doc or f"``{path.stem}``" in holder:
                continue
            missing.append(str(path.relative_to(root)))
    assert sorted(set(missing)) == [], "name these in their package's docstring (the code map)"
    tools_doc = dialin_tools.__doc__ or ""
    root = Path(dialin_tools.__file__).parent
    unnamed = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.stem not in ("__init__", "cli")
        and not any(f"``{name}``" in tools_doc for name in (path.stem, *path.relative_to(root).parent.parts))
    )
    assert unnamed == [], f"name these in dialin_tools' docstring (the code map): {unnamed}"


def test_every_package_is_installed():
    """pyproject.toml lists the packages explicitly: a new sub-package must be added there, or
    a non-editable install (and the wheel) would silently lack it."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = set()
    for top, folder in (
        ("dialin", ROOT / "layers" / "dialin" / "dialin"),
        ("dialin_tools", ROOT / "tools" / "dialin_tools"),
    ):
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            found.add(".".join((top, *parts)))
    assert found == listed
