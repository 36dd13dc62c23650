"""Templates: text with {{ expr }} holes, rendered with the language's text rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dsl import CompiledTemplate, DefinitionError, Env, Position, Source, compile_template
from dsl._render import render
from dsl._types import (
    ATTACHMENT,
    BOOLEAN,
    DATE,
    DATETIME,
    GEOPOINT,
    NUMBER,
    TEXT,
    TIME,
    RecordType,
    Scope,
    Symbol,
    Type,
    list_of,
)


def _record(fields: dict[str, Type]) -> RecordType:
    return RecordType.of({name: Symbol(name, t, (name,)) for name, t in fields.items()})


SCOPE = Scope.of(
    _record(
        {
            "child_name": TEXT,
            "age": NUMBER,
            "ok": BOOLEAN,
            "dob": DATE,
            "at": TIME,
            "seen": DATETIME,
            "tags": list_of(TEXT),
            "photo": ATTACHMENT,
            "where": GEOPOINT,
        }
    )
)


def render_template(source: str, answers: dict[str, Any]) -> str:
    return compile_template(source, SCOPE)(Env.of(answers))


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("URGENT: {{ child_name }} ({{ age }})", {"child_name": "Ann", "age": 7}, "URGENT: Ann (7)"),
        ("plain text", {}, "plain text"),
        ("", {}, ""),
        ("{{ child_name }}", {}, ""),
        ("{{age}}", {"age": 3.0}, "3"),
        ("{{ age / 4 }}", {"age": 3}, "0.75"),
        ("{{ ok }}/{{ not ok }}", {"ok": True}, "yes/no"),
        ("{{ dob }}", {"dob": dt.date(2024, 1, 31)}, "2024-01-31"),
        ("{{ at }}", {"at": dt.time(9, 5, 59)}, "09:05"),
        ("{{ seen }}", {"seen": dt.datetime(2024, 7, 1, 9, 30, tzinfo=dt.UTC)}, "2024-07-01T10:30"),
        ("{{ seen }}", {"seen": dt.datetime(2024, 1, 1, 9, 30, tzinfo=dt.UTC)}, "2024-01-01T09:30"),
        ("{{ tags }}", {"tags": ["a", "b"]}, "a, b"),
        ("{{ photo }}", {"photo": {"filename": "x.jpg", "sha256": "0"}}, "x.jpg"),
        ("{{ where }}", {"where": {"lat": 51.5, "lon": -0.1, "accuracy": 5}}, "51.5, -0.1"),
        ("{{ '{{' }} literal", {}, "{{ literal"),
        ("{{ 'a}}b' + child_name }}", {"child_name": "c"}, "a}}bc"),
        ('{{ "}}" }}', {}, "}}"),
        ("a }} b", {}, "a }} b"),
        ("{{ if(age >= 18, 'adult', 'child') }}", {"age": 20}, "adult"),
        ("{{ upper(child_name) }}!", {"child_name": "ann"}, "ANN!"),
    ],
)
def test_rendering(source: str, answers: dict[str, Any], expected: str) -> None:
    """Holes are evaluated and rendered: null empty, 3.0 as 3, yes/no, ISO dates, UK local time."""
    assert render_template(source, answers) == expected


def test_compiled_template_describes_itself() -> None:
    """A compiled template has type text, the references of its holes and an IR."""
    compiled = compile_template("Hi {{ child_name }}, {{ years_between(dob, today()) }}", SCOPE)
    assert isinstance(compiled, CompiledTemplate)
    assert compiled.type == TEXT
    assert compiled.references == frozenset({"child_name", "dob"})
    assert compiled.uses_clock
    assert compiled.ir[:3] == ["template", "Hi ", ["ref", 0, ["child_name"]]]
    assert compile_template("no holes", SCOPE).ir == ["template", "no holes"]
    assert not compile_template("{{ age }}", SCOPE).uses_clock


def test_every_hole_error_is_reported_at_its_place() -> None:
    """Errors in several holes are collected and point into the template text."""
    source = "{{ nme }} and {{ agee + 'x' }}"
    with pytest.raises(DefinitionError) as info:
        compile_template(source, SCOPE)
    found = [(d.message, d.position.column if d.position else 0) for d in info.value.diagnostics]
    assert found == [("unknown name 'nme'", 4), ("unknown name 'agee'", 18)]


def test_syntax_error_in_a_hole_is_positioned_in_the_template() -> None:
    """A syntax error inside a hole is reported at its column in the whole template."""
    text = "Dear {{ child_name && ok }}"
    source = Source("form.yaml", f"  title: {text}\n")
    with pytest.raises(DefinitionError) as info:
        compile_template(text, SCOPE, position=Position(source, 1, 10))
    diag = info.value.diagnostics[0]
    assert diag.message == "'&&' is not an operator"
    assert diag.position is not None
    assert diag.position.column == 10 + text.index("&&")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hello {{ child_name", "'{{' is never closed"),
        ("{{ }}", "the expression is empty"),
        ("{{ 'abc }}", "'{{' is never closed"),
        ("{{ child_name + 1 }}", "cannot add text and number with '+'"),
    ],
)
def test_template_errors(source: str, message: str) -> None:
    """Broken templates raise DefinitionError with a sentence."""
    with pytest.raises(DefinitionError) as info:
        compile_template(source, SCOPE)
    assert info.value.diagnostics[0].message == message


def test_render_rules_directly() -> None:
    """The rendering function used by templates and text()."""
    assert render(None) == ""
    assert render(2.5) == "2.5"
    assert render(-0.0) == "0"
    assert render(1e20) == "100000000000000000000"
    assert render(float("nan")) == ""
    assert render(10) == "10"
    assert render(False) == "no"
    assert render({"unknown": 1}) == ""
    assert render([1, None, 2.0]) == "1, , 2"


def test_non_text_template_is_refused() -> None:
    """A template that is not a string (a YAML number, say) is a DefinitionError."""
    with pytest.raises(DefinitionError):
        compile_template(3, SCOPE)  # type: ignore[arg-type]
