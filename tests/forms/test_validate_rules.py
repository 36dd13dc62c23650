"""Validation rules that involve more than one answer: relevance (the ODK rule), required
expressions, constraints, warnings, repeats, unknown answers, page-by-page filling and the
normalised JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from forms import AnswerError, ValidationResult
from tests.forms.helpers import make_form, messages

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)

CONCERN = """\
- {id: child_name, type: text, label: "Child's full name", required: true}
- {id: child_dob, type: date, label: Date of birth, required: true,
   constraint: "child_dob <= today()", message: Date of birth must be in the past}
- {id: age, type: calculate, value: "years_between(child_dob, today())"}
- {id: immediate_risk, type: yesno, label: "Is the child at immediate risk of harm?"}
- {id: action_taken, type: textarea, label: "What action have you taken?", relevant: immediate_risk,
   required: true}
- {id: school, type: text, label: School, required: "age >= 5"}
- {id: siblings, type: integer, label: Number of siblings,
   warning: {when: "siblings > 8", message: Check the number of siblings}}
"""


def test_relevance_drops_answers_and_requirements() -> None:
    """A field that is not relevant is not required, not validated and not kept (ODK)."""
    form = make_form(CONCERN)
    result = form.validate(
        {"child_name": "Sam", "child_dob": "2020-01-01", "immediate_risk": "no", "action_taken": 12345},
        now=NOW,
    )
    assert result.ok
    assert result.answers == {
        "child_name": "Sam",
        "child_dob": dt.date(2020, 1, 1),
        "immediate_risk": False,
        "age": 4,
    }
    risky = form.validate({"child_name": "Sam", "child_dob": "2020-01-01", "immediate_risk": "yes"}, now=NOW)
    assert messages(risky) == [
        (("action_taken",), "required", "Enter an answer to ‘What action have you taken?’")
    ]


def test_required_expression_and_calculation() -> None:
    """required may be an expression; calculations it uses are filled first."""
    form = make_form(CONCERN)
    result = form.validate({"child_name": "Sam", "child_dob": "2010-05-01"}, now=NOW)
    assert result.answers["age"] == 14
    assert messages(result) == [(("school",), "required", "Enter school")]


def test_constraint_uses_now_and_message() -> None:
    """A constraint uses the submission's clock and shows its message."""
    form = make_form(CONCERN)
    result = form.validate({"child_name": "Sam", "child_dob": "2024-06-02"}, now=NOW)
    assert messages(result) == [(("child_dob",), "constraint", "Date of birth must be in the past")]
    assert "child_dob" in result.answers  # a constraint failure keeps the (well-typed) answer
    with pytest.raises(ValueError, match="aware"):
        form.validate({}, now=dt.datetime(2024, 1, 1))


def test_warnings_are_not_blocking_and_can_be_acknowledged() -> None:
    """A warning does not block; acknowledging the field removes it."""
    form = make_form(CONCERN)
    answers = {"child_name": "Sam", "child_dob": "2022-01-01", "siblings": 9}
    result = form.validate(answers, now=NOW)
    assert result.ok
    assert result.errors == (
        AnswerError(("siblings",), "warning", "Check the number of siblings", blocking=False),
    )
    assert result.warnings == result.errors
    assert result.blocking == ()
    assert form.validate(answers, now=NOW, acknowledged={"siblings"}).errors == ()


def test_geopoint_accuracy_warning() -> None:
    """A location fix worse than max_accuracy is a warning."""
    form = make_form("- {id: where, type: geopoint, label: Location, max_accuracy: 50}")
    result = form.validate({"where": {"lat": 51.5, "lon": 0.1, "accuracy": 250}})
    assert result.ok
    assert messages(result) == [
        (
            ("where",),
            "warning",
            "The location is accurate only to 250 metres: try again for a better fix (best 50 metres)",
        )
    ]
    assert (
        form.validate({"where": {"lat": 51.5, "lon": 0.1, "accuracy": 250}}, acknowledged=["where"]).errors
        == ()
    )


def test_page_relevance() -> None:
    """A page that is not relevant drops all its answers and errors."""
    pages = (
        "  - id: start\n    fields:\n      - {id: injured, type: yesno, label: Injured}\n"
        "  - id: injuries\n    relevant: injured\n    fields:\n"
        "      - {id: injury, type: text, label: Injury, required: true}\n"
    )
    form = make_form("", pages=pages)
    assert form.validate({"injured": False, "injury": "cut"}).answers == {"injured": False}
    assert messages(form.validate({"injured": True})) == [(("injury",), "required", "Enter injury")]


def test_group_relevance_and_paths() -> None:
    """Errors inside a group carry the group in their path; a hidden group drops its errors."""
    fields = """\
    - {id: has_address, type: yesno, label: Has an address}
    - id: address
      type: group
      label: Address
      relevant: has_address
      fields:
        - {id: street, type: text, label: Street, required: true}
        - {id: postcode, type: uk_postcode, label: Postcode}
    """
    form = make_form(fields)
    result = form.validate({"has_address": True, "address": {"postcode": "nowhere"}})
    assert messages(result) == [
        (("address", "street"), "required", "Enter street"),
        (("address", "postcode"), "format", "Enter a real postcode, like SW1A 1AA"),
    ]
    hidden = form.validate({"has_address": False, "address": {"postcode": "nowhere"}})
    assert hidden.ok
    assert hidden.answers == {"has_address": False}
    assert messages(form.validate({"has_address": True, "address": "1 High St"})) == [
        (("address",), "type", "Address must be a set of answers")
    ]


def test_repeat_items_and_counts() -> None:
    """Errors in repeat items carry the item index; the item count is checked."""
    fields = """\
    - id: exhibits
      type: repeat
      label: Exhibits
      min: 1
      max: 2
      fields:
        - {id: exhibit_ref, type: text, label: Exhibit reference, pattern: '[A-Z]{2}/[0-9]+'}
        - {id: description, type: text, label: Description, required: "exhibit_ref != null"}
    """
    form = make_form(fields)
    result = form.validate(
        {
            "exhibits": [
                {"exhibit_ref": "AB/1", "description": "Knife"},
                {"exhibit_ref": "x"},
                {"exhibit_ref": "CD/2"},
            ]
        }
    )
    assert messages(result) == [
        (("exhibits",), "max_items", "Exhibits can have no more than 2 items"),
        (("exhibits", 1, "exhibit_ref"), "pattern", "Enter exhibit reference in the correct format"),
        (("exhibits", 2, "description"), "required", "Enter description"),
    ]
    assert messages(form.validate({})) == [(("exhibits",), "min_items", "Add at least 1 item to exhibits")]
    assert messages(form.validate({"exhibits": "x"})) == [
        (("exhibits",), "type", "Exhibits must be a list of items")
    ]
    assert messages(form.validate({"exhibits": ["x"]})) == [
        (("exhibits", 0), "type", "Each item of exhibits must be a set of answers")
    ]


def test_unknown_answers_are_errors() -> None:
    """Keys that are not questions are reported, at every level; notes take no answer."""
    fields = """\
    - {id: intro, type: note, label: Read this}
    - {id: name, type: text, label: Name}
    - {id: g, type: group, fields: [{id: inner, type: text, label: Inner}]}
    - {id: r, type: repeat, fields: [{id: item, type: text, label: Item}]}
    """
    form = make_form(fields)
    result = form.validate({"name": "x", "nmae": "y", "intro": "z", "g": {"innr": 1}, "r": [{"itm": 2}]})
    assert messages(result) == [
        (("intro",), "unknown_field", "‘intro’ is a note and takes no answer"),
        (("g", "innr"), "unknown_field", "‘innr’ is not a question on this form"),
        (("r", 0, "itm"), "unknown_field", "‘itm’ is not a question on this form"),
        (("nmae",), "unknown_field", "‘nmae’ is not a question on this form"),
    ]


def test_submitted_calculations_are_replaced() -> None:
    """A calculation is always the form's own result; strict mode still checks its type."""
    form = make_form("- {id: n, type: integer, label: N}\n- {id: double, type: calculate, value: 'n * 2'}")
    assert form.validate({"n": 2, "double": 99}).answers == {"n": 2, "double": 4}
    assert messages(form.validate({"n": 2, "double": "x"}, coerce=False)) == [
        (("double",), "type", "‘double’ is calculated by the form: leave it out or send number")
    ]


def test_pages_limits_errors_to_those_pages() -> None:
    """pages= reports only those pages' problems (answers from other pages still count)."""
    pages = (
        "  - id: one\n    fields:\n      - {id: a, type: text, label: A, required: true}\n"
        "  - id: two\n    fields:\n      - {id: b, type: integer, label: B, required: true}\n"
        "      - {id: c, type: text, label: C, relevant: \"a == 'x'\", required: true}\n"
    )
    form = make_form("", pages=pages)
    assert messages(form.validate({}, pages=["one"])) == [(("a",), "required", "Enter a")]
    assert messages(form.validate({"a": "x", "b": "?"}, pages=["two"])) == [
        (("b",), "type", "B must be a number"),
        (("c",), "required", "Enter c"),
    ]
    assert messages(form.validate({"zz": 1}, pages=["two"])) == [
        (("b",), "required", "Enter b"),
        (("zz",), "unknown_field", "‘zz’ is not a question on this form"),
    ]
    with pytest.raises(ValueError, match="no page 'three'"):
        form.validate({}, pages=["three"])


def test_required_message_and_question_labels() -> None:
    """An author's required_message wins; labels ending in ? are quoted in messages."""
    form = make_form("""\
    - {id: a, type: text, label: Name, required: true, required_message: Enter the child's name}
    - {id: b, type: select_one, label: "Which force?", choices: [met], required: true}
    - {id: c, type: yesno, label: Consent given, required: true}
    - {id: d, type: geopoint, label: Location, required: true}
    - {id: e, type: signature, label: Officer's signature, required: true}
    - {id: f, type: integer, label: "How many?", max: 3}
    """)
    assert messages(form.validate({"f": 4})) == [
        (("a",), "required", "Enter the child's name"),
        (("b",), "required", "Select an answer to ‘Which force?’"),
        (("c",), "required", "Select yes or no for consent given"),
        (("d",), "required", "Record location"),
        (("e",), "required", "Add officer's signature"),
        (("f",), "max", "The answer must be 3 or less"),
    ]


def test_result_to_json_and_ok() -> None:
    """to_json gives the normalised answers as JSON data; ok ignores warnings only."""
    form = make_form("""\
    - {id: d, type: date, label: D}
    - {id: t, type: time, label: T}
    - {id: s, type: datetime, label: S}
    - {id: g, type: group, fields: [{id: n, type: integer, label: N}]}
    """)
    result = form.validate({"d": "1/2/2024", "t": "9:05", "s": "2024-07-01T10:30", "g": {"n": "3"}})
    assert isinstance(result, ValidationResult)
    assert result.ok
    assert result.to_json() == {
        "d": "2024-02-01",
        "t": "09:05",
        "s": "2024-07-01T10:30:00+01:00",
        "g": {"n": 3},
    }
    assert result == ValidationResult(result.answers, ())
    assert "answers=" in repr(result)


def test_errors_are_in_document_order() -> None:
    """Errors come back in the order the questions appear, whatever found them."""
    form = make_form("""\
    - {id: a, type: integer, label: A, constraint: "a > 5"}
    - {id: b, type: text, label: B, required: true}
    - {id: c, type: integer, label: C}
    """)
    assert [e.path for e in form.validate({"a": 1, "c": "x"}).errors] == [("a",), ("b",), ("c",)]
