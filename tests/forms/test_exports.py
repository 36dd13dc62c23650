"""The public surface of the forms package is small, sorted and importable."""

from __future__ import annotations

import ast
from pathlib import Path

import forms

EXPECTED = [
    "AnswerError",
    "Choice",
    "ChoiceList",
    "Department",
    "Evaluation",
    "Field",
    "FieldType",
    "FieldWarning",
    "Form",
    "Group",
    "Item",
    "Page",
    "Repeat",
    "Text",
    "ValidationResult",
    "definition_schema",
    "evaluate",
    "form_json_schema",
    "load_department",
    "load_form",
    "load_list",
    "relevant_pages",
]


def test_all_is_sorted_and_exact() -> None:
    """__all__ lists exactly the public names, sorted, and each exists."""
    assert forms.__all__ == EXPECTED
    for name in forms.__all__:
        assert getattr(forms, name) is not None


def test_forms_imports_only_dsl_and_the_standard_library() -> None:
    """forms imports nothing to its right (workflows, renderers, engine) and no I/O libraries."""
    banned = {"workflows", "renderers", "engine", "sqlalchemy", "starlette", "jinja2"}
    for path in Path(forms.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"


def test_no_assert_eval_or_exec_in_product_code() -> None:
    """Product code raises typed errors instead of assert, and never evaluates text."""
    for path in Path(forms.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Assert), f"assert in {path.name}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile"}, f"{node.func.id} in {path.name}"
