"""Code hygiene of the five product packages, checked by reading the source with ``ast``.

Each rule is a function from source text to a list of problems, so each is also tested against a
small bad source: a hygiene test that cannot fail protects nothing.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dsl", "forms", "workflows", "renderers", "engine")
MAX_LINES = 450

Rule = Callable[[ast.AST], list[tuple[int, str]]]


def product_files() -> list[Path]:
    """Every .py file of the five packages, relative to the repository root."""
    return sorted(
        path.relative_to(ROOT)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def no_assert(tree: ast.AST) -> list[tuple[int, str]]:
    """``assert`` vanishes under ``python -O``: product code raises typed errors instead."""
    return [(n.lineno, "assert statement") for n in ast.walk(tree) if isinstance(n, ast.Assert)]


_DYNAMIC_CODE = frozenset({"eval", "exec", "compile", "__import__"})


def no_dynamic_code(tree: ast.AST) -> list[tuple[int, str]]:
    """No eval/exec/compile/__import__ builtins: author and user text is never run as Python."""
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Attribute) and ast.unparse(func.value) == "builtins":
            name = func.attr
        if name in _DYNAMIC_CODE:
            problems.append((node.lineno, f"call to {name}()"))
    return problems


_UNSAFE_YAML = frozenset(
    {
        "load",
        "load_all",
        "full_load",
        "full_load_all",
        "unsafe_load",
        "unsafe_load_all",
        "Loader",
        "FullLoader",
        "UnsafeLoader",
        "CLoader",
        "CFullLoader",
        "CUnsafeLoader",
    }
)


def safe_yaml_only(tree: ast.AST) -> list[tuple[int, str]]:
    """YAML is read only with safe_load / SafeLoader (through dsl.load_yaml): no object construction."""
    problems = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _UNSAFE_YAML
            and ast.unparse(node.value) in {"yaml", "_yaml"}
        ):
            problems.append((node.lineno, f"use of {ast.unparse(node)}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "yaml":
            problems.extend(
                (node.lineno, f"from yaml import {a.name}") for a in node.names if a.name in _UNSAFE_YAML
            )
    return problems


_ENVIRONMENTS = frozenset(
    {"Environment", "SandboxedEnvironment", "ImmutableSandboxedEnvironment", "NativeEnvironment"}
)


def _autoescape_on(call: ast.Call, selectors: set[str]) -> bool:
    """True when ``call`` passes autoescape=True or autoescape=<one of selectors>(...)."""
    for keyword in call.keywords:
        if keyword.arg == "autoescape":
            value = keyword.value
            if isinstance(value, ast.Constant):
                return value.value is True
            return isinstance(value, ast.Call) and ast.unparse(value.func) in selectors
    return False


def jinja_autoescape(tree: ast.AST) -> list[tuple[int, str]]:
    """Every Jinja2 environment escapes HTML: autoescape=True or select_autoescape(...)."""
    imports_jinja = any(
        (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "jinja2" for a in n.names))
        or (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "jinja2")
        for n in ast.walk(tree)
    )
    if not imports_jinja:
        return []
    # Names under which select_autoescape is reachable, including `import ... as` aliases.
    selectors = {"select_autoescape", "jinja2.select_autoescape"} | {
        a.asname
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
        if a.name == "select_autoescape" and a.asname
    }
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in _ENVIRONMENTS and not _autoescape_on(node, selectors):
            problems.append((node.lineno, f"{ast.unparse(func)}(...) without autoescape=True"))
    return problems


RULES: dict[str, Rule] = {
    "no assert": no_assert,
    "no eval/exec/compile/__import__": no_dynamic_code,
    "safe YAML only": safe_yaml_only,
    "Jinja2 autoescape": jinja_autoescape,
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_product_code_follows_rule(rule: str) -> None:
    """No module of the five packages breaks the rule (offenders are listed as file:line)."""
    problems = []
    for relpath in product_files():
        tree = ast.parse((ROOT / relpath).read_text("utf-8"), filename=str(relpath))
        problems += [f"{relpath.as_posix()}:{line}: {what}" for line, what in RULES[rule](tree)]
    assert not problems, f"{rule}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("rule", "source", "line"),
    [
        ("no assert", "def f(x):\n    assert x > 0\n", 2),
        ("no eval/exec/compile/__import__", "value = eval(text)\n", 1),
        ("no eval/exec/compile/__import__", "def f(code):\n    exec(code, {})\n", 2),
        ("no eval/exec/compile/__import__", "c = compile(src, '<x>', 'eval')\n", 1),
        ("no eval/exec/compile/__import__", "m = __import__(name)\n", 1),
        ("no eval/exec/compile/__import__", "import builtins\nbuiltins.eval(s)\n", 2),
        ("safe YAML only", "import yaml\ndata = yaml.load(text, Loader=yaml.SafeLoader)\n", 2),
        ("safe YAML only", "import yaml\ndata = yaml.unsafe_load(text)\n", 2),
        ("safe YAML only", "import yaml\ndata = yaml.safe_load(t)\nd = yaml.full_load(t)\n", 3),
        ("safe YAML only", "from yaml import FullLoader\n", 1),
        ("safe YAML only", "import yaml\nclass L(yaml.Loader):\n    pass\n", 2),
        ("Jinja2 autoescape", "import jinja2\nenv = jinja2.Environment(loader=x)\n", 2),
        ("Jinja2 autoescape", "from jinja2 import Environment\nenv = Environment(autoescape=False)\n", 2),
        ("Jinja2 autoescape", "import jinja2\nenv = jinja2.Environment(autoescape=my_guess(x))\n", 2),
        (
            "Jinja2 autoescape",
            "from jinja2.sandbox import SandboxedEnvironment\ne = SandboxedEnvironment()\n",
            2,
        ),
    ],
)
def test_rule_catches_bad_source(rule: str, source: str, line: int) -> None:
    """Each rule reports a synthetic source that breaks it, at the offending line."""
    problems = RULES[rule](ast.parse(source))
    assert [p[0] for p in problems] == [line]


@pytest.mark.parametrize(
    ("rule", "source"),
    [
        ("no eval/exec/compile/__import__", "import re\np = re.compile('x')\nlark.Lark(g).parse(t)\n"),
        ("safe YAML only", "import yaml\nd = yaml.safe_load(t)\nl = yaml.SafeLoader(t)\n"),
        ("Jinja2 autoescape", "import jinja2\nenv = jinja2.Environment(autoescape=True)\n"),
        (
            "Jinja2 autoescape",
            "from jinja2 import Environment, select_autoescape as sa\ne = Environment(autoescape=sa())\n",
        ),
        ("Jinja2 autoescape", "env = Environment()\n"),  # not Jinja2's: the module does not import it
    ],
)
def test_rule_accepts_good_source(rule: str, source: str) -> None:
    """The rules do not report the safe spellings (re.compile, safe_load, autoescape=True)."""
    assert RULES[rule](ast.parse(source)) == []


def _line_count(relpath: Path) -> int:
    return len((ROOT / relpath).read_text("utf-8").splitlines())


def long_modules(files: list[Path], limit: int = MAX_LINES) -> list[str]:
    """The modules of ``files`` longer than ``limit`` lines, as ``path: N lines``."""
    return [f"{f.as_posix()}: {n} lines" for f in files if (n := _line_count(f)) > limit]


def test_modules_are_short() -> None:
    """No module of the five packages is over 450 lines: split big ones into private modules."""
    offenders = long_modules(product_files())
    assert not offenders, f"modules over {MAX_LINES} lines:\n" + "\n".join(offenders)


def test_module_length_check_reports_offenders() -> None:
    """The length check names a module that is over the limit."""
    this_file = Path(__file__).resolve().relative_to(ROOT)
    assert long_modules([this_file], limit=10) == [f"{this_file.as_posix()}: {_line_count(this_file)} lines"]
    assert long_modules([this_file], limit=100_000) == []


def all_problems(module: object) -> list[str]:
    """What is wrong with a module's ``__all__``: missing, not a sorted list of str, or not importable."""
    names = getattr(module, "__all__", None)
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        return ["__all__ is missing or is not a list of names"]
    problems = []
    if list(names) != sorted(names):
        problems.append(f"__all__ is not sorted: expected {sorted(names)}")
    if len(set(names)) != len(names):
        problems.append("__all__ lists a name twice")
    problems += [
        f"__all__ names {n!r}, which the package does not define" for n in names if not hasattr(module, n)
    ]
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_package_all_is_sorted_and_importable(package: str) -> None:
    """Each package's __init__ defines a sorted __all__ whose every name can be imported."""
    assert "__all__" in (ROOT / package / "__init__.py").read_text("utf-8"), f"{package}/__init__.py"
    assert all_problems(importlib.import_module(package)) == []


class _Fake:
    def __init__(self, **attrs: object) -> None:
        self.__dict__.update(attrs)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (_Fake(), "__all__ is missing"),
        (_Fake(__all__="load"), "__all__ is missing"),
        (_Fake(__all__=["b", "a"], a=1, b=2), "not sorted"),
        (_Fake(__all__=["a", "gone"], a=1), "'gone'"),
        (_Fake(__all__=["a", "a"], a=1), "twice"),
    ],
)
def test_all_check_reports_problems(module: object, expected: str) -> None:
    """The __all__ check reports a missing, unsorted, duplicated or dangling __all__."""
    problems = all_problems(module)
    assert any(expected in p for p in problems), problems
