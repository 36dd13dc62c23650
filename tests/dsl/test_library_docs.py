"""Hygiene of the function library: every function is documented and its example is true.

Run ``python -m tests.dsl.test_library_docs`` to regenerate the Functions section of
docs/expressions.md after changing the library.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from dsl import DefinitionError, Env, compile_expression, default_library
from dsl._docgen import END, START, functions_markdown, replace_section
from dsl._functions import Function
from dsl._types import RecordType, Scope

DOC = Path(__file__).resolve().parents[2] / "docs" / "expressions.md"
LIBRARY = default_library()
EMPTY = Scope.of(RecordType.of())


def test_the_library_has_at_least_45_functions() -> None:
    """The contract asks for at least 45 built-in functions, each a fresh library object."""
    assert len(LIBRARY) >= 45
    assert default_library() is not default_library()


def test_functions_section_is_up_to_date() -> None:
    """The committed Functions section equals the one generated from default_library()."""
    text = DOC.read_text(encoding="utf-8")
    assert START in text
    assert END in text
    current = text[text.index(START) : text.index(END) + len(END)]
    assert current == functions_markdown(LIBRARY), "run: python -m tests.dsl.test_library_docs"


@pytest.mark.parametrize("fn", list(LIBRARY), ids=lambda f: f.name)
def test_every_function_is_documented(fn: Function) -> None:
    """Each function's signature, summary and example appear in docs/expressions.md."""
    text = DOC.read_text(encoding="utf-8")
    assert f"`{fn.signature.replace('|', chr(92) + '|')}`" in text
    assert fn.summary.replace("|", "\\|") in text
    assert fn.signature.startswith(f"{fn.name}(")
    assert fn.summary
    assert "→" in fn.example
    assert fn.category


def test_a_missing_function_fails_the_documentation_check() -> None:
    """Removing a row from the generated section makes the check fail (the check can fail)."""
    generated = functions_markdown(LIBRARY)
    row = next(line for line in generated.splitlines() if line.startswith("| `upper("))
    assert generated.replace(row + "\n", "") != generated
    assert replace_section(f"x{START}old{END}y", "new") == "xnewy"


NOW = dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC)


def _closed(fn: Function) -> bool:
    """Whether the example can be evaluated without fields or a clock."""
    left = fn.example.split("→", 1)[0]
    try:
        compiled = compile_expression(left.strip(), EMPTY)
    except DefinitionError:
        return False
    return not compiled.uses_clock


@pytest.mark.parametrize("fn", [f for f in LIBRARY if _closed(f)], ids=lambda f: f.name)
def test_examples_are_true(fn: Function) -> None:
    """An example ``call → value`` that needs no fields evaluates to exactly that value."""
    left, right = (part.strip() for part in fn.example.split("→", 1))
    right = re.sub(r"\s*\(.*\)$", "", right)  # a trailing remark such as "(at that moment)"
    env = Env.of({}, now=NOW)
    got = compile_expression(left, EMPTY)(env)
    want = compile_expression(right, EMPTY)(env)
    assert got == want, f"{fn.example}: got {got!r}"


def test_examples_with_fields_or_clock_at_least_parse() -> None:
    """Examples over fields (any(children, ...)) or the clock are still valid syntax."""
    from dsl import parse_expression

    for fn in LIBRARY:
        parse_expression(fn.example.split("→", 1)[0].strip())


if __name__ == "__main__":
    DOC.write_text(
        replace_section(DOC.read_text(encoding="utf-8"), functions_markdown(LIBRARY)), encoding="utf-8"
    )
    print(f"updated {DOC}")
