"""Property: for every form without expressions, strict validation and a JSON Schema validator
on the exported schema give the same verdict for every JSON submission.

"Structural" is everything the exported schema can say (see forms/_validate.py): JSON types,
unconditional required answers, choices, number bounds, text lengths and patterns, the shapes
of postcodes, phone numbers, email addresses, dates, times and datetimes, counts of selected
options, files and repeat items, file size and type, attachment and location records, unknown
keys. Expressions, ``places`` and date/time bounds are not generated: they are validate-only.
Floats are finite (JSON has no NaN or infinity).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from forms import load_form
from tests.forms.strategies import SIMPLE_TYPES, answers_for, form_texts


@st.composite
def forms_and_answers(
    draw: st.DrawFn, most: int = 5, kind: str | None = None
) -> tuple[str, dict[str, object]]:
    text = draw(form_texts(most, kind))
    specs = [field for page in json.loads(text)["pages"] for field in page["fields"]]
    return text, draw(answers_for(specs, present=kind is not None and draw(st.booleans())))


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms_and_answers())
def test_strict_validation_agrees_with_json_schema(case: tuple[str, dict[str, object]]) -> None:
    """validate(coerce=False).ok == Draft202012Validator(form.json_schema()).is_valid(answers)."""
    _check(*case)


@pytest.mark.slow
@pytest.mark.parametrize("kind", [*SIMPLE_TYPES, "group", "repeat"])
def test_agreement_one_item_at_a_time(kind: str) -> None:
    """The same property on forms of one item of each type, where that answer's own verdict
    decides the whole submission: this finds a disagreement about any one rule."""

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(forms_and_answers(most=1, kind=kind))
    def check(case: tuple[str, dict[str, object]]) -> None:
        _check(*case)

    check()


def _check(text: str, answers: dict[str, object]) -> None:
    form = load_form(text, "generated.yaml")
    schema = form.json_schema()
    result = form.validate(answers, coerce=False)
    verdict = Draft202012Validator(schema).is_valid(answers)
    assert result.ok == verdict, (result.errors, list(Draft202012Validator(schema).iter_errors(answers)))
    if result.ok:
        # What validation normalises back to JSON is itself valid under the schema.
        assert Draft202012Validator(schema).is_valid(result.to_json())


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(form_texts())
def test_generated_form_schemas_are_valid_draft_2020_12(text: str) -> None:
    """Every exported schema is valid against the draft 2020-12 meta-schema."""
    Draft202012Validator.check_schema(load_form(text, "generated.yaml").json_schema())
