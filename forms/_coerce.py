"""Reading answers: the text a browser sends and the JSON an API client sends, into typed values.

Every reader returns the value, or a :class:`Bad` saying what is wrong; none raises, because a
submission full of mistakes is normal and exceptions are slow. Readers come in two flavours:
``coerce`` (browser: ``"42"``, ``"1/3/2024"``, ``{"day": "1", "month": "3", "year": "2024"}``,
``"yes"``) and ``strict`` (API clients: JSON types only, in the normalised shapes the form's JSON
Schema describes). Message templates use ``{subject}`` ("Date of birth") and ``{phrase}``
("date of birth") and are filled in only when an error is shown.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


class Bad:
    """Why an answer cannot be read: an error ``code`` and a message template."""

    __slots__ = ("code", "template")

    def __init__(self, template: str, code: str = "type") -> None:
        self.code = code
        self.template = template


NOT_TEXT = Bad("{subject} must be text")
NOT_NUMBER = Bad("{subject} must be a number")
NOT_WHOLE = Bad("{subject} must be a whole number")
COMMAS = Bad("Enter {phrase} without commas, like 1500")
NUMBER_TOO_LONG = Bad("{subject} must be a number with no more than 15 digits")
REAL_DATE = Bad("{subject} must be a real date")
DATE_YEAR = Bad("{subject} must include a year with 4 numbers")
REAL_TIME = Bad("{subject} must be a real time, like 14:30")
REAL_DATETIME = Bad("{subject} must be a real date and time")
NEEDS_OFFSET = Bad("{subject} must include a time zone offset, like 2024-03-01T14:30:00+00:00")
YES_OR_NO = Bad("Select yes or no")

# The same shapes the JSON Schema uses, so the strict readers and the schema agree exactly.
LEAP = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
DATE_PART = (
    "(?!0000)(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    f"|(?:0[13578]|1[02])-31)|{LEAP}-02-29)"
)
TIME_PART = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
OFFSET_PART = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATETIME_PART = f"{DATE_PART}T{TIME_PART}(?::[0-5][0-9](?:\\.[0-9]{{1,6}})?)?{OFFSET_PART}"


def anchored(pattern: str) -> str:
    """A JSON Schema ``pattern`` matching the whole text. JSON Schema patterns are searched, not
    matched, and Python's ``$`` also matches before a final newline, so the end is pinned with a
    lookahead that both Python and JavaScript understand."""
    return f"^(?:{pattern})$(?![\\s\\S])"


DATE_RE = re.compile(anchored(DATE_PART))
# The shape alone; with date.fromisoformat (which rejects impossible dates and year 0) it accepts
# exactly what DATE_RE accepts, and is much faster than the calendar-checking pattern.
DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
TIME_RE = re.compile(anchored(TIME_PART))
DATETIME_RE = re.compile(anchored(DATETIME_PART))

_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_UK_COMMAS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_UK_DATE = re.compile(r"([0-9]{1,2})\s*[/.-]\s*([0-9]{1,2})\s*[/.-]\s*([0-9]{4})")
_TIME_TEXT = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?")
_DATETIME_TEXT = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ],
        start=1,
    )
    for name in names.split()
}
_MAX_DIGITS = 15


def read_integer(value: Any) -> Any:
    """An ``int`` from an int, an integral float, or (coerce mode) text such as ``" 42 "``."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return int(value) if math.isfinite(value) and value.is_integer() else NOT_WHOLE
    if kind is str:
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            digits = text.split(".")[0]
            return int(digits) if len(digits.lstrip("+-")) <= _MAX_DIGITS else NUMBER_TOO_LONG
        return _number_problem(text, whole=True)
    return NOT_WHOLE


def read_decimal(value: Any) -> Any:
    """An int or float from a number or (coerce mode) text such as ``"3.5"``."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else NOT_NUMBER
    if kind is str:
        text = value.strip()
        if _DECIMAL_TEXT.fullmatch(text):
            if len(text.replace(".", "").lstrip("+-")) > _MAX_DIGITS:
                return NUMBER_TOO_LONG
            return int(text) if "." not in text else float(text)
        return _number_problem(text, whole=False)
    return NOT_NUMBER


def _number_problem(text: str, *, whole: bool) -> Bad:
    if _UK_COMMAS.fullmatch(text):
        return COMMAS
    if whole and _DECIMAL_TEXT.fullmatch(text):
        return NOT_WHOLE
    return NOT_NUMBER


def strict_number(value: Any, *, whole: bool) -> Any:
    """JSON numbers only (booleans are not numbers); 3.0 counts as whole, as in JSON Schema."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and math.isfinite(value):
        if not whole:
            return value
        return int(value) if value.is_integer() else NOT_WHOLE
    return NOT_WHOLE if whole else NOT_NUMBER


def read_date(value: Any, *, strict: bool) -> Any:
    """A ``date`` from ``YYYY-MM-DD``; in coerce mode also ``D/M/YYYY``, a ``date`` and the
    day/month/year mapping of a GOV.UK date input. Empty parts all round mean no answer (None)."""
    if type(value) is str:
        if DATE_SHAPE(value) is not None:
            return _iso_date(value)
        if strict:
            return REAL_DATE
        text = value.strip()
        if DATE_SHAPE(text) is not None:
            return _iso_date(text)
        found = _UK_DATE.fullmatch(text)
        if found:
            return _make_date(found[3], found[2], found[1])
        return REAL_DATE
    if strict:
        return REAL_DATE
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dict):
        return _date_parts(value)
    return REAL_DATE


def _iso_date(text: str) -> Any:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return REAL_DATE


def _date_parts(parts: dict[Any, Any]) -> Any:
    got = {k: str(parts.get(k) if parts.get(k) is not None else "").strip() for k in ("day", "month", "year")}
    missing = [k for k in ("day", "month", "year") if not got[k]]
    if len(missing) == 3:
        return None
    if missing:
        words = " and ".join(missing)
        return Bad(f"{{subject}} must include a {words}")
    if not got["year"].isdigit() or len(got["year"]) != 4:
        return DATE_YEAR
    month = _MONTHS.get(got["month"].lower(), got["month"])
    return _make_date(got["year"], str(month), got["day"])


def _make_date(year: str, month: str, day: str) -> Any:
    if not (year.isdigit() and month.isdigit() and day.isdigit()) or len(month) > 2 or len(day) > 2:
        return REAL_DATE
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return REAL_DATE


# Every valid "HH:MM", ready made: exactly what TIME_RE accepts, and a dictionary lookup.
TIMES = {f"{h:02d}:{m:02d}": dt.time(h, m) for h in range(24) for m in range(60)}


def read_time(value: Any, *, strict: bool) -> Any:
    """A ``time`` (hours and minutes) from ``HH:MM``; in coerce mode also ``9:30``,
    ``09:30:00``, a ``time`` and ``{"hour": .., "minute": ..}``."""
    if type(value) is str:
        ready = TIMES.get(value)
        if ready is not None:
            return ready
        if strict:
            return REAL_TIME
        found = _TIME_TEXT.fullmatch(value.strip())
        if found and int(found[1]) < 24 and int(found[2]) < 60 and int(found[3] or 0) < 60:
            return dt.time(int(found[1]), int(found[2]))
        return REAL_TIME
    if strict:
        return REAL_TIME
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, dict):
        hour, minute = (
            str(value.get(k) if value.get(k) is not None else "").strip() for k in ("hour", "minute")
        )
        if not hour and not minute:
            return None
        return read_time(f"{hour}:{minute.zfill(2)}", strict=False)
    return REAL_TIME


def read_datetime(value: Any, *, strict: bool) -> Any:
    """An aware ``datetime``. Strict: ISO 8601 with an offset. Coerce: also without an offset
    (UK local time), with a space for the ``T``, or an aware ``datetime``."""
    if type(value) is str:
        if strict:
            if not DATETIME_RE.search(value):
                return NEEDS_OFFSET if DATETIME_RE.search(value + "Z") else REAL_DATETIME
            return _iso_datetime(value)
        found = _DATETIME_TEXT.fullmatch(value.strip())
        if found is None:
            return REAL_DATETIME
        date_text, hour, minute, second, fraction, offset = found.groups()
        if not DATE_RE.search(date_text) or int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
            return REAL_DATETIME
        if offset is None:
            micro = int((fraction or "0").ljust(6, "0"))
            day = dt.date.fromisoformat(date_text)
            return dt.datetime(
                day.year, day.month, day.day, int(hour), int(minute), int(second or 0), micro, tzinfo=UK
            )
        if len(offset) == 5:
            offset = offset[:3] + ":" + offset[3:]
        text = f"{date_text}T{hour}:{minute}" + (f":{second}" if second else "")
        text += f".{fraction}" if fraction else ""
        return _iso_datetime(text + offset) if DATETIME_RE.search(text + offset) else REAL_DATETIME
    if strict:
        return REAL_DATETIME
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UK)
    return REAL_DATETIME


def _iso_datetime(text: str) -> Any:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:  # pragma: no cover - the pattern admits only what fromisoformat reads
        return REAL_DATETIME


_YES = {"yes": True, "true": True, "no": False, "false": False}


def read_yesno(value: Any, *, strict: bool) -> Any:
    """A boolean; in coerce mode also ``"yes"``/``"no"``/``"true"``/``"false"`` in any case."""
    if value is True or value is False:
        return value
    if not strict and type(value) is str:
        found = _YES.get(value.strip().lower())
        if found is not None:
            return found
    return YES_OR_NO


def parse_time_literal(text: str) -> dt.time | None:
    """A definition's literal time (``min: "08:00"``), or None."""
    found = read_time(text, strict=False)
    return found if isinstance(found, dt.time) else None


def parse_date_literal(text: str) -> dt.date | None:
    """A definition's literal date (``YYYY-MM-DD``), or None."""
    return dt.date.fromisoformat(text) if DATE_RE.search(text) else None


def parse_datetime_literal(text: str) -> dt.datetime | None:
    """A definition's literal date and time; UK local time when it has no offset."""
    found = read_datetime(text, strict=False)
    return found if isinstance(found, dt.datetime) else None


# Shapes of normalised text answers (the same patterns the JSON Schema publishes).
# Royal Mail's outward-code shapes, the same as dsl._lib_formats (which normalises browser text).
_OUTWARD = "[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRV-Y])"
POSTCODE = anchored(f"{_OUTWARD} [0-9][ABD-HJLNP-UW-Z]{{2}}|GIR 0AA")
# 01 and 08 numbers have 10 or 11 digits; 02, 03 and 07 have 11 (with the leading 0).
_NATIONAL = "(?:[18][0-9]{8,9}|[237][0-9]{9})"
PHONE = anchored(f"0{_NATIONAL}|\\+44{_NATIONAL}")
# local@domain.tld as dsl._lib_formats.is_valid_email reads it.
_LOCAL_CHAR = '[^\\s\\x00-\\x1f\\x7f@<>()\\[\\]\\\\,;:".]'
# The domain has no '_' and no label ending in '-' (the first lookahead), labels of letters,
# digits and inner hyphens, and a last label of 2+ characters that is not all digits. Written
# so the regular expression engine never backtracks far.
_DOMAIN = "(?![^@]*(?:_|-\\.))(?:\\w[\\w-]{0,62}\\.)+(?![0-9]+$(?![\\s\\S]))\\w[\\w-]{0,61}\\w"
EMAIL = anchored(f"(?=[^@]{{1,64}}@){_LOCAL_CHAR}+(?:\\.{_LOCAL_CHAR}+)*@{_DOMAIN}")
SHA256 = anchored("[0-9a-f]{64}")
MIME = "[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*"

POSTCODE_RE = re.compile(POSTCODE)
PHONE_RE = re.compile(PHONE)
EMAIL_RE = re.compile(EMAIL)
SHA256_RE = re.compile(SHA256)


def content_type_pattern(accept: tuple[str, ...], *, images: bool) -> str:
    """The pattern a file's content type must match: any MIME type, images only, or the types
    in ``accept`` (``image/*`` allows every image type)."""
    if images:
        return anchored("image/[a-z0-9][a-z0-9.+-]*")
    if not accept:
        return anchored(MIME)
    options = [
        _escape(item[:-1]) + "[a-z0-9][a-z0-9.+-]*" if item.endswith("/*") else _escape(item)
        for item in accept
    ]
    return anchored("|".join(options))


def _escape(mime: str) -> str:
    # Only '.' and '+' need escaping in a MIME type; re.escape would also escape '-', which a
    # JavaScript RegExp in unicode mode rejects outside a class.
    return mime.replace(".", "\\.").replace("+", "\\+")


def user_pattern(pattern: str) -> str:
    """An author's ``pattern`` as a whole-answer pattern."""
    return anchored(pattern)
