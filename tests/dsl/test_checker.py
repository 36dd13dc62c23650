"""Static checking: names, types, arity, scoped functions and patterns, with positioned hints."""

from __future__ import annotations

import pytest

from dsl import DefinitionError, compile_expression
from dsl._regex import check_portable_regex
from dsl._types import (
    ATTACHMENT,
    BOOLEAN,
    DATE,
    DATETIME,
    GEOPOINT,
    NUMBER,
    TEXT,
    Kind,
    RecordType,
    Scope,
    Symbol,
    Type,
    list_of,
    record,
    repeat,
)


def _record(fields: dict[str, Type], prefix: tuple[str, ...] = ()) -> RecordType:
    return RecordType.of({name: Symbol(name, t, (*prefix, name)) for name, t in fields.items()})


CHILD = _record({"child_name": TEXT, "age": NUMBER, "dob": DATE, "pets": repeat(_record({"kind": TEXT}))})
ADDRESS = _record({"postcode": TEXT, "street": TEXT})
HOUSEHOLD = _record({"address": record(ADDRESS), "size": NUMBER})
FORM = _record(
    {
        "child_name": TEXT,
        "child_dob": DATE,
        "age": NUMBER,
        "consent": BOOLEAN,
        "seen_at": DATETIME,
        "photo": ATTACHMENT,
        "location": GEOPOINT,
        "vehicles": list_of(TEXT),
        "children": repeat(CHILD),
        "household": record(HOUSEHOLD),
    }
)
SCOPE = Scope.of(FORM)


def errors(
    source: str, scope: Scope = SCOPE, expect: Type | None = None
) -> list[tuple[str, str | None, str]]:
    """(message, hint, underlined text) of every diagnostic of a failing compile."""
    with pytest.raises(DefinitionError) as info:
        compile_expression(source, scope, expect=expect)
    out = []
    for diag in info.value.diagnostics:
        pos = diag.position
        assert pos is not None
        end = pos.end_column if pos.end_column is not None else pos.column + 1
        out.append((diag.message, diag.hint, source[pos.column - 1 : end - 1]))
    return out


def test_unknown_name_with_ranked_did_you_mean() -> None:
    """An unknown name is reported at the name, with the closest visible names first."""
    [(message, hint, text)] = errors("age > 3 and child_dobb != null")
    assert message == "unknown name 'child_dobb'"
    assert hint is not None
    assert hint.startswith("did you mean 'child_dob'")
    assert text == "child_dobb"


def test_keyword_in_the_wrong_case_and_function_without_brackets() -> None:
    """'NULL' hints lower case; a function named without brackets hints how to call it."""
    [(message, hint, _)] = errors("child_name == NULL")
    assert message == "unknown name 'NULL'"
    assert hint == "write 'null' in lower case"
    [(message, hint, _)] = errors("today == child_dob")
    assert message == "today is a function"
    assert hint is not None
    assert "today(...)" in hint


def test_every_unknown_name_is_reported_not_just_the_first() -> None:
    """Errors in independent sub-expressions are collected in one DefinitionError."""
    found = errors("agee > 3 or consentt")
    assert [m for m, _, _ in found] == ["unknown name 'agee'", "unknown name 'consentt'"]


def test_dotted_paths_walk_groups() -> None:
    """household.address.postcode resolves through two groups; the keys are concatenated."""
    compiled = compile_expression("household.address.postcode", SCOPE)
    assert compiled.type == TEXT
    assert compiled.references == frozenset({"household", "address", "postcode"})
    assert compiled.ir == ["ref", 0, ["household", "address", "postcode"]]


def test_unknown_member_and_member_of_a_non_group() -> None:
    """A wrong member is underlined by itself; a dot after a plain field explains why."""
    [(message, hint, text)] = errors("household.adress.postcode")
    assert message == "'household' has no field 'adress'"
    assert hint == "did you mean 'address'?"
    assert text == "adress"
    [(message, _, text)] = errors("age.years")
    assert message == "'age' is a number, not a group; it has no field 'years'"
    assert text == "age.years"


def test_repeat_projection_and_nested_repeat() -> None:
    """children.age is a list of numbers; reaching through a repeat inside a repeat is refused."""
    compiled = compile_expression("sum(children.age)", SCOPE)
    assert compiled.type == NUMBER
    assert compiled.references == frozenset({"children", "age"})
    [(message, hint, _)] = errors("children.pets.kind")
    assert "inside the repeat 'children'" in message
    assert hint is not None
    assert "any()" in hint


@pytest.mark.parametrize(
    ("source", "message", "hint_part", "text"),
    [
        ("child_name > 3", "cannot compare text with number", "number(text)", "child_name > 3"),
        ("child_dob == seen_at", "cannot compare date with datetime", "date(", "child_dob == seen_at"),
        ("consent < true", "cannot order booleans with '<'", "'=='", "consent < true"),
        ("photo == photo", "cannot compare attachments with '=='", "null", "photo == photo"),
        ("vehicles > vehicles", "cannot order lists of text with '>'", None, "vehicles > vehicles"),
        ("location == location", "cannot compare geopoints with '=='", None, "location == location"),
        ("child_dob + 1", "cannot add date and number with '+'", "add_days(date, n)", "child_dob + 1"),
        ("seen_at + 1", "cannot add datetime and number with '+'", "add_hours", "seen_at + 1"),
        ("'No. ' + age", "cannot add text and number with '+'", "text(n)", "'No. ' + age"),
        ("child_dob - child_dob", "cannot subtract dates with '-'", "days_between", "child_dob"),
        ("child_name * 2", "cannot multiply text with '*'", "numbers only", "child_name"),
        ("-child_name", "cannot negate text", None, "-child_name"),
        (
            "child_name and consent",
            "'and' needs a boolean on each side, got text",
            "child_name != null",
            "child_name",
        ),
        ("consent or age", "'or' needs a boolean on each side, got number", "age > 0", "age"),
        ("not vehicles", "'not' needs a boolean, got list of text", "count(vehicles) > 0", "vehicles"),
        ("'a' in child_name", "'in' needs a list on the right, got text", "contains(", "child_name"),
        ("age in vehicles", "cannot look for a number in a list of text", None, "age in vehicles"),
        (
            "age ?? 'none'",
            "both sides of '??' must have the same type, not number and text",
            None,
            "age ?? 'none'",
        ),
        ("[1, 'a']", "a list must hold values of one type, not number and text", None, "[1, 'a']"),
    ],
)
def test_type_errors_point_at_the_sub_expression(
    source: str, message: str, hint_part: str | None, text: str
) -> None:
    """Each type error has its sentence, a hint where one helps, and underlines the culprit."""
    [(got_message, hint, underlined)] = errors(source)
    assert got_message == message
    if hint_part is not None:
        assert hint is not None
        assert hint_part in hint
    assert underlined == text


def test_null_is_accepted_everywhere() -> None:
    """Comparing with null, adding null and null in logic are all allowed."""
    for source in [
        "photo == null",
        "null != child_dob",
        "age + null",
        "null and consent",
        "null in vehicles",
    ]:
        compile_expression(source, SCOPE)


@pytest.mark.parametrize(
    ("source", "expect", "message", "hint"),
    [
        ("child_name", BOOLEAN, "expected a boolean, got text", "compare it: child_name != null"),
        ("age", BOOLEAN, "expected a boolean, got number", "compare it: age > 0"),
        ("vehicles", BOOLEAN, "expected a boolean, got list of text", "count it: count(vehicles) > 0"),
        ("age", TEXT, "expected a text, got number", "convert it: text(age)"),
        ("child_name", NUMBER, "expected a number, got text", "convert it: number(child_name)"),
    ],
)
def test_expected_type(source: str, expect: Type, message: str, hint: str) -> None:
    """With expect=..., a result of another type is an error with a way to convert it."""
    [(got_message, got_hint, underlined)] = errors(source, expect=expect)
    assert (got_message, got_hint, underlined) == (message, hint, source)


def test_expect_accepts_null_and_matching_types() -> None:
    """expect=BOOLEAN accepts comparisons, boolean fields and null."""
    for source in ["consent", "age > 3", "null", "any(children, age < 5)"]:
        assert compile_expression(source, SCOPE, expect=BOOLEAN).type.kind in (Kind.BOOLEAN, Kind.NULL)


def test_function_errors() -> None:
    """Unknown functions get did-you-mean; wrong arity and argument types name the function."""
    [(message, hint, text)] = errors("years_betwen(child_dob, today())")
    assert message == "unknown function 'years_betwen'"
    assert hint is not None
    assert hint.startswith("did you mean 'years_between'")
    assert text == "years_betwen"
    [(message, hint, text)] = errors("years_between(child_dob)")
    assert message == "years_between() takes 2 arguments, got 1"
    assert text == "years_between(child_dob)"
    [(message, _, _)] = errors("count()")
    assert message == "count() takes 1 or 2 arguments, got 0"
    [(message, _, _)] = errors("coalesce()")
    assert message == "coalesce() takes at least 1 argument, got 0"
    [(message, hint, text)] = errors("if(age, 'a', 'b')")
    assert message == "if(): the condition must be a boolean, not number"
    assert hint == "compare it: age > 0"
    assert text == "age"
    [(message, _, text)] = errors("age(3)")
    assert message == "'age' is a field, not a function"
    assert text == "age"


def test_if_branches_must_agree() -> None:
    """if() with a text and a number branch is an error at the else branch."""
    [(message, _, text)] = errors("if(consent, 'yes', 3)")
    assert "both results must have the same type" in message
    assert text == "3"
    assert compile_expression("if(consent, 'yes', null)", SCOPE).type == TEXT


def test_scoped_functions_see_item_fields_and_outer_names() -> None:
    """Inside any(children, ...) bare names are the item's fields; outer names stay visible."""
    compiled = compile_expression("any(children, age < 5 and consent)", SCOPE)
    assert compiled.type == BOOLEAN
    assert compiled.ir[0] == "scoped"
    # child_name exists in both: the item's own field wins (frame 1)
    inner = compile_expression("count(children, child_name == 'x')", SCOPE)
    assert inner.ir[3] == ["eq", ["ref", 1, ["child_name"]], ["lit", "x"]]
    [(message, hint, _)] = errors("any(children, agee < 5)")
    assert message == "unknown name 'agee'"
    assert hint == "did you mean 'age'?"


def test_scoped_functions_need_a_repeat_and_a_boolean_condition() -> None:
    """A condition over a plain list, or a condition that is not boolean, is refused."""
    [(message, _, text)] = errors("any(vehicles, true)")
    assert message == "any() with a condition needs a repeat as its first argument, got list of text"
    assert text == "vehicles"
    [(message, hint, text)] = errors("count(children, child_name)")
    assert message == "count(): the condition must be a boolean, not text"
    assert hint == "compare it: child_name != null"
    assert text == "child_name"
    [(message, _, _)] = errors("sum(vehicles)")
    assert message == "sum(): argument 1 must be a list of number, not list of text"


def test_references_and_clock() -> None:
    """references lists every resolved symbol; uses_clock is set by today() and now()."""
    compiled = compile_expression("years_between(child_dob, today()) >= 16 or consent", SCOPE)
    assert compiled.references == frozenset({"child_dob", "consent"})
    assert compiled.uses_clock
    assert not compile_expression("age > 3", SCOPE).uses_clock


def test_matches_pattern_is_checked_at_load_time() -> None:
    """matches() needs a literal, valid, portable pattern."""
    compile_expression("matches(child_name, '^[A-Z][a-z]+$')", SCOPE)
    [(message, _, text)] = errors("matches(child_name, child_name)")
    assert message == "the pattern of matches() must be written as text in quotes"
    assert text == "child_name"
    [(message, _, text)] = errors("matches(child_name, '(?<=a)b')")
    assert message.startswith("invalid pattern: lookbehind")
    assert text == "'(?<=a)b'"
    [(message, _, _)] = errors("matches(child_name, '[a-')")
    assert message.startswith("invalid pattern")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("^[A-Z]{2}\\d{2}$", None),
        ("(a|b)+?c", None),
        ("(ab)(?:c)(?=d)(?!e)\\1", None),
        ("[\\]\\[]", None),
        ("(?P<x>a)", "named groups"),
        ("(?<x>a)", "named groups"),
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "lookbehind"),
        ("(?>a)", "atomic"),
        ("a++", "possessive"),
        ("(?i)abc", "inline flags"),
        ("(?#note)a", "comments"),
        ("\\Aabc\\Z", "'\\A'"),
        ("a{,3}", "{0,n}"),
        ("[]a]", "']'"),
        ("[[a]", "'['"),
        ("abc\\", "backslash"),
        ("\\12", "backreferences"),
        ("(", "missing"),
        ("a" * 1001, "longer than"),
    ],
)
def test_portable_regex(pattern: str, problem: str | None) -> None:
    """Only the regex subset Python and JavaScript read the same way is accepted."""
    result = check_portable_regex(pattern)
    if problem is None:
        assert result is None
    else:
        assert result is not None
        assert problem in result


def test_inner_scope_of_a_workflow_frame() -> None:
    """Names in a later frame are found with their frame index (workflows push frames)."""
    task = _record({"decision": TEXT})
    scope = SCOPE.push(task, "review")
    compiled = compile_expression("decision == 'approve' and age > 3", scope)
    assert compiled.ir[1] == ["eq", ["ref", 1, ["decision"]], ["lit", "approve"]]
    assert compiled.ir[2] == ["gt", ["ref", 0, ["age"]], ["lit", 3]]


@pytest.mark.parametrize("source", ["(", "f(", "'", "a ==", "\x00", "@", "1" * 20000, "a." * 3000])
def test_only_definition_errors_escape(source: str) -> None:
    """Broken input always gives a DefinitionError with a position, never another exception."""
    with pytest.raises(DefinitionError) as info:
        compile_expression(source, SCOPE)
    assert all(d.position is not None for d in info.value.diagnostics)


@pytest.mark.parametrize(
    "source",
    [
        "zzzzqqq",
        "age.years",
        "household.zzzz",
        "qqqqq(1)",
        "any(null, true)",
        "age in age",
        "-consent",
        "consent + 1",
        "child_dob - 1",
        "[consent, 1]",
        "age ?? consent",
        "not age",
        "count(children, 3)",
        "if(consent, 1, 'x')",
        "child_name == 3",
        "child_name < consent",
        "location > location",
        "matches(child_name, '(?i)x')",
        "years_between(child_dob)",
    ],
)
def test_every_checker_error_has_a_hint(source: str) -> None:
    """An author always gets a suggestion, not just a complaint."""
    for _message, hint, text in errors(source):
        assert hint
        assert text


def test_expect_without_an_obvious_conversion_still_hints() -> None:
    """expect=DATE on a number explains what the expression must give."""
    [(message, hint, _)] = errors("age", expect=DATE)
    assert message == "expected a date, got number"
    assert hint == "this expression must give a date"
