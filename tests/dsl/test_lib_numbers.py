"""The number functions: round, floor, ceil, abs, min, max, int (dsl/_lib_numbers.py)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings

from dsl._functions import ArgTypeError
from dsl._lib_numbers import FUNCTIONS, finite, whole_number
from dsl._types import DATE, DATETIME, NULL, NUMBER, TEXT, TIME, list_of
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
    """The numbers module provides the functions the contract lists, all in category numbers."""
    assert set(BY_NAME) == {"round", "floor", "ceil", "abs", "min", "max", "int"}
    assert all(f.category == "numbers" for f in FUNCTIONS)
    assert all(f.example.startswith(f.name + "(") and "→" in f.example for f in FUNCTIONS)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2.5,), 3),
        ((-2.5,), -3),
        ((0.5,), 1),
        ((-0.5,), -1),
        ((1.49,), 1),
        ((2.675, 2), 2.68),
        ((1.005, 2), 1.01),
        ((-2.675, 2), -2.68),
        ((1234.5678, 1), 1234.6),
        ((7, 2), 7),
        ((1250, -2), 1300),
        ((-1250, -2), -1300),
        ((1249, -2), 1200),
        ((1250.0, -2), 1300),
        ((5, -3), 0),
        ((3.14159, 2.9), 3.14),
    ],
)
def test_round_is_half_away_from_zero(args: tuple[Any, ...], expected: float) -> None:
    """round() rounds halves away from zero on the decimal form, not banker's rounding."""
    result = call("round", *args)
    assert result == expected
    assert type(result) is type(expected)


def test_round_without_places_gives_a_whole_number() -> None:
    """round(x) is an int, so templates print it without a decimal point."""
    assert call("round", 2.4) == 2
    assert isinstance(call("round", 2.4), int)
    assert isinstance(call("round", 9.99, 1), float)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_give_null(bad: float) -> None:
    """NaN and infinity (only overflow makes them) give null from every number function."""
    for name in ("round", "floor", "ceil", "abs", "int"):
        assert call(name, bad) is None, name
    assert call("round", 2.5, bad) is None
    assert call("min", 1, bad) is None
    assert call("max", [bad, 2]) is None


def test_round_extreme_places_do_not_raise() -> None:
    """round() with absurd places stays total: huge places leave x, hugely negative give 0."""
    assert call("round", 1.5, 10**9) == 1.5
    assert call("round", 1.5e300, -(10**9)) == 0
    assert call("round", 10**30, -(10**9)) == 0
    assert call("round", 1e308, 300) == 1e308


def test_floor_ceil_abs_int() -> None:
    """floor/ceil go down/up, abs drops the sign, int truncates toward zero."""
    assert call("floor", -2.5) == -3
    assert call("floor", 2.9) == 2
    assert call("ceil", 2.1) == 3
    assert call("ceil", -2.9) == -2
    assert call("floor", 7) == 7
    assert call("abs", -4.5) == 4.5
    assert call("abs", -4) == 4
    assert isinstance(call("abs", -4), int)
    assert call("int", -2.7) == -2
    assert call("int", 2.7) == 2
    assert call("int", 10**20) == 10**20
    assert isinstance(call("floor", 2.5), int)


def test_null_propagates_through_single_argument_functions() -> None:
    """round/floor/ceil/abs/int of null is null (the default null rule)."""
    for name in ("round", "floor", "ceil", "abs", "int"):
        assert BY_NAME[name].propagate_null
        assert call(name, None) is None
    assert call("round", 2.5, None) is None


def test_min_max_over_several_values_skip_nulls() -> None:
    """min/max of several values skip nulls; all null gives null."""
    assert call("min", 3, None, 1.5) == 1.5
    assert call("max", 3, None, 1.5) == 3
    assert call("min", None, None) is None
    assert call("max", 4) == 4
    assert not BY_NAME["min"].propagate_null


def test_min_max_over_one_list() -> None:
    """min/max of one list use its items; an empty or null list gives null."""
    assert call("min", [4, None, 2, 9]) == 2
    assert call("max", [4, None, 2, 9]) == 9
    assert call("max", []) is None
    assert call("min", [None]) is None
    assert call("min", None) is None


def test_min_max_over_dates_and_times() -> None:
    """min/max also order dates, datetimes and times."""
    early, late = dt.date(2023, 12, 25), dt.date(2024, 1, 31)
    assert call("max", late, early) == late
    assert call("min", [late, early]) == early
    assert call("min", dt.time(10, 30), dt.time(9, 0)) == dt.time(9, 0)
    utc = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    assert call("max", utc, utc + dt.timedelta(hours=1)) == utc + dt.timedelta(hours=1)


def test_min_max_values_of_mixed_runtime_types_give_null() -> None:
    """Answers of mismatched runtime types (a date and a number) give null, never a TypeError."""
    assert call("min", dt.date(2024, 1, 1), 3) is None
    assert call("max", [dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]) is None


def test_min_max_type_rule() -> None:
    """The type rule accepts numbers, dates, datetimes, times or one list, and nothing mixed."""
    rule = BY_NAME["min"].check
    assert rule([NUMBER, NUMBER, NULL]) == NUMBER
    assert rule([DATE, DATE]) == DATE
    assert rule([TIME]) == TIME
    assert rule([list_of(DATETIME)]) == DATETIME
    assert rule([NULL, NULL]) == NULL
    with pytest.raises(ArgTypeError) as mixed:
        rule([NUMBER, DATE])
    assert mixed.value.index == 1
    assert "cannot mix a number with a date" in mixed.value.message
    with pytest.raises(ArgTypeError) as text:
        rule([TEXT])
    assert text.value.index == 0
    with pytest.raises(ArgTypeError) as listed:
        rule([NUMBER, list_of(NUMBER)])
    assert listed.value.index == 1
    assert listed.value.hint is not None
    with pytest.raises(ArgTypeError):
        rule([list_of(TEXT)])


def test_fixed_number_rules_reject_text() -> None:
    """round/int and friends reject a text argument at the argument's index."""
    with pytest.raises(ArgTypeError) as err:
        BY_NAME["round"].check([NUMBER, TEXT])
    assert err.value.index == 1
    assert BY_NAME["int"].check([NULL]) == NUMBER
    with pytest.raises(ArgTypeError):
        BY_NAME["abs"].check([DATE])


def test_helpers_finite_and_whole_number() -> None:
    """finite() rejects NaN, infinity, bools and text; whole_number truncates toward zero."""
    assert finite(3)
    assert finite(-2.5)
    assert not finite(math.nan)
    assert not finite(True)
    assert not finite("3")
    assert whole_number(-1.9) == -1
    assert whole_number(math.inf) is None
    assert whole_number(None) is None


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


def test_end_to_end_rounding_and_overloads() -> None:
    """round() on an answer rounds half away from zero; min/max take lists, values and dates."""
    fields = {"x": NUMBER, "scores": list_of(NUMBER), "seen": list_of(DATE)}
    assert evaluate("round(x, 2)", fields, {"x": 2.675}) == 2.68
    assert evaluate("round(x)", fields, {"x": -2.5}) == -3
    assert evaluate("int(x / 2)", fields, {"x": -7}) == -3
    assert evaluate("max(scores)", fields, {"scores": [4, None, 9]}) == 9
    assert evaluate("min(x, 10)", fields) == 10
    assert evaluate("max(seen)", fields, {"seen": [dt.date(2024, 1, 2), dt.date(2023, 5, 1)]}) == dt.date(
        2024, 1, 2
    )
    assert evaluate("round(x)", fields) is None
    assert evaluate("abs(x / 0)", fields, {"x": 1}) is None


def test_end_to_end_type_errors() -> None:
    """min/max cannot mix kinds, and number functions reject text, at load time."""
    assert "cannot mix a number with a date" in str(compile_error("min(1, @2024-01-01)"))
    assert "must be a number" in str(compile_error("round('2.5')"))
    assert "must be a number" in str(compile_error("int('3')"))
