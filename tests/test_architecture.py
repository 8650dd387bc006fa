"""The package graph is one-way: leaf modules import no ptyflow, readers never load the writer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_path(module: str) -> Path:
    base = SRC.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(module: str) -> set[str]:
    """The ptyflow modules ``module`` imports at its top level (lazy imports in functions too)."""
    path = _module_path(module)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found |= {n if _module_path(n).exists() else node.module for n in names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("ptyflow")}


def _closure(module: str, *, within: str) -> set[str]:
    """Every module reached from ``module`` through modules inside package ``within``."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        for imported in _imports(current) - seen:
            seen.add(imported)
            if imported.startswith(within + "."):
                todo.append(imported)
    return seen


@pytest.mark.parametrize("leaf", ["ptyflow.errors", "ptyflow._files", "ptyflow._models"])
def test_leaf_modules_import_no_ptyflow(leaf: str) -> None:
    assert _imports(leaf) == set()


@pytest.mark.parametrize("package", ["physics", "dataset", "provenance"])
def test_foundation_packages_do_not_import_config(package: str) -> None:
    for path in (SRC / "ptyflow" / package).glob("*.py"):
        module = f"ptyflow.{package}.{path.stem}".removesuffix(".__init__")
        config = {m for m in _imports(module) if m.startswith("ptyflow.config")}
        assert not config, f"{module} imports {config}"


def test_reading_a_store_does_not_load_the_writer() -> None:
    reached = _closure("ptyflow.dataset._reader", within="ptyflow.dataset")
    assert "ptyflow.dataset._group" in reached  # the walk does follow the reader's imports
    writer = {"_store", "_writer", "_stored", "_frame_checks", "_close_store", "_bands"}
    assert not reached & {f"ptyflow.dataset.{name}" for name in writer}
