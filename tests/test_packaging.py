"""The wheel holds exactly what an installation needs.

The five import packages are listed explicitly in pyproject.toml (DESIGN.md section 1), so a new
sub-package or data file that is not listed would be silently left out of the wheel and only fail
on a server. These tests build the wheel and look inside it.
"""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"dsl", "forms", "workflows", "renderers", "engine"}
# Working files that are never part of a build; everything else of the checkout is copied.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    ".hypothesis",
    "node_modules",
)


@dataclass(frozen=True)
class Built:
    """The wheel and the copy of the checkout it was built from."""

    wheel: zipfile.ZipFile
    source: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A wheel built from a clean copy of the checkout (no stale build/ folder can leak in)."""
    missing = [name for name in ("setuptools", "wheel") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not installed in this environment: add 'setuptools>=69' and "
            "'wheel' to the test extra of pyproject.toml and run `pip install -e '.[test,dev]'`"
        )
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    out = tmp / "dist"
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        out,
        source,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"building the wheel failed:\n{result.stdout}\n{result.stderr}"
    wheels = sorted(out.glob("waypost-*.whl"))
    assert len(wheels) == 1, f"expected one waypost wheel, found {[w.name for w in wheels]}"
    return Built(zipfile.ZipFile(wheels[0]), source)


@pytest.fixture
def wheel(built: Built) -> zipfile.ZipFile:
    """The built wheel."""
    return built.wheel


def _names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def _dist_info(wheel: zipfile.ZipFile) -> str:
    (info,) = {n.split("/")[0] for n in wheel.namelist() if n.split("/")[0].endswith(".dist-info")}
    return info


@pytest.mark.slow
def test_wheel_has_exactly_the_five_packages(wheel: zipfile.ZipFile) -> None:
    """The wheel's top level is the five packages and the metadata; no tests, examples or bench."""
    tops = {n.split("/")[0] for n in _names(wheel)} - {_dist_info(wheel)}
    assert tops == PACKAGES
    assert not any(n.startswith(("tests/", "examples/", "bench/", "docs/")) for n in _names(wheel))


@pytest.mark.slow
def test_wheel_has_every_file_of_the_packages(built: Built) -> None:
    """Every module and data file of the five packages is in the wheel (sub-packages included).

    A file missing here is a sub-package or data pattern absent from pyproject.toml's
    ``packages`` / ``package-data``.
    """
    on_disk = {
        PurePosixPath(*p.relative_to(built.source).parts).as_posix()
        for package in PACKAGES
        for p in (built.source / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    missing = sorted(on_disk - _names(built.wheel))
    assert not missing, "not in the wheel (add to pyproject.toml packages or package-data):\n" + "\n".join(
        missing
    )


@pytest.mark.slow
def test_wheel_has_grammar_schemas_and_markers(wheel: zipfile.ZipFile) -> None:
    """The expression grammar, the definition-format schemas and each py.typed marker are shipped."""
    names = _names(wheel)
    grammars = sorted(n for n in names if n.startswith("dsl/") and n.endswith(".lark"))
    assert grammars, "dsl's .lark grammar is not in the wheel"
    schemas = sorted(n for n in names if n.startswith("forms/schemas/") and n.endswith(".json"))
    assert schemas, "forms/schemas/*.json is not in the wheel"
    assert {f"{p}/py.typed" for p in PACKAGES} <= names


@pytest.mark.slow
def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    """The wheel declares the entry point `waypost = engine.cli:main`."""
    text = wheel.read(f"{_dist_info(wheel)}/entry_points.txt").decode("utf-8")
    entry_points = configparser.ConfigParser()
    entry_points.read_string(text)
    assert entry_points.get("console_scripts", "waypost") == "engine.cli:main"
