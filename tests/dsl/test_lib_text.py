"""The text functions (dsl/_lib_text.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings

from dsl._functions import ArgTypeError
from dsl._lib_text import FUNCTIONS
from dsl._types import BOOLEAN, NULL, NUMBER, TEXT, list_of
from tests.dsl._lib_support import (
    WellTyped,
    apply,
    caller,
    compile_error,
    conforms,
    evaluate,
    examples,
    same_value,
    well_typed_calls,
)

BY_NAME = {f.name: f for f in FUNCTIONS}


call = caller(FUNCTIONS)


def test_module_exposes_exactly_the_contract_names() -> None:
    """The text module provides the functions the contract lists, in category text."""
    assert set(BY_NAME) == {
        "lower", "upper", "trim", "contains", "starts_with", "ends_with", "matches", "replace",
        "substr", "concat", "join", "split", "initials",
    }  # fmt: skip
    assert all(f.category == "text" for f in FUNCTIONS)
    assert {f.name for f in FUNCTIONS if not f.propagate_null} == {
        "contains", "starts_with", "ends_with", "matches", "concat",
    }  # fmt: skip


def test_case_and_trim() -> None:
    """lower/upper change case; trim removes whitespace at both ends only."""
    assert call("lower", "Alice BOWEN") == "alice bowen"
    assert call("upper", "sw1a 1aa") == "SW1A 1AA"
    assert call("trim", " \t Alice  Bowen \n") == "Alice  Bowen"
    assert call("upper", None) is None
    assert call("trim", "") == ""


def test_tests_are_case_sensitive_and_false_for_null() -> None:
    """contains/starts_with/ends_with are case-sensitive, and false (not null) for null."""
    assert call("contains", "Knife found", "found") is True
    assert call("contains", "Knife found", "knife") is False
    assert call("contains", "abc", "") is True
    assert call("starts_with", "PC 1234", "PC") is True
    assert call("starts_with", "PC 1234", "pc") is False
    assert call("ends_with", "report.pdf", ".pdf") is True
    assert call("ends_with", "report.pdf", ".PDF") is False
    for name in ("contains", "starts_with", "ends_with", "matches"):
        assert call(name, None, "a") is False, name
        assert call(name, "a", None) is False, name
        assert call(name, None, None) is False, name


def test_matches_searches_like_javascript_regexp_test() -> None:
    """matches() is true when the pattern matches anywhere; ^...$ anchors it to the whole text."""
    assert call("matches", "ref AB12 CDE here", "[A-Z]{2}[0-9]{2} ?[A-Z]{3}") is True
    assert call("matches", "ref AB12 CDE here", "^[A-Z]{2}[0-9]{2} ?[A-Z]{3}$") is False
    assert call("matches", "AB12CDE", "^[A-Z]{2}[0-9]{2} ?[A-Z]{3}$") is True
    assert call("matches", "", "^$") is True


def test_matches_digits_are_ascii_as_in_the_browser() -> None:
    r"""\d matches ASCII digits only, as in JavaScript, not Arabic-Indic or full-width digits."""
    assert call("matches", "12", r"^\d+$") is True
    assert call("matches", "١٢", r"^\d+$") is False
    assert call("matches", "１２", r"^\d+$") is False


def test_matches_with_an_invalid_pattern_is_false_not_an_error() -> None:
    """An invalid pattern (the checker rejects literal ones at load time) gives false at run time."""
    assert call("matches", "abc", "(") is False
    assert call("matches", "abc", "[z-a]") is False


def test_replace_is_plain_text_and_replaces_every_occurrence() -> None:
    """replace() treats `find` as plain text (no regex) and replaces all occurrences."""
    assert call("replace", "07700-900-123", "-", "") == "07700900123"
    assert call("replace", "a.b.c", ".", "*") == "a*b*c"
    assert call("replace", "(x)", "(x)", "y") == "y"
    assert call("replace", "abc", "", "x") == "abc"
    assert call("replace", "abc", "b", None) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Alice Bowen", 6), "Bowen"),
        (("Alice Bowen", 0, 5), "Alice"),
        (("Alice Bowen", 6, 100), "Bowen"),
        (("Alice", 10), ""),
        (("Alice", 10, 2), ""),
        (("Alice", 2, 0), ""),
        (("Alice", 2, -3), ""),
        (("Alice", -1, 2), "A"),  # positions -1 and 0: only 0 exists
        (("Alice", -10), "Alice"),
        (("Alice", 1.9, 2.9), "li"),
        (("Alice", 10**30), ""),
        (("Alice", 0, 10**30), "Alice"),
        (("", 0, 1), ""),
        (("añb😀c", 3, 1), "😀"),
    ],
)
def test_substr_never_fails_on_out_of_range_positions(args: tuple[Any, ...], expected: str) -> None:
    """substr() returns the characters that exist in [start, start + length); never an error."""
    assert call("substr", *args) == expected


def test_substr_null_and_nan() -> None:
    """substr() with a null or NaN position gives null."""
    assert call("substr", None, 1) is None
    assert call("substr", "abc", None) is None
    assert call("substr", "abc", math.nan) is None
    assert call("substr", "abc", 0, math.inf) is None


def test_concat_treats_null_as_empty_text() -> None:
    """concat() joins texts end to end; null arguments count as empty text."""
    assert call("concat", "PC ", None, "1234") == "PC 1234"
    assert call("concat", None, None) == ""
    assert call("concat", "only") == "only"


def test_join_and_split() -> None:
    """join() skips null items; split() of empty text is an empty list, by '' gives characters."""
    assert call("join", ["knife", None, "cash"], ", ") == "knife, cash"
    assert call("join", [], ", ") == ""
    assert call("join", None, ", ") is None
    assert call("split", "a,b,,c", ",") == ["a", "b", "", "c"]
    assert call("split", "", ",") == []
    assert call("split", "abc", "") == ["a", "b", "c"]
    assert call("split", "a, b", ", ") == ["a", "b"]
    assert call("split", None, ",") is None


def test_initials() -> None:
    """initials() takes the first letter of each word, in capitals."""
    assert call("initials", "Alice Bowen Carter") == "ABC"
    assert call("initials", "  alice   bowen ") == "AB"
    assert call("initials", "Mary-Jane O'Brien") == "MO"
    assert call("initials", "(Bob) 123 smith") == "BS"
    assert call("initials", "") == ""
    assert call("initials", None) is None


def test_wrong_runtime_values_give_null_or_false() -> None:
    """An answer of the wrong runtime type gives null or false, never raises."""
    assert BY_NAME["upper"].impl(3) is None
    assert BY_NAME["trim"].impl([" a "]) is None
    assert BY_NAME["contains"].impl(3, "3") is False
    assert BY_NAME["matches"].impl(["a"], "a") is False
    assert BY_NAME["replace"].impl(3, "3", "4") is None
    assert BY_NAME["substr"].impl(3, 0) is None
    assert BY_NAME["join"].impl("abc", ",") is None
    assert BY_NAME["join"].impl([1, "a"], ",") == "a"
    assert BY_NAME["split"].impl(3, ",") is None
    assert BY_NAME["initials"].impl(3) is None
    assert BY_NAME["concat"].impl("a", 3) == "a"


def test_type_rules() -> None:
    """Type rules accept text (and null) and point at the offending argument, with hints."""
    assert BY_NAME["contains"].check([TEXT, NULL]) == BOOLEAN
    assert BY_NAME["split"].check([TEXT, TEXT]) == list_of(TEXT)
    assert BY_NAME["join"].check([list_of(TEXT), TEXT]) == TEXT
    assert BY_NAME["substr"].check([TEXT, NUMBER]) == TEXT
    with pytest.raises(ArgTypeError) as join:
        BY_NAME["join"].check([list_of(NUMBER), TEXT])
    assert join.value.index == 0
    with pytest.raises(ArgTypeError) as concat:
        BY_NAME["concat"].check([TEXT, NUMBER])
    assert concat.value.index == 1
    assert concat.value.hint is not None
    assert "text(" in concat.value.hint
    with pytest.raises(ArgTypeError) as listed:
        BY_NAME["concat"].check([list_of(TEXT)])
    assert listed.value.hint is not None
    assert "join" in listed.value.hint
    with pytest.raises(ArgTypeError) as upper:
        BY_NAME["upper"].check([NUMBER])
    assert upper.value.index == 0


@settings(max_examples=400, deadline=None)
@given(well_typed_calls(FUNCTIONS))
def test_no_well_typed_call_raises(case: WellTyped) -> None:
    """Any values of the types the type rule accepts give a result of the declared type or null."""
    fn, returns, args = case
    assert conforms(apply(fn, *args), returns), (fn.name, args)


@pytest.mark.parametrize(("name", "expr", "result"), examples(FUNCTIONS))
def test_documented_example_holds(name: str, expr: str, result: str) -> None:
    """Each function's documented example, compiled and evaluated, gives the documented result."""
    assert same_value(evaluate(expr), evaluate(result)), name


def test_end_to_end_null_answers() -> None:
    """Unanswered text fields: tests are false, concat treats them as empty, upper gives null."""
    fields = {"name": TEXT, "surname": TEXT}
    assert evaluate("contains(name, 'a')", fields) is False
    assert evaluate("not starts_with(name, 'A')", fields) is True
    assert evaluate("concat(name, ' ', surname)", fields, {"surname": "Lee"}) == " Lee"
    assert evaluate("upper(name)", fields) is None
    assert evaluate("initials(concat(name, ' ', surname))", fields, {"name": "ann", "surname": "lee"}) == "AL"


def test_end_to_end_matches_searches_and_split_join() -> None:
    """matches() finds the pattern anywhere unless anchored; split and join round-trip."""
    fields = {"ref": TEXT, "tags": list_of(TEXT)}
    assert evaluate("matches(ref, '[0-9]{4}')", fields, {"ref": "Crime 2024/118"}) is True
    assert evaluate("matches(ref, '^[0-9]{4}$')", fields, {"ref": "Crime 2024/118"}) is False
    assert evaluate("join(split(ref, '/'), '-')", fields, {"ref": "a/b/c"}) == "a-b-c"
    assert evaluate("join(tags, ', ')", fields, {"tags": ["knife", "cash"]}) == "knife, cash"
    assert evaluate("substr(ref, 100)", fields, {"ref": "abc"}) == ""


def test_end_to_end_type_errors() -> None:
    """Non-text arguments are errors at load time, with hints for concat."""
    assert "text(" in str(compile_error("concat('PC ', 1234)"))
    assert "join(" in str(compile_error("concat(tags)", {"tags": list_of(TEXT)}))
    assert "must be a list of text" in str(compile_error("join(nums, ',')", {"nums": list_of(NUMBER)}))
    assert "must be a number" in str(compile_error("substr('abc', '1')"))
