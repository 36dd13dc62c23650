"""Hygiene of the plugin system as tests (STYLE #15): built-ins are registered, tested and documented,
and every extension point of engine.plugins has a docstring.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pytest

import engine.plugins
from engine.plugins import StepPlugin

ROOT = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent
GUIDE = ROOT / "docs" / "plugins.md"


def built_in_entry_points(pyproject_text: str) -> dict[str, str]:
    """Entry points of group waypost.steps in pyproject.toml that name a module of engine.builtins."""
    declared = tomllib.loads(pyproject_text)["project"]["entry-points"]["waypost.steps"]
    return {name: value for name, value in declared.items() if value.startswith("engine.builtins.")}


def hygiene_problems(
    entry_points: dict[str, str], modules: set[str], test_files: set[str], guide: str
) -> list[str]:
    """What is missing: a module without entry point, a plugin without test module or guide section."""
    problems = []
    registered = {value.split(":")[0].rsplit(".", 1)[1] for value in entry_points.values()}
    problems += [
        f"engine/builtins/{m}.py is not declared in waypost.steps" for m in sorted(modules - registered)
    ]
    for name in sorted(entry_points):
        test_file = f"test_builtin_{name.replace('.', '_')}.py"
        if test_file not in test_files:
            problems.append(f"built-in plugin {name} has no tests/engine/plugins/{test_file}")
        if not re.search(rf"^### `{re.escape(name)}`", guide, flags=re.MULTILINE):
            problems.append(f"built-in plugin {name} has no '### `{name}`' section in docs/plugins.md")
    return problems


def test_every_built_in_is_registered_tested_and_documented() -> None:
    """Each engine/builtins module is an entry point with a test module and a guide section."""
    modules = {p.stem for p in (ROOT / "engine" / "builtins").glob("*.py") if not p.stem.startswith("_")}
    entry_points = built_in_entry_points((ROOT / "pyproject.toml").read_text("utf-8"))
    assert {"http", "email"} <= set(entry_points)
    test_files = {p.name for p in TESTS.glob("test_*.py")}
    assert hygiene_problems(entry_points, modules, test_files, GUIDE.read_text("utf-8")) == []


def test_the_hygiene_check_catches_each_omission() -> None:
    """An unregistered module, a missing test module and a missing guide section are each reported."""
    problems = hygiene_problems(
        {"http": "engine.builtins.http:plugin", "sms": "engine.builtins.sms:plugin"},
        {"http", "sms", "fax"},
        {"test_builtin_http.py"},
        "### `http`\n",
    )
    assert problems == [
        "engine/builtins/fax.py is not declared in waypost.steps",
        "built-in plugin sms has no tests/engine/plugins/test_builtin_sms.py",
        "built-in plugin sms has no '### `sms`' section in docs/plugins.md",
    ]


@pytest.mark.parametrize("name", engine.plugins.__all__)
def test_every_public_name_of_the_plugin_api_is_documented(name: str) -> None:
    """Everything plugin authors import from engine.plugins has a docstring, and the guide names it."""
    value = getattr(engine.plugins, name)
    assert inspect.getdoc(value), f"engine.plugins.{name} has no docstring"
    assert name in GUIDE.read_text("utf-8"), f"docs/plugins.md does not mention {name}"


def test_every_protocol_member_has_a_docstring() -> None:
    """Each extension point of the StepPlugin protocol says what it is for."""
    members = ["name", "config_schema", "input_schema", "output_schema", "idempotent", "retry", "run"]
    for member in members:
        assert inspect.getdoc(getattr(StepPlugin, member)), f"StepPlugin.{member} has no docstring"
