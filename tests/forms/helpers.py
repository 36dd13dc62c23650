"""Shared helpers for the forms tests: build small forms from a few lines of YAML."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import pytest

from dsl import DefinitionError
from forms import ChoiceList, Field, Form, load_form


def form_text(fields: str, *, pages: str | None = None, head: str = "") -> str:
    """A form with one page 'main' whose fields are the YAML list ``fields`` (unindented)."""
    if pages is None:
        body = textwrap.indent(textwrap.dedent(fields).strip("\n"), "      ")
        pages = f"  - id: main\n    title: Main\n    fields:\n{body}\n"
    return f"form: test_form\ntitle: Test form\n{head}pages:\n{pages}"


def make_form(fields: str, *, lists: Mapping[str, ChoiceList] | None = None, **kw: str) -> Form:
    """Load a one-page form with ``fields``."""
    return load_form(form_text(fields, **kw), "test_form.yaml", lists=lists or {})


def field_of(form: Form, ident: str) -> Field:
    """The field (not group or repeat) called ``ident``."""
    item = form.fields_by_id[ident]
    assert isinstance(item, Field)
    return item


def load_errors(
    text: str, *, lists: Mapping[str, ChoiceList] | None = None
) -> list[tuple[int, int, str, str | None]]:
    """(line, column, message, hint) of every diagnostic from loading ``text`` (which must fail)."""
    with pytest.raises(DefinitionError) as caught:
        load_form(text, "test_form.yaml", lists=lists or {})
    out = []
    for d in caught.value.diagnostics:
        assert d.position is not None
        out.append((d.position.line, d.position.column, d.message, d.hint))
    return out


def field_errors(fields: str, **kw: object) -> list[tuple[int, int, str, str | None]]:
    """Diagnostics of a one-page form with ``fields`` (the first field is on line 7)."""
    return load_errors(form_text(fields), **kw)  # type: ignore[arg-type]


def messages(result: object) -> list[tuple[tuple[object, ...], str, str]]:
    """(path, code, message) of every error of a ValidationResult."""
    return [(e.path, e.code, e.message) for e in result.errors]  # type: ignore[attr-defined]
