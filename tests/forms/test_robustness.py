"""Bad input never crashes: broken definitions raise DefinitionError only, and any submission
gives a ValidationResult."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DefinitionError, Diagnostics, load_yaml, to_json
from forms import Form, ValidationResult, load_form, load_list
from forms._schemacheck import check_definition
from tests.forms.strategies import json_values
from tests.forms.test_model import EVERY_TYPE, TAGS, _load

BASE: dict[str, Any] = {
    "form": "base",
    "title": "Base",
    "pages": [
        {
            "id": "p",
            "relevant": "true",
            "fields": [
                {"id": "a", "type": "integer", "label": "A", "min": 1, "max": 5, "constraint": "a != 3"},
                {
                    "id": "b",
                    "type": "select_one",
                    "label": "B",
                    "choices": ["x", "y"],
                    "choice_filter": "choice.value != 'y'",
                },
                {"id": "c", "type": "calculate", "value": "a * 2"},
                {
                    "id": "g",
                    "type": "group",
                    "fields": [{"id": "d", "type": "date", "label": "D", "min": "2020-01-01"}],
                },
                {
                    "id": "r",
                    "type": "repeat",
                    "min": 1,
                    "item_label": "{{ e }}",
                    "fields": [
                        {"id": "e", "type": "text", "label": "E", "relevant": "a > 1", "pattern": "[a-z]+"}
                    ],
                },
            ],
        }
    ],
}


@functools.cache
def _every_type() -> Form:
    return _load()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            out += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            out += _paths(sub, (*prefix, index))
    return out


@st.composite
def broken_forms(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)[1:]
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values | st.sampled_from(["a +", "{{", "c", "zz", "today(", "'x'"]))
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["id", "type", "extra", "fields", "value", "min"]))] = draw(
                json_values
            )
        if not _paths(doc)[1:]:
            break
    return json.dumps(doc, ensure_ascii=False)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_forms())
def test_broken_definitions_raise_only_definition_errors(text: str) -> None:
    """Any mutation of a valid form either loads or raises DefinitionError with positions."""
    problems: tuple[object, ...] = ()
    try:
        form = load_form(text, "broken.yaml")
    except DefinitionError as error:
        problems = error.diagnostics
    else:
        assert isinstance(form.validate({}), ValidationResult)
        return
    assert problems
    assert all(getattr(d, "position", None) is not None for d in problems)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "name",
                "count",
                "day",
                "at",
                "stamp",
                "ok",
                "colour",
                "tags",
                "pics",
                "sig",
                "where",
                "address",
                "items",
                "total",
                "intro",
                "x",
            ]
        ),
        json_values,
        max_size=8,
    ),
    st.booleans(),
)
def test_any_submission_gives_a_result(answers: dict[str, Any], coerce: bool) -> None:
    """Validation never raises, whatever JSON arrives, in either mode."""
    result = _every_type().validate(answers, coerce=coerce)
    assert isinstance(result, ValidationResult)
    json.dumps(result.to_json())


def test_definition_with_text_soup_is_reported() -> None:
    """Text that is YAML but nothing like a form is a DefinitionError, as is broken YAML."""
    with pytest.raises(DefinitionError):
        load_form("just some words", "x.yaml")
    with pytest.raises(DefinitionError, match="invalid YAML"):
        load_form("form: [unclosed", "x.yaml")
    assert load_form(EVERY_TYPE, "every_type.yaml", lists={"tags": TAGS}).id == "every_type"
    assert load_list("value,label\na,A\n", "a.csv").name == "a"


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_forms())
def test_item_by_item_check_finds_what_the_published_schema_finds(text: str) -> None:
    """The loader checks items one at a time against their type's definition; that finds the
    same problems as validating against the whole published form schema."""
    try:
        root = load_yaml(text, "broken.yaml")
    except DefinitionError:
        return  # characters YAML does not allow: nothing for the schema to check
    data = to_json(root)
    pieces, whole = Diagnostics(), Diagnostics()
    check_definition(root, data, "form", pieces)
    check_definition(root, data, "form", whole, whole=True)
    assert sorted(d.format() for d in pieces) == sorted(d.format() for d in whole)
