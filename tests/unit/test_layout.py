"""The layers stay layers: the library imports no Dagster, the core no source, and the README's
layout tree names folders that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ingestion.core.connections import ANALYST_ROLE, LOADER_ROLE, TRANSFORMER_ROLE

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("collector", "file_drops", "claude_code", "prices")


def _imports(folder: str, module_level: bool = False) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        modules = set()
        tree = ast.parse(path.read_text())
        for node in tree.body if module_level else ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module)
        found[str(path.relative_to(ROOT))] = modules
    return found


def test_the_library_and_the_warehouse_administration_import_no_dagster_or_orchestration():
    wrong = {
        path: sorted(
            m for m in modules if m.split(".")[0] in ("dagster", "dagster_dbt", "orchestration")
        )
        for folder in ("ingestion", "warehouse")
        for path, modules in _imports(folder).items()
    }
    assert {path: modules for path, modules in wrong.items() if modules} == {}


def test_the_core_imports_no_source():
    wrong = {
        path: sorted(m for m in modules if m.startswith(tuple(f"ingestion.{s}" for s in SOURCES)))
        for path, modules in _imports("ingestion/core").items()
    }
    assert {path: modules for path, modules in wrong.items() if modules} == {}


def test_nothing_installed_imports_the_developer_tools_when_it_loads():
    """(`atw generate` and `atw demo` find devtools/ in the checkout when they run.)"""
    wrong = {
        path: sorted(m for m in modules if m.startswith(("devtools", "benchmarks", "tests")))
        for folder in ("ingestion", "warehouse", "orchestration", "expectations")
        for path, modules in _imports(folder, module_level=True).items()
    }
    assert {path: modules for path, modules in wrong.items() if modules} == {}


def test_the_role_names_are_the_ones_the_roles_script_creates():
    script = (ROOT / "warehouse" / "sql" / "roles.sql").read_text()
    created = re.search(r"foreach name in array array\[([^\]]+)\]", script).group(1)
    assert [name.strip(" '") for name in created.split(",")] == [
        LOADER_ROLE,
        TRANSFORMER_ROLE,
        ANALYST_ROLE,
    ]


def test_the_readme_tree_names_folders_that_exist():
    readme = (ROOT / "README.md").read_text()
    tree = readme.split("## Layout", 1)[1].split("```", 2)[1]
    parents: list[str] = []
    for line in tree.splitlines():
        match = re.match(r"( *)([a-z_]+/(?:[a-z_<>]+/)?)(?:\s|$)", line)
        if not match or "<" in match.group(2):
            continue
        depth = len(match.group(1)) // 2
        parents = parents[:depth] + [match.group(2)]
        assert (ROOT / "".join(parents)).is_dir(), "".join(parents)
