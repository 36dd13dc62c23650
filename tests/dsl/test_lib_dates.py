"""The date and time functions (dsl/_lib_dates.py and its helper dsl/_lib_dates_calendar.py)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings

from dsl import compile_expression
from dsl._functions import ArgTypeError
from dsl._lib_dates import FUNCTIONS
from dsl._types import DATE, DATETIME, NULL, NUMBER, TEXT, TIME
from tests.dsl._lib_support import (
    FakeEnv,
    WellTyped,
    apply,
    caller,
    compile_error,
    conforms,
    evaluate,
    examples,
    same_value,
    scope,
    well_typed_calls,
)

BY_NAME = {f.name: f for f in FUNCTIONS}
LONDON = ZoneInfo("Europe/London")
D = dt.date
EAST = dt.timezone(dt.timedelta(hours=14))  # the earliest instant in this zone is before year 1 UTC


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware UTC datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


call = caller(FUNCTIONS)


def test_module_exposes_exactly_the_contract_names() -> None:
    """The dates module provides the functions the contract lists, in category dates."""
    assert set(BY_NAME) == {
        "today", "now", "years_between", "months_between", "days_between", "hours_between",
        "add_days", "add_months", "add_years", "add_hours", "add_minutes", "year", "month", "day",
        "weekday", "hour", "minute", "date", "format_date",
    }  # fmt: skip
    assert all(f.category == "dates" for f in FUNCTIONS)
    assert {f.name for f in FUNCTIONS if f.uses_clock} == {"today", "now"}
    assert all(f.propagate_null for f in FUNCTIONS)


def test_today_is_the_london_date_not_the_utc_date() -> None:
    """At 23:30 UTC in British Summer Time it is already the next day in London."""
    env = FakeEnv(now=utc(2024, 6, 30, 23, 30))
    assert BY_NAME["today"].impl(env) == D(2024, 7, 1)
    winter = FakeEnv(now=utc(2024, 1, 31, 23, 30))
    assert BY_NAME["today"].impl(winter) == D(2024, 1, 31)


def test_today_follows_the_environment_zone() -> None:
    """today() uses env.tz, so a different zone gives that zone's date."""
    env = FakeEnv(now=utc(2024, 6, 30, 23, 30), tz=dt.UTC)
    assert BY_NAME["today"].impl(env) == D(2024, 6, 30)


def test_now_is_the_environment_clock() -> None:
    """now() returns env.now unchanged (an aware datetime)."""
    moment = utc(2024, 6, 30, 23, 30)
    assert BY_NAME["now"].impl(FakeEnv(now=moment)) == moment


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (D(2010, 5, 1), D(2024, 4, 30), 13),
        (D(2010, 5, 1), D(2024, 5, 1), 14),
        (D(2010, 5, 1), D(2010, 5, 1), 0),
        (D(2008, 2, 29), D(2025, 2, 28), 16),  # no 29 February in 2025: birthday is 1 March
        (D(2008, 2, 29), D(2025, 3, 1), 17),
        (D(2008, 2, 29), D(2024, 2, 28), 15),
        (D(2008, 2, 29), D(2024, 2, 29), 16),
        (D(2024, 5, 1), D(2020, 6, 1), -3),  # backwards: the mirror of counting forwards
        (D(2024, 5, 1), D(2023, 5, 2), 0),
    ],
)
def test_years_between_counts_birthdays(born: dt.date, on: dt.date, age: int) -> None:
    """years_between is an age: completed years, with a 29 February birthday on 1 March."""
    assert call("years_between", born, on) == age


def test_years_between_reads_datetimes_as_london_dates() -> None:
    """A datetime argument counts by its UK date (23:30 UTC on 30 April in summer is 1 May)."""
    assert call("years_between", D(2010, 5, 1), utc(2024, 4, 30, 23, 30)) == 14


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (D(2024, 1, 15), D(2024, 3, 14), 1),
        (D(2024, 1, 15), D(2024, 3, 15), 2),
        (D(2024, 1, 31), D(2024, 2, 29), 1),  # what add_months(31 Jan, 1) gives
        (D(2024, 1, 31), D(2024, 2, 28), 0),
        (D(2023, 12, 31), D(2024, 1, 1), 0),
        (D(2024, 3, 15), D(2024, 1, 15), -2),
    ],
)
def test_months_between_counts_whole_months(start: dt.date, end: dt.date, months: int) -> None:
    """months_between counts the months add_months can add without passing the end."""
    assert call("months_between", start, end) == months


def test_days_between_dates_and_datetimes() -> None:
    """days_between is to - from in days; for datetimes whole days elapsed, truncated toward zero."""
    assert call("days_between", D(2024, 1, 30), D(2024, 3, 1)) == 31
    assert call("days_between", D(2024, 3, 1), D(2024, 1, 30)) == -31
    assert call("days_between", utc(2024, 1, 1, 12), utc(2024, 1, 3, 11)) == 1
    assert call("days_between", utc(2024, 1, 3, 11), utc(2024, 1, 1, 12)) == -1
    assert call("days_between", D(2024, 1, 1), utc(2024, 1, 3)) is None  # mixed at run time


def test_hours_between_counts_elapsed_hours_across_clock_change() -> None:
    """hours_between counts real hours: 00:30 to 03:30 London on 31 March 2024 is 2 hours."""
    start = dt.datetime(2024, 3, 31, 0, 30, tzinfo=LONDON)
    end = dt.datetime(2024, 3, 31, 3, 30, tzinfo=LONDON)
    assert call("hours_between", start, end) == 2
    assert call("hours_between", end, start) == -2
    assert call("hours_between", utc(2024, 1, 1, 10), utc(2024, 1, 1, 11, 59)) == 1


def test_add_days_months_years() -> None:
    """add_days adds days; add_months and add_years clamp to the end of a short month."""
    assert call("add_days", D(2024, 1, 30), 3) == D(2024, 2, 2)
    assert call("add_days", D(2024, 3, 1), -1) == D(2024, 2, 29)
    assert call("add_days", D(2024, 1, 30), 1.9) == D(2024, 1, 31)
    assert call("add_months", D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert call("add_months", D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert call("add_months", D(2024, 1, 31), -2) == D(2023, 11, 30)
    assert call("add_months", D(2024, 11, 15), 3) == D(2025, 2, 15)
    assert call("add_years", D(2024, 2, 29), 1) == D(2025, 2, 28)
    assert call("add_years", D(2024, 2, 29), 4) == D(2028, 2, 29)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("add_days", (D(9999, 12, 31), 1)),
        ("add_days", (D(1, 1, 1), -1)),
        ("add_days", (D(2024, 1, 1), 10**30)),
        ("add_days", (D(2024, 1, 1), math.nan)),
        ("add_days", (D(2024, 1, 1), math.inf)),
        ("add_months", (D(9999, 12, 1), 1)),
        ("add_months", (D(2024, 1, 1), 10**30)),
        ("add_years", (D(2024, 1, 1), 8000)),
        ("add_years", (D(2024, 1, 1), -(10**30))),
        ("add_hours", (utc(9999, 12, 31, 23), 2)),
        ("add_hours", (utc(2024, 1, 1), 1e300)),
        ("add_minutes", (utc(2024, 1, 1), math.nan)),
        ("year", (dt.datetime.min.replace(tzinfo=dt.UTC),)),
        ("date", (dt.datetime.min.replace(tzinfo=dt.UTC),)),
        ("format_date", (dt.datetime.min.replace(tzinfo=dt.UTC), "YYYY")),
        ("days_between", (dt.datetime.min.replace(tzinfo=EAST), utc(2024, 1, 1))),
        ("add_hours", (dt.datetime.min.replace(tzinfo=EAST), 20)),
    ],
)
def test_results_off_the_calendar_are_null(name: str, args: tuple[Any, ...]) -> None:
    """A result outside years 1-9999, or a NaN/infinite count, gives null instead of raising."""
    assert call(name, *args) is None


def test_add_hours_and_minutes_are_elapsed_time() -> None:
    """add_hours crosses the spring clock change by real time, and accepts fractions."""
    before = dt.datetime(2024, 3, 31, 0, 30, tzinfo=LONDON)
    after = call("add_hours", before, 2)
    assert after == utc(2024, 3, 31, 2, 30)
    assert after.astimezone(LONDON).hour == 3  # two hours after 00:30 GMT is 03:30 BST
    assert call("add_hours", utc(2024, 1, 31, 22), 3) == utc(2024, 2, 1, 1)
    assert call("add_hours", utc(2024, 1, 1), 1.5) == utc(2024, 1, 1, 1, 30)
    assert call("add_minutes", utc(2024, 1, 31, 10, 30), 45) == utc(2024, 1, 31, 11, 15)
    assert call("add_minutes", utc(2024, 1, 31, 10, 30), -31) == utc(2024, 1, 31, 9, 59)


def test_calendar_parts_of_dates_datetimes_and_times() -> None:
    """year/month/day/weekday/hour/minute read UK local time for datetimes."""
    assert call("year", D(2024, 1, 31)) == 2024
    assert call("month", D(2024, 1, 31)) == 1
    assert call("day", D(2024, 1, 31)) == 31
    assert call("weekday", D(2024, 1, 31)) == 3
    assert call("weekday", D(2024, 2, 4)) == 7
    new_year = utc(2024, 12, 31, 23, 30)  # winter: London is UTC
    assert (call("year", new_year), call("day", new_year)) == (2024, 31)
    summer = utc(2024, 6, 30, 23, 30)  # BST: already 1 July, 00:30
    assert (call("month", summer), call("day", summer), call("weekday", summer)) == (7, 1, 1)
    assert (call("hour", summer), call("minute", summer)) == (0, 30)
    assert call("hour", utc(2024, 7, 1, 9, 15)) == 10
    assert call("minute", dt.time(10, 45)) == 45
    assert call("hour", dt.time(10, 45)) == 10


def test_date_from_datetime_and_text() -> None:
    """date() takes a datetime's UK date, or strict 'YYYY-MM-DD' text; other text is null."""
    assert call("date", utc(2024, 6, 30, 23, 30)) == D(2024, 7, 1)
    assert call("date", "2024-01-31") == D(2024, 1, 31)
    assert call("date", " 2024-01-31 ") == D(2024, 1, 31)
    for bad in ("2024-02-30", "20240131", "31/01/2024", "2024-W05-3", "", "yesterday", "２０２４-01-31"):
        assert call("date", bad) is None, bad


@pytest.mark.parametrize(
    ("value", "pattern", "text"),
    [
        (D(2024, 1, 31), "DD/MM/YYYY", "31/01/2024"),
        (D(2024, 1, 31), "D MMMM YYYY", "31 January 2024"),
        (D(2024, 1, 31), "ddd D MMM YY", "Wed 31 Jan 24"),
        (D(2024, 3, 5), "dddd D/M/YYYY", "Tuesday 5/3/2024"),
        (D(2024, 3, 5), "YYYY-MM-DD HH:mm", "2024-03-05 00:00"),
        (D(2024, 3, 5), "[Date:] DD.MM.YYYY", "Date: 05.03.2024"),
        (D(2024, 3, 5), "Date", "5ate"),  # unbracketed letters that form tokens are replaced
        (D(2024, 3, 5), "xyz [unclosed", "xyz [unclosed"),
        (D(2024, 3, 5), "", ""),
        (D(5, 3, 5), "YYYY YY", "0005 05"),
        (utc(2024, 6, 30, 23, 30), "DD/MM/YYYY HH:mm", "01/07/2024 00:30"),
        (utc(2024, 1, 31, 9, 5), "HH:mm", "09:05"),
    ],
)
def test_format_date_tokens(value: dt.date, pattern: str, text: str) -> None:
    """format_date replaces the documented tokens (datetimes in UK time) and keeps [text]."""
    assert call("format_date", value, pattern) == text


def test_null_arguments_give_null() -> None:
    """Every date function gives null when any argument is null."""
    for name, args in [
        ("add_days", (None, 1)),
        ("add_days", (D(2024, 1, 1), None)),
        ("years_between", (None, D(2024, 1, 1))),
        ("days_between", (D(2024, 1, 1), None)),
        ("year", (None,)),
        ("date", (None,)),
        ("format_date", (D(2024, 1, 1), None)),
    ]:
        assert call(name, *args) is None, name


def test_wrong_runtime_values_give_null_not_errors() -> None:
    """An answer of the wrong runtime type (text where a date belongs) gives null, never raises."""
    assert BY_NAME["years_between"].impl("2024-01-01", D(2024, 1, 1)) is None
    assert BY_NAME["add_days"].impl(utc(2024, 1, 1), 1) is None
    assert BY_NAME["add_hours"].impl(D(2024, 1, 1), 1) is None
    assert BY_NAME["year"].impl("2024") is None
    assert BY_NAME["hour"].impl(D(2024, 1, 1)) is None
    assert BY_NAME["format_date"].impl("2024-01-01", "YYYY") is None


def test_type_rules() -> None:
    """Type rules accept the documented overloads and point at the offending argument."""
    assert BY_NAME["days_between"].check([DATE, DATE]) == NUMBER
    assert BY_NAME["days_between"].check([DATETIME, NULL]) == NUMBER
    with pytest.raises(ArgTypeError) as mixed:
        BY_NAME["days_between"].check([DATE, DATETIME])
    assert mixed.value.index == 1
    assert mixed.value.hint is not None
    assert BY_NAME["years_between"].check([DATE, DATETIME]) == NUMBER
    with pytest.raises(ArgTypeError) as text:
        BY_NAME["years_between"].check([DATE, TEXT])
    assert text.value.index == 1
    assert "a date or a datetime" in text.value.message
    assert BY_NAME["date"].check([TEXT]) == DATE
    assert BY_NAME["date"].check([DATETIME]) == DATE
    with pytest.raises(ArgTypeError) as already:
        BY_NAME["date"].check([DATE])
    assert already.value.hint == "it is already a date"
    with pytest.raises(ArgTypeError):
        BY_NAME["add_days"].check([DATETIME, NUMBER])
    with pytest.raises(ArgTypeError):
        BY_NAME["hour"].check([DATE])
    assert BY_NAME["hour"].check([TIME]) == NUMBER
    assert BY_NAME["format_date"].check([DATETIME, TEXT]) == TEXT
    assert BY_NAME["today"].check([]) == DATE


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


def test_end_to_end_age_from_a_date_field_and_today() -> None:
    """years_between(dob, today()) uses the London date: a birthday starts at London midnight."""
    fields = {"dob": DATE}
    assert evaluate("years_between(dob, today())", fields, {"dob": D(2010, 7, 1)}) == 14
    assert evaluate("years_between(dob, today())", fields, {"dob": D(2010, 7, 2)}) == 13
    assert evaluate("years_between(dob, today())", fields, {}) is None
    assert compile_expression("years_between(dob, today())", scope(fields)).uses_clock


def test_end_to_end_datetime_field_in_uk_time() -> None:
    """A datetime answer's hour, date and printed form are in UK local time."""
    fields = {"arrested_at": DATETIME}
    answers = {"arrested_at": utc(2024, 7, 1, 23, 15)}
    assert evaluate("hour(arrested_at)", fields, answers) == 0
    assert evaluate("date(arrested_at)", fields, answers) == D(2024, 7, 2)
    assert evaluate("format_date(arrested_at, 'D MMM YYYY [at] HH:mm')", fields, answers) == (
        "2 Jul 2024 at 00:15"
    )
    assert evaluate("hours_between(arrested_at, add_hours(arrested_at, 36))", fields, answers) == 36
    assert evaluate("add_days(date(arrested_at), 1) > today()", fields, answers) is True


def test_end_to_end_type_errors_point_at_the_argument() -> None:
    """Type errors name the problem and carry a hint the author can act on."""
    mixed = compile_error("days_between(@2024-01-01, @2024-01-01T10:00)")
    assert "cannot count between a date and a datetime" in str(mixed)
    assert "date(...)" in str(mixed)
    assert "already a date" in str(compile_error("date(dob)", {"dob": DATE}))
    assert "must be a datetime" in str(compile_error("add_hours(@2024-01-01, 1)"))
    assert "must be a date or a datetime" in str(compile_error("year('2024')"))
