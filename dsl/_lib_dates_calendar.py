"""Calendar arithmetic and date printing behind the date functions (``dsl._lib_dates``).

Plain Python over ``datetime`` values, with no knowledge of types or nulls. Every helper is
total: a result off the calendar (before year 1, after year 9999) is None, never an exception.
A datetime's calendar fields are read in UK local time (Europe/London), as templates print them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
MICROS_PER_DAY = 86_400_000_000
MICROS_PER_HOUR = 3_600_000_000
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# Bracketed text first, then each token longest first, so "MMMM" is not read as "MM" twice.
_PATTERN_TOKEN = re.compile(r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|mm")
# Fixed English names: calendar.month_name follows the process locale, which output must not.
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local(value: dt.datetime) -> dt.datetime | None:
    """``value`` in UK local time (a naive value is taken as local already); None if off the calendar."""
    if value.tzinfo is None:
        return value.replace(tzinfo=LONDON)
    try:
        return value.astimezone(LONDON)
    except (OverflowError, ValueError):
        return None


def instant(value: dt.datetime) -> dt.datetime | None:
    """``value`` in UTC (a naive value is taken as UK local time); None if off the calendar.

    Elapsed time must be computed in UTC: Python subtracts two datetimes that share a zone by
    their wall clocks, which is an hour out across a clock change.
    """
    try:
        return (value.replace(tzinfo=LONDON) if value.tzinfo is None else value).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def calendar_date(value: dt.date) -> dt.date | None:
    """A date itself, or the UK local date of a datetime."""
    if isinstance(value, dt.datetime):
        moment = local(value)
        return None if moment is None else moment.date()
    return value


def shift_months(day: dt.date, months: int) -> dt.date | None:
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last_day))


def _birthday(born: dt.date, year: int) -> tuple[int, int]:
    """(month, day) of the birthday in ``year``: 29 February falls on 1 March in a common year."""
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return (3, 1)
    return (born.month, born.day)


def _count_years(first: dt.date, last: dt.date) -> int:
    years = last.year - first.year
    if (last.month, last.day) < _birthday(first, last.year):
        years -= 1
    return years


def _count_months(first: dt.date, last: dt.date) -> int:
    # The most months shift_months can add without passing ``last``; one fewer than the
    # calendar difference at most, since shifting by one month less lands in an earlier month.
    months = (last.year - first.year) * 12 + last.month - first.month
    landed = shift_months(first, months)
    if landed is None or landed > last:
        months -= 1
    return months


def _completed(start: dt.date, end: dt.date, count: Callable[[dt.date, dt.date], int]) -> int | None:
    first, last = calendar_date(start), calendar_date(end)
    if first is None or last is None:
        return None
    # Counting backwards mirrors counting forwards, so swapping the arguments only flips the sign.
    return -count(last, first) if last < first else count(first, last)


def completed_years(start: dt.date, end: dt.date) -> int | None:
    """Birthdays of ``start`` passed by ``end`` (an age); negative when ``end`` is earlier."""
    return _completed(start, end, _count_years)


def completed_months(start: dt.date, end: dt.date) -> int | None:
    """Whole months from ``start`` to ``end``, consistent with :func:`shift_months`."""
    return _completed(start, end, _count_months)


def elapsed(start: dt.date, end: dt.date, unit: int) -> int | None:
    """Whole ``unit``s (in microseconds) from ``start`` to ``end``, truncated toward zero.

    Two dates count calendar days; two datetimes count elapsed time; a mix is None.
    """
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        first, last = instant(start), instant(end)
        if first is None or last is None:
            return None
        delta = last - first
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        whole = abs(micros) // unit  # toward zero: -1.5 days is -1, not -2
        return whole if micros >= 0 else -whole
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        return None
    return (end - start).days * (MICROS_PER_DAY // unit)


def parse_iso_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` (surrounding spaces allowed) as a date; anything else is None.

    Deliberately narrower than ``date.fromisoformat``, which also takes ``20240131`` and week
    dates, so the browser runtime can match it exactly.
    """
    found = _ISO_DATE.fullmatch(text.strip())
    if found is None:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def format_pattern(value: dt.date, pattern: str) -> str | None:
    """Print ``value`` with a pattern of tokens; see ``format_date`` in the function library.

    ``YYYY YY MMMM MMM MM M DD D dddd ddd HH mm`` are replaced (a date's time is 00:00), text in
    ``[brackets]`` is copied without the brackets, and every other character is copied as is.
    """
    if isinstance(value, dt.datetime):
        moment = local(value)
        if moment is None:
            return None
        day, hour, minute = moment.date(), moment.hour, moment.minute
    else:
        day, hour, minute = value, 0, 0
    fields = {
        "YYYY": f"{day.year:04d}",
        "YY": f"{day.year % 100:02d}",
        "MMMM": _MONTH_NAMES[day.month - 1],
        "MMM": _MONTH_NAMES[day.month - 1][:3],
        "MM": f"{day.month:02d}",
        "M": str(day.month),
        "DD": f"{day.day:02d}",
        "D": str(day.day),
        "dddd": _DAY_NAMES[day.weekday()],
        "ddd": _DAY_NAMES[day.weekday()][:3],
        "HH": f"{hour:02d}",
        "mm": f"{minute:02d}",
    }

    def replace(found: re.Match[str]) -> str:
        token = found[0]
        return token[1:-1] if token.startswith("[") else fields[token]

    return _PATTERN_TOKEN.sub(replace, pattern)
