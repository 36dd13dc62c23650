"""The import direction between the five packages, read from the source with ``ast``.

``dsl <- forms <- workflows <- renderers <- engine``: a package may import only packages to its
left (DESIGN.md section 1). The pure packages never import the storage or web frameworks, and
``renderers`` never touches the database. Every import counts: at module level, inside functions,
under ``if TYPE_CHECKING:``, relative imports, and ``importlib.import_module("...")`` with a
literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("dsl", "forms", "workflows", "renderers", "engine")
_IO_FRAMEWORKS = frozenset({"sqlalchemy", "starlette", "alembic"})
FORBIDDEN: dict[str, frozenset[str]] = {
    "dsl": _IO_FRAMEWORKS,
    "forms": _IO_FRAMEWORKS,
    "workflows": _IO_FRAMEWORKS,
    # Presentation gets models and plain data; it never opens the database (DESIGN.md section 1).
    "renderers": frozenset({"sqlalchemy", "alembic"}),
    "engine": frozenset(),
}


def _module_package(relpath: Path) -> list[str]:
    """The dotted package a file belongs to, as parts: ``forms/_x.py`` -> ``["forms"]``."""
    return list(relpath.parent.parts)


def imported_modules(tree: ast.AST, package: list[str]) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line, absolute module name, the import as written)`` for every import in ``tree``.

    A relative import that climbs above the top-level package yields the name ``..``, which no
    layer allows.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            names = ", ".join(a.name for a in node.names)
            written = f"from {'.' * node.level}{node.module or ''} import {names}"
            if node.level == 0:
                yield node.lineno, node.module or "", written
                continue
            base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else None
            if not base:
                yield node.lineno, "..", written
                continue
            target = ".".join([*base, node.module] if node.module else base)
            yield node.lineno, target, written
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"importlib.import_module", "import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value, ast.unparse(node)


def import_violations(source: str, relpath: Path) -> list[str]:
    """Every import in ``source`` (the file at ``relpath`` under the root) that breaks the rules."""
    layer = relpath.parts[0]
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    problems = []
    tree = ast.parse(source, filename=str(relpath))
    for line, module, written in imported_modules(tree, _module_package(relpath)):
        top = module.split(".")[0]
        where = f"{relpath.as_posix()}:{line}: {written}"
        if module == "..":
            problems.append(f"{where}  (relative import above the top-level package)")
        elif top in LAYERS and top not in allowed:
            problems.append(f"{where}  ({layer} may import only {', '.join(sorted(allowed))})")
        elif top in FORBIDDEN[layer]:
            problems.append(f"{where}  ({layer} must not import {top})")
    return problems


def product_files() -> list[Path]:
    """Every .py file of the five packages, relative to the repository root."""
    return sorted(
        path.relative_to(ROOT)
        for layer in LAYERS
        for path in (ROOT / layer).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def test_packages_import_only_to_their_left() -> None:
    """No module of the five packages imports a package to its right or a forbidden framework."""
    files = product_files()
    assert len(files) >= len(LAYERS), "expected at least the five __init__.py files"
    problems = [p for f in files for p in import_violations((ROOT / f).read_text("utf-8"), f)]
    assert not problems, (
        "imports against the direction dsl <- forms <- workflows <- renderers <- engine:\n"
        + ("\n".join(problems))
    )


@pytest.mark.parametrize(
    ("relpath", "source", "expected"),
    [
        ("dsl/_x.py", "import forms\n", "dsl/_x.py:1: import forms"),
        ("forms/_x.py", "from engine._folder import load_department_folder\n", "forms/_x.py:1: from engine"),
        ("forms/_x.py", "def f():\n    from workflows import x\n", "forms/_x.py:2: from workflows import x"),
        ("workflows/a/b.py", "from ...engine import cli\n", "workflows/a/b.py:1: from ...engine import cli"),
        ("dsl/_x.py", "from .. import engine\n", "dsl/_x.py:1: from .. import engine"),
        ("renderers/_x.py", "import engine.cli as c\n", "renderers/_x.py:1: import engine.cli"),
        ("dsl/_x.py", "import sqlalchemy.orm\n", "(dsl must not import sqlalchemy)"),
        ("forms/_x.py", "from starlette.responses import Response\n", "(forms must not import starlette)"),
        (
            "workflows/_x.py",
            "if TYPE_CHECKING:\n    import sqlalchemy\n",
            "workflows/_x.py:2: import sqlalchemy",
        ),
        ("renderers/_x.py", "from sqlalchemy import select\n", "(renderers must not import sqlalchemy)"),
        ("forms/_x.py", "import importlib\nm = importlib.import_module('engine.cli')\n", "forms/_x.py:2"),
    ],
)
def test_checker_catches_violation(relpath: str, source: str, expected: str) -> None:
    """The checker reports a bad import with its file, line and the import as written."""
    problems = import_violations(source, Path(relpath))
    assert len(problems) == 1
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("relpath", "source"),
    [
        ("forms/_x.py", "import dsl\nfrom dsl._yaml import load_yaml\nimport json, re\n"),
        ("forms/sub/_x.py", "from . import y\nfrom .. import _model\nfrom ..sub2 import z\n"),
        ("engine/_x.py", "import sqlalchemy\nimport starlette\nfrom renderers import html\n"),
        ("renderers/_x.py", "import jinja2\nfrom workflows import Workflow\nimport starlette\n"),
        ("dsl/__init__.py", "from dsl._errors import DefinitionError\nfrom ._source import Source\n"),
    ],
)
def test_checker_allows_imports_to_the_left(relpath: str, source: str) -> None:
    """Imports of the same or an earlier package, and of allowed libraries, are not reported."""
    assert import_violations(source, Path(relpath)) == []
