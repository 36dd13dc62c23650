"""Problems the schema cannot see: ids, lists, bounds, defaults, expressions and cycles. All of
them are collected in one run."""

from __future__ import annotations

from forms import load_list
from tests.forms.helpers import field_errors, load_errors

LISTS = {"offences": load_list("value,label\ntheft,Theft\n", "offences.csv")}


def test_duplicate_id_points_at_the_second_and_names_the_first() -> None:
    """Ids are unique across the whole form, groups included."""
    fields = """\
    - {id: age, type: integer, label: Age}
    - id: household
      type: group
      fields:
        - {id: age, type: integer, label: Age again}
    """
    assert field_errors(fields) == [
        (
            11,
            18,
            "duplicate id 'age' (first used at line 7)",
            "ids are unique across the whole form, groups and repeats included",
        ),
    ]


def test_duplicate_page_ids() -> None:
    """Page ids are unique among pages."""
    pages = (
        "  - {id: p, fields: [{id: a, type: note, label: A}]}\n"
        "  - {id: p, fields: [{id: b, type: note, label: B}]}\n"
    )
    assert load_errors(f"form: f\ntitle: T\npages:\n{pages}") == [
        (5, 10, "duplicate page id 'p' (first used at line 4)", "page ids are unique within a form"),
    ]


def test_reserved_word_ids() -> None:
    """Words of the expression language cannot be ids."""
    assert field_errors("- {id: not, type: text, label: Nothing}") == [
        (
            7,
            14,
            "'not' is a reserved word of the expression language and cannot be an id",
            "choose another name, such as not_answer",
        ),
    ]
    assert field_errors("- {id: null, type: text, label: Nothing}") == [
        (
            7,
            14,
            "'id' in item 1 of page 'main' must be text, not empty",
            "YAML reads null, ~ and an empty value as nothing: write the text, in quotes if needed",
        ),
    ]


def test_unknown_choice_list() -> None:
    """A list name that was not loaded is refused with a did-you-mean over the loaded lists."""
    assert field_errors("- {id: o, type: select_one, label: O, choices: offenses}", lists=LISTS) == [
        (7, 54, "unknown choice list 'offenses' in field 'o'", "did you mean 'offences'?"),
    ]
    assert field_errors("- {id: o, type: select_one, label: O, choices: crimes}") == [
        (7, 54, "unknown choice list 'crimes' in field 'o'", "no shared lists were loaded"),
    ]
    assert field_errors("- {id: o, type: select_one, label: O, choices: crimes}", lists=LISTS)[0][3] == (
        "add lists/crimes.csv or lists/crimes.yaml"
    )


def test_duplicate_inline_choice_values() -> None:
    """Inline choice values are unique."""
    assert field_errors("- {id: s, type: select_many, label: S, choices: [a, {value: b}, a]}") == [
        (
            7,
            71,
            "duplicate choice value 'a' in field 's' (choice 1, line 7, has it too)",
            "values are unique within a list",
        ),
    ]


def test_min_greater_than_max() -> None:
    """Bounds must be in order: numbers, dates, lengths (against the default too) and counts."""
    assert field_errors("- {id: n, type: integer, label: N, min: 10, max: 5}") == [
        (7, 47, "'min' (10) is greater than 'max' (5) in field 'n'", None),
    ]
    assert field_errors("- {id: d, type: date, label: D, min: 2024-02-01, max: 2024-01-01}") == [
        (7, 44, "'min' (1 February 2024) is greater than 'max' (1 January 2024) in field 'd'", None),
    ]
    assert field_errors("- {id: t, type: text, label: T, min_length: 600}") == [
        (7, 51, "'min_length' (600) is greater than 'max_length' (the default, 500) in field 't'", None),
    ]
    assert field_errors("- {id: s, type: select_many, label: S, choices: [a, b], min_selected: 3}") == [
        (7, 77, "'min_selected' (3) is more than the 2 choices of field 's'", None),
    ]


def test_bad_literal_bounds() -> None:
    """Date and time bounds must be real literals; an unquoted time is still read as written."""
    assert field_errors("- {id: d, type: date, label: D, min: '2024-13-01'}") == [
        (7, 44, "'min' of field 'd' must be a date written YYYY-MM-DD, like 2024-01-31", None),
    ]
    from tests.forms.helpers import field_of, make_form

    form = make_form("- {id: t, type: time, label: T, min: 08:30, max: '17:00'}")
    field = field_of(form, "t")
    assert str(field.min) == "08:30:00"
    assert str(field.max) == "17:00:00"


def test_defaults_of_the_wrong_type() -> None:
    """A default must be a value of the field's type."""
    assert field_errors("- {id: n, type: integer, label: N, default: abc}") == [
        (7, 51, "the default of field 'n' must be a whole number, not 'abc'", None),
    ]
    assert field_errors("- {id: d, type: date, label: D, default: tomorrow}")[0][2] == (
        "the default of field 'd' must be a date written YYYY-MM-DD, like 2024-01-31"
    )
    assert field_errors("- {id: y, type: yesno, label: Y, default: maybe}")[0][2] == (
        "the default of field 'y' must be true or false"
    )
    assert field_errors("- {id: s, type: select_one, label: S, choices: [red, green], default: gren}")[0][
        2
    ] == ("the default of field 's' 'gren' is not one of its choices (did you mean 'green'?)")
    assert field_errors("- {id: p, type: uk_postcode, label: P, default: nowhere}")[0][2] == (
        "the default of field 'p' is not a UK postcode"
    )
    assert field_errors("- {id: t, type: text, label: T, max_length: 3, default: long text}")[0][2] == (
        "the default of field 't' is longer than 3 characters"
    )


def test_default_and_default_expr_together() -> None:
    """default and default_expr exclude each other."""
    assert field_errors("- {id: d, type: date, label: D, default: 2024-01-01, default_expr: 'today()'}") == [
        (
            7,
            60,
            "field 'd' has both 'default' and 'default_expr'",
            "keep one: default is a fixed value, default_expr is computed when the form opens",
        ),
    ]


def test_calculate_without_value() -> None:
    """A calculation needs its value expression."""
    assert field_errors("- {id: c, type: calculate}") == [
        (7, 9, "missing 'value' in field 'c'", "a calculate field needs value: an expression"),
    ]


def test_expression_errors_point_inside_the_expression() -> None:
    """Unknown names get a did-you-mean and point at the name inside the quoted expression."""
    fields = """\
    - {id: child_name, type: text, label: Name}
    - {id: flag, type: yesno, label: Flag, relevant: "chld_name != null"}
    """
    assert field_errors(fields) == [(8, 57, "unknown name 'chld_name'", "did you mean 'child_name'?")]


def test_conditions_must_be_boolean() -> None:
    """relevant, required, constraint and warnings must give booleans."""
    got = field_errors("- {id: name, type: text, label: Name, constraint: 'name'}")
    assert got == [(7, 58, "expected a boolean, got text", "compare it: name != null")]
    got = field_errors("- {id: n, type: integer, label: N, required: 'n + 1'}")
    assert got[0][2] == "expected a boolean, got number"


def test_default_expr_must_have_the_field_type() -> None:
    """default_expr is checked against the field's own type."""
    got = field_errors("- {id: d, type: date, label: D, default_expr: \"'soon'\"}")
    assert got[0][2] == "expected a date, got text"


def test_calculation_cycle_is_named_at_its_first_field() -> None:
    """Calculations that depend on each other are reported once, as a -> b -> a."""
    fields = """\
    - {id: a, type: calculate, value: "b + 1"}
    - {id: b, type: calculate, value: "c * 2"}
    - {id: c, type: calculate, value: "a - 1"}
    - {id: d, type: calculate, value: "d"}
    """
    assert field_errors(fields) == [
        (
            7,
            41,
            "calculations depend on each other in a cycle: a -> b -> c -> a",
            "a calculation cannot use its own result, directly or through others",
        ),
        (
            10,
            41,
            "calculations depend on each other in a cycle: d -> d",
            "a calculation cannot use its own result, directly or through others",
        ),
    ]


def test_relevance_cannot_depend_on_itself() -> None:
    """An item's relevance cannot read its own answer, or answers inside it."""
    fields = """\
    - {id: x, type: text, label: X, relevant: "x != null"}
    - id: g
      type: group
      relevant: "g.inner == 'yes'"
      fields:
        - {id: inner, type: text, label: Inner}
    """
    got = field_errors(fields)
    assert got == [
        (
            7,
            49,
            "the relevance of 'x' depends on its own answer",
            "relevant decides whether 'x' is asked, so it can only use other answers",
        ),
        (
            10,
            19,
            "the relevance of 'g' depends on its own answer",
            "relevant decides whether 'g' is asked, so it can only use other answers",
        ),
    ]


def test_relevance_cycle_between_items() -> None:
    """Two items whose relevance depends on each other form a cycle."""
    fields = """\
    - {id: a, type: text, label: A, relevant: "b != null"}
    - {id: b, type: text, label: B, relevant: "a != null"}
    """
    assert field_errors(fields) == [
        (
            7,
            49,
            "these depend on each other in a cycle: relevance of 'a' -> relevance of 'b' -> relevance of 'a'",
            "relevance and calculations must not depend on themselves",
        ),
    ]


def test_page_relevance_cannot_use_its_own_answers() -> None:
    """A page's relevance can only use answers from other pages."""
    pages = "  - id: p\n    relevant: \"a == 'x'\"\n    fields: [{id: a, type: text, label: A}]\n"
    assert load_errors(f"form: f\ntitle: T\npages:\n{pages}") == [
        (
            5,
            15,
            "the relevance of page 'p' depends on answers on that page",
            "a page's relevant can only use answers from other pages",
        ),
    ]


def test_invalid_and_unportable_patterns() -> None:
    """Patterns must compile and mean the same in Python and browsers."""
    assert field_errors("- {id: p, type: text, label: P, pattern: '[a-'}")[0][2].startswith(
        "invalid pattern in field 'p': "
    )
    got = field_errors("- {id: p, type: text, label: P, pattern: '(?P<x>a)'}")
    assert got[0][:2] == (7, 48)
    assert "named groups" in got[0][2]


def test_every_problem_is_reported_in_one_run() -> None:
    """Schema problems and semantic problems come back together, sorted by position."""
    fields = """\
    - {id: name, type: txt, label: Name}
    - {id: age, type: integer, label: Age, requried: true, min: 10, max: 5}
    - {id: age, type: integer, label: Again}
    - {id: c1, type: calculate, value: "c2 + 1"}
    - {id: c2, type: calculate, value: "c1 + 1"}
    - {id: typo, type: text, label: Typo, relevant: "nmae == 'x'"}
    """
    got = [(line, message) for line, _, message, _ in field_errors(fields)]
    assert got == [
        (7, "unknown field type 'txt'"),
        (8, "unknown key 'requried' in field 'age'"),
        (8, "'min' (10) is greater than 'max' (5) in field 'age'"),
        (9, "duplicate id 'age' (first used at line 8)"),
        (10, "calculations depend on each other in a cycle: c1 -> c2 -> c1"),
        (12, "unknown name 'nmae'"),
    ]
