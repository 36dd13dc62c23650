"""Date and time functions of the expression language.

Calendar questions about a datetime (its year, its date, its hour, how to print it) are answered
in UK local time (Europe/London), the same rule templates use; arithmetic on datetimes
(``add_hours``, ``hours_between``) is on elapsed time, so a clock change does not skew it.
Counts given as numbers are truncated toward zero (``add_days(d, 1.9)`` adds one day), and a
result outside the calendar (beyond year 9999) or a NaN count gives null: no function raises.

Ages follow the usual rule: ``years_between`` counts birthdays passed, and someone born on
29 February has their birthday on 1 March in a year without one. ``add_months`` and
``add_years`` clamp to the end of a short month (31 January plus one month is 29 February 2024),
and ``months_between`` counts the months ``add_months`` can add without passing ``to``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeGuard

from dsl._functions import ArgTypeError, Function, TypeRule, describe, fixed
from dsl._lib_dates_calendar import (
    MICROS_PER_DAY,
    MICROS_PER_HOUR,
    calendar_date,
    completed_months,
    completed_years,
    elapsed,
    format_pattern,
    instant,
    local,
    parse_iso_date,
    shift_months,
)
from dsl._lib_numbers import finite, whole_number
from dsl._types import DATE, DATETIME, NUMBER, TEXT, TIME, Kind, Type


def _one_of(params: Sequence[tuple[Type, ...]], returns: Type) -> TypeRule:
    """A type rule where each argument may have one of several types (null is always accepted)."""

    def rule(args: Sequence[Type]) -> Type:
        for index, (allowed, got) in enumerate(zip(params, args, strict=False)):
            if not any(want.accepts(got) for want in allowed):
                wanted = " or ".join(describe(want) for want in allowed)
                raise ArgTypeError(f"argument {index + 1} must be {wanted}, not {got}", index)
        return returns

    return rule


def _same_kind_rule(allowed: tuple[Type, ...], returns: Type) -> TypeRule:
    """Two arguments of one of ``allowed`` types, both the same (``days_between``)."""
    base = _one_of([allowed, allowed], returns)

    def rule(args: Sequence[Type]) -> Type:
        base(args)
        kinds = [a.kind for a in args if a.kind not in (Kind.NULL, Kind.ANY)]
        if len(kinds) == 2 and kinds[0] is not kinds[1]:
            raise ArgTypeError(
                f"cannot count between {describe(args[0])} and {describe(args[1])}",
                1,
                hint="turn the datetime into a date with date(...) so both are dates",
            )
        return returns

    return rule


def _date_rule(args: Sequence[Type]) -> Type:
    if args and args[0].kind is Kind.DATE:
        raise ArgTypeError("date() takes a datetime or text, not a date", 0, hint="it is already a date")
    return _one_of([(DATETIME, TEXT)], DATE)(args)


def _today(env: Any) -> dt.date:
    now: dt.datetime = env.now
    return now.astimezone(env.tz).date()


def _now(env: Any) -> dt.datetime:
    now: dt.datetime = env.now
    return now


def _years_between(start: Any, end: Any) -> int | None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        return None
    return completed_years(start, end)


def _months_between(start: Any, end: Any) -> int | None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        return None
    return completed_months(start, end)


def _days_between(start: Any, end: Any) -> int | None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        return None
    return elapsed(start, end, MICROS_PER_DAY)


def _hours_between(start: Any, end: Any) -> int | None:
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return None
    return elapsed(start, end, MICROS_PER_HOUR)


def _is_date(value: Any) -> TypeGuard[dt.date]:
    """A date and not a datetime (which is a subclass of date in Python)."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _add_days(day: Any, count: Any) -> dt.date | None:
    days = whole_number(count)
    if days is None or not _is_date(day):
        return None
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def _add_months(day: Any, count: Any) -> dt.date | None:
    months = whole_number(count)
    if months is None or not _is_date(day) or abs(months) > 12 * dt.MAXYEAR:
        return None
    return shift_months(day, months)


def _add_years(day: Any, count: Any) -> dt.date | None:
    years = whole_number(count)
    if years is None or abs(years) > dt.MAXYEAR:
        return None
    return _add_months(day, years * 12)


def _add_elapsed(moment: Any, count: Any, unit: str) -> dt.datetime | None:
    if not finite(count) or not isinstance(moment, dt.datetime):
        return None
    start = instant(moment)
    if start is None:
        return None
    try:
        # In UTC: Python adds to an aware datetime's wall clock, which is not elapsed time.
        return start + dt.timedelta(**{unit: count})
    except (OverflowError, ValueError):
        return None


def _add_hours(moment: Any, count: Any) -> dt.datetime | None:
    return _add_elapsed(moment, count, "hours")


def _add_minutes(moment: Any, count: Any) -> dt.datetime | None:
    return _add_elapsed(moment, count, "minutes")


def _part(name: str) -> Any:
    """An impl reading one calendar field from a date/datetime (or clock field from a time)."""

    def impl(value: Any) -> int | None:
        if isinstance(value, dt.datetime):
            moment = local(value)
            return None if moment is None else int(getattr(moment, name))
        if name in ("hour", "minute"):
            return int(getattr(value, name)) if isinstance(value, dt.time) else None
        return int(getattr(value, name)) if isinstance(value, dt.date) else None

    return impl


def _weekday(value: Any) -> int | None:
    day = calendar_date(value) if isinstance(value, dt.date) else None
    return None if day is None else day.isoweekday()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return calendar_date(value)
    return parse_iso_date(value) if isinstance(value, str) else None


def _format_date(value: Any, pattern: Any) -> str | None:
    if not isinstance(value, dt.date) or not isinstance(pattern, str):
        return None
    return format_pattern(value, pattern)


_DAY = (DATE, DATETIME)
_CLOCK = (DATETIME, TIME)


def _fn(
    name: str, arity: int, signature: str, summary: str, example: str, check: TypeRule, impl: Any
) -> Function:
    return Function(name, signature, summary, example, arity, arity, check, impl, category="dates")


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="today",
        category="dates",
        signature="today() -> date",
        summary="Today's date in UK time (at 23:30 UTC in summer it is already the next day).",
        example="today() → @2024-07-01 (on 30 June 2024 at 23:30 UTC)",
        min_args=0,
        max_args=0,
        check=fixed([], DATE),
        impl=_today,
        uses_clock=True,
    ),
    Function(
        name="now",
        category="dates",
        signature="now() -> datetime",
        summary="The current date and time.",
        example="now() → @2024-06-30T23:30:00Z (at that moment)",
        min_args=0,
        max_args=0,
        check=fixed([], DATETIME),
        impl=_now,
        uses_clock=True,
    ),
    _fn(
        "years_between",
        2,
        "years_between(from: date|datetime, to: date|datetime) -> number",
        "Whole years from `from` to `to`, like an age; a 29 February birthday is 1 March in other years.",
        "years_between(@2010-05-01, @2024-04-30) → 13",
        _one_of([_DAY, _DAY], NUMBER),
        _years_between,
    ),
    _fn(
        "months_between",
        2,
        "months_between(from: date|datetime, to: date|datetime) -> number",
        "Whole calendar months from `from` to `to` (31 January to 29 February 2024 is one month).",
        "months_between(@2024-01-15, @2024-03-14) → 1",
        _one_of([_DAY, _DAY], NUMBER),
        _months_between,
    ),
    _fn(
        "days_between",
        2,
        "days_between(from: date|datetime, to: date|datetime) -> number",
        "Days from `from` to `to` (negative if `to` is earlier); for datetimes, whole days elapsed.",
        "days_between(@2024-01-30, @2024-03-01) → 31",
        _same_kind_rule(_DAY, NUMBER),
        _days_between,
    ),
    _fn(
        "hours_between",
        2,
        "hours_between(from: datetime, to: datetime) -> number",
        "Whole hours elapsed from `from` to `to`, truncated toward zero.",
        "hours_between(@2024-03-31T00:30, @2024-03-31T03:30) → 2",
        fixed([DATETIME, DATETIME], NUMBER),
        _hours_between,
    ),
    _fn(
        "add_days",
        2,
        "add_days(date: date, days: number) -> date",
        "The date `days` days later (earlier if negative).",
        "add_days(@2024-01-30, 3) → @2024-02-02",
        fixed([DATE, NUMBER], DATE),
        _add_days,
    ),
    _fn(
        "add_months",
        2,
        "add_months(date: date, months: number) -> date",
        "The same day `months` months later, moved back to the month's last day if it is shorter.",
        "add_months(@2024-01-31, 1) → @2024-02-29",
        fixed([DATE, NUMBER], DATE),
        _add_months,
    ),
    _fn(
        "add_years",
        2,
        "add_years(date: date, years: number) -> date",
        "The same day `years` years later; 29 February becomes 28 February in a common year.",
        "add_years(@2024-02-29, 1) → @2025-02-28",
        fixed([DATE, NUMBER], DATE),
        _add_years,
    ),
    _fn(
        "add_hours",
        2,
        "add_hours(datetime: datetime, hours: number) -> datetime",
        "The moment `hours` hours of elapsed time later (fractions allowed).",
        "add_hours(@2024-01-31T22:00Z, 3) → @2024-02-01T01:00Z",
        fixed([DATETIME, NUMBER], DATETIME),
        _add_hours,
    ),
    _fn(
        "add_minutes",
        2,
        "add_minutes(datetime: datetime, minutes: number) -> datetime",
        "The moment `minutes` minutes of elapsed time later (fractions allowed).",
        "add_minutes(@2024-01-31T10:30Z, 45) → @2024-01-31T11:15Z",
        fixed([DATETIME, NUMBER], DATETIME),
        _add_minutes,
    ),
    _fn(
        "year",
        1,
        "year(date: date|datetime) -> number",
        "The year of a date (of a datetime, in UK time).",
        "year(@2024-01-31) → 2024",
        _one_of([_DAY], NUMBER),
        _part("year"),
    ),
    _fn(
        "month",
        1,
        "month(date: date|datetime) -> number",
        "The month of a date, 1 (January) to 12 (of a datetime, in UK time).",
        "month(@2024-01-31) → 1",
        _one_of([_DAY], NUMBER),
        _part("month"),
    ),
    _fn(
        "day",
        1,
        "day(date: date|datetime) -> number",
        "The day of the month, 1 to 31 (of a datetime, in UK time).",
        "day(@2024-01-31) → 31",
        _one_of([_DAY], NUMBER),
        _part("day"),
    ),
    _fn(
        "weekday",
        1,
        "weekday(date: date|datetime) -> number",
        "The day of the week, 1 (Monday) to 7 (Sunday) (of a datetime, in UK time).",
        "weekday(@2024-01-31) → 3",
        _one_of([_DAY], NUMBER),
        _weekday,
    ),
    _fn(
        "hour",
        1,
        "hour(value: datetime|time) -> number",
        "The hour, 0 to 23 (of a datetime, in UK time).",
        "hour(@2024-07-01T09:15Z) → 10",
        _one_of([_CLOCK], NUMBER),
        _part("hour"),
    ),
    _fn(
        "minute",
        1,
        "minute(value: datetime|time) -> number",
        "The minute, 0 to 59 (of a datetime, in UK time).",
        "minute(@10:45) → 45",
        _one_of([_CLOCK], NUMBER),
        _part("minute"),
    ),
    _fn(
        "date",
        1,
        "date(value: datetime|text) -> date",
        "The UK date of a datetime, or a 'YYYY-MM-DD' text as a date (other text gives null).",
        "date('2024-01-31') → @2024-01-31",
        _date_rule,
        _date,
    ),
    _fn(
        "format_date",
        2,
        "format_date(value: date|datetime, pattern: text) -> text",
        "Print a date: YYYY YY MMMM MMM MM M DD D dddd ddd HH mm are replaced, [text] is kept as is.",
        "format_date(@2024-01-31, 'ddd D MMMM YYYY') → 'Wed 31 January 2024'",
        _one_of([_DAY, (TEXT,)], TEXT),
        _format_date,
    ),
)

__all__ = ["FUNCTIONS"]
