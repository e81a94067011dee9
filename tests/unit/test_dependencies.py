"""The runtime dependencies in pyproject.toml are exactly what runtime code imports.

Runtime code is bot/ (the demo included: `intake demo` is the README's first command), rules/, db/ and
templates/. A [project] dependency that none of it imports is dead weight in every install (mail-parser
was one: it belongs to the test extra, as an oracle); a third-party module that runtime code imports
without declaring it works only while some other package happens to pull it in.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("bot", "rules", "db", "templates")
FIRST_PARTY = set(RUNTIME)

# Dependencies runtime code needs without importing them (a driver loaded by URL, a plugin found by
# entry point), each with the reason. None today: the demo's servers (pymap, aiosmtpd, trustme) are
# imported by bot/demo like any other runtime code.
NOT_IMPORTED: dict[str, str] = {}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = []
    for spec in project["dependencies"]:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        assert match, spec
        names.append(_normalized(match.group()))
    return names


@cache
def _runtime_imports() -> dict[str, list[str]]:
    """Top-level module name -> the runtime files importing it (absolute imports only)."""
    found: dict[str, list[str]] = {}
    for folder in RUNTIME:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], []).append(str(path.relative_to(ROOT)))
    return found


@cache
def _modules_of() -> dict[str, set[str]]:
    """Distribution (normalized) -> the top-level modules it installs."""
    modules: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            modules.setdefault(_normalized(distribution), set()).add(module)
    return modules


def test_the_scan_sees_imports_inside_functions() -> None:
    # bot/demo imports pymap inside a method (it registers plugins on import): the scan must see it.
    assert "bot/demo/servers.py" in _runtime_imports()["pymap"]


@pytest.mark.parametrize("distribution", _declared())
def test_every_runtime_dependency_is_imported_by_runtime_code(distribution: str) -> None:
    if distribution in NOT_IMPORTED:
        return
    modules = _modules_of().get(distribution)
    assert modules, f"{distribution} is declared but not installed"
    used = modules & set(_runtime_imports())
    assert used, f"{distribution} ({', '.join(sorted(modules))}) is a runtime dependency no runtime code imports"


def test_every_third_party_import_in_runtime_code_is_declared() -> None:
    declared = set(_declared()) | set(NOT_IMPORTED)
    owners = packages_distributions()
    undeclared = {}
    for module, files in _runtime_imports().items():
        if module in FIRST_PARTY or module in sys.stdlib_module_names or module == "__future__":
            continue
        distributions = {_normalized(d) for d in owners.get(module, [])}
        if not distributions & declared:
            undeclared[module] = (sorted(distributions) or ["not installed"], sorted(set(files)))
    assert not undeclared, f"imported by runtime code but not in [project] dependencies: {undeclared}"


def test_allow_list_names_only_declared_dependencies() -> None:
    assert set(NOT_IMPORTED) <= set(_declared())
