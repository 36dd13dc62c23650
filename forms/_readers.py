"""One reader per field, compiled when the form loads: raw answer in, typed value out.

A reader returns the normalised value, ``None`` for no answer, or a :class:`~forms._coerce.Bad`
(an error code and message). It checks everything that depends on the answer alone: type,
format, bounds, length, pattern and choice membership. Bounds messages are worked out once,
here, so reading a valid answer allocates nothing but the value itself.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dsl._lib_formats import is_valid_email, normalise_postcode, normalise_uk_phone
from dsl._types import Kind, Type
from forms._coerce import (
    DATE_RE,
    DATE_SHAPE,
    DATETIME_RE,
    EMAIL_RE,
    NOT_TEXT,
    PHONE_RE,
    POSTCODE_RE,
    TIME_RE,
    Bad,
    read_date,
    read_datetime,
    read_decimal,
    read_integer,
    read_time,
    read_yesno,
    strict_number,
    user_pattern,
)
from forms._fields import FieldType
from forms._messages import (
    EMAIL_FORMAT,
    PHONE_FORMAT,
    POSTCODE_FORMAT,
    Wording,
    length_messages,
    not_listed_message,
    range_messages,
    selected_messages,
)
from forms._readers_media import attachment_list_reader, attachment_reader, geopoint_reader

if TYPE_CHECKING:
    from forms._model import Field

Reader = Callable[[Any], Any]
FT = FieldType


def _blank(value: Any) -> bool:
    """Coerce mode: an empty or all-space text is no answer."""
    return type(value) is str and not value.strip()


def text_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """text and textarea: length bounds and the author's pattern."""
    low = f.min_length or 0
    high = f.max_length if f.max_length is not None else 1 << 62
    short, long_ = (
        Bad(m, c)
        for m, c in zip(length_messages(words, low, high), ("min_length", "max_length"), strict=True)
    )
    pattern = re.compile(user_pattern(f.pattern)).search if f.pattern else None
    bad_pattern = Bad(
        f.pattern_message.en if f.pattern_message else "Enter {phrase} in the correct format", "pattern"
    )
    crlf = f.type is FT.TEXTAREA and not strict

    def read(value: Any) -> Any:
        if type(value) is not str:
            return None if value is None else NOT_TEXT
        if not strict:
            value = value.strip()
            if crlf and "\r" in value:
                value = value.replace("\r\n", "\n")
        if not value:
            return None
        size = len(value)
        if size > high:
            return long_
        if size < low:
            return short
        if pattern is not None and pattern(value) is None:
            return bad_pattern
        return value

    return read


def formatted_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """email, uk_phone and uk_postcode: strict mode takes only the normalised shape; coerce
    mode normalises what an officer typed (``sw1a1aa`` becomes ``SW1A 1AA``)."""
    high = f.max_length if f.max_length is not None else 1 << 62
    too_long = Bad(length_messages(words, None, high)[1], "max_length")
    if f.type is FT.EMAIL:
        bad, check = Bad(EMAIL_FORMAT, "format"), EMAIL_RE.search
        normalise: Callable[[str], str | None] = lambda t: t if is_valid_email(t) else None  # noqa: E731
    elif f.type is FT.UK_PHONE:
        bad, check, normalise = Bad(PHONE_FORMAT, "format"), PHONE_RE.search, normalise_uk_phone
    else:
        bad, check, normalise = Bad(POSTCODE_FORMAT, "format"), POSTCODE_RE.search, normalise_postcode

    def read(value: Any) -> Any:
        if type(value) is not str:
            return None if value is None else NOT_TEXT
        if strict:
            if not value:
                return None
            if len(value) > high:
                return too_long
            return value if check(value) is not None else bad
        if check(value) is not None and len(value) <= high:
            return value  # already in the normalised shape strict mode accepts
        text = value.strip()
        if not text:
            return None
        if len(text) > high:
            return too_long
        normal = normalise(text)
        return bad if normal is None else normal

    return read


def ranged_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """integer, decimal, date, time and datetime, with their min and max.

    The common case (a JSON number for a number field, ``YYYY-MM-DD`` for a date) is read
    inline; anything else goes through the general readers of ``_coerce``.
    """
    ftype = f.type
    base: Reader
    if ftype is FT.INTEGER:
        base = (lambda v: strict_number(v, whole=True)) if strict else read_integer
    elif ftype is FT.DECIMAL:
        base = (lambda v: strict_number(v, whole=False)) if strict else read_decimal
    elif ftype is FT.DATE:
        base = lambda v: read_date(v, strict=strict)  # noqa: E731
    elif ftype is FT.TIME:
        base = lambda v: read_time(v, strict=strict)  # noqa: E731
    else:
        base = lambda v: read_datetime(v, strict=strict)  # noqa: E731
    low, high = f.min, f.max
    below, above = (
        Bad(m, c) for m, c in zip(range_messages(ftype, words, low, high), ("min", "max"), strict=True)
    )
    places = f.places if ftype is FT.DECIMAL else None
    too_precise = Bad(f"{{subject}} must have no more than {places} decimal places", "places")
    fast_int = ftype in (FT.INTEGER, FT.DECIMAL)
    fast_float = ftype is FT.DECIMAL
    fast_date = ftype is FT.DATE
    date_shape, iso_date, kind, bad = DATE_SHAPE, dt.date.fromisoformat, type, Bad

    def read(value: Any) -> Any:
        vtype = kind(value)
        if (fast_int and vtype is int) or (fast_float and vtype is float and value - value == 0):
            found = value
        elif fast_date and vtype is str and date_shape(value) is not None:
            try:
                found = iso_date(value)
            except ValueError:
                return base(value)
        elif value is None or (not strict and vtype is str and not value.strip()):
            return None
        else:
            found = base(value)
            if found is None or kind(found) is bad:
                return found
        if low is not None and found < low:
            return below
        if high is not None and found > high:
            return above
        if places is not None and kind(found) is float and round(found, places) != found:
            return too_precise
        return found

    return read


def yesno_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """yesno: true or false (and, from a browser, yes/no)."""

    def read(value: Any) -> Any:
        if value is True or value is False:
            return value
        if value is None or (not strict and _blank(value)):
            return None
        return read_yesno(value, strict=strict)

    return read


def choice_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """select_one and select_many: values must be in the field's list (the choice_filter, which
    depends on other answers, is checked later)."""
    index = f.choices._index if f.choices is not None else {}
    not_listed = Bad(not_listed_message(words), "choice")
    if f.type is FT.SELECT_ONE:

        def read_one(value: Any) -> Any:
            if type(value) is not str:
                if value is None:
                    return None
                if strict or type(value) is not int:
                    return not_listed
                value = str(value)
            if not strict:
                value = value.strip()
            if not value:
                return None
            return value if value in index else not_listed

        return read_one
    few, many = (
        Bad(m, c)
        for m, c in zip(selected_messages(words, f.min_selected, f.max_selected), ("min", "max"), strict=True)
    )
    low, high = f.min_selected or 0, f.max_selected
    repeated = Bad("Select each option only once", "duplicate")

    def read_many(value: Any) -> Any:
        if value is None:
            return None
        if not strict and type(value) is str:
            value = [value]
        if type(value) is not list:
            return not_listed
        if not strict:
            value = list(dict.fromkeys(v.strip() for v in value if type(v) is str and v.strip()))
        if not value:
            return None
        for item in value:
            if type(item) is not str or item not in index:
                return not_listed
        if strict and len(set(value)) != len(value):
            return repeated
        if len(value) < low:
            return few
        if high is not None and len(value) > high:
            return many
        return value

    return read_many


def _is_number(value: Any) -> bool:
    return (type(value) is int) or (type(value) is float and math.isfinite(value))


def calc_check(t: Type) -> Callable[[Any], bool] | None:
    """How strict mode checks a submitted value of a calculation of type ``t`` (None: any
    value); mirrors :func:`forms._schema.calc_schema`."""
    kind = t.kind
    if kind is Kind.TEXT:
        return lambda v: type(v) is str
    if kind is Kind.NUMBER:
        return _is_number
    if kind is Kind.BOOLEAN:
        return lambda v: type(v) is bool
    if kind in (Kind.DATE, Kind.TIME, Kind.DATETIME):
        pattern = {Kind.DATE: DATE_RE, Kind.TIME: TIME_RE, Kind.DATETIME: DATETIME_RE}[kind].search
        return lambda v: type(v) is str and pattern(v) is not None
    if kind is Kind.LIST:
        item = calc_check(t.item) if t.item is not None else None
        if item is None:
            return lambda v: type(v) is list
        return lambda v: type(v) is list and all(item(x) for x in v)
    if kind is Kind.RECORD:
        return lambda v: type(v) is dict
    return None


def calculated_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """A submitted value for a calculation is always replaced by the form's own result; in
    strict mode it must still have the calculation's type, as the JSON Schema says."""
    check = calc_check(f.expr_type) if strict else None
    wrong = Bad(f"‘{f.id}’ is calculated by the form: leave it out or send {f.expr_type}", "type")

    def read(value: Any) -> Any:
        if check is not None and value is not None and not check(value):
            return wrong
        return None

    return read


def reader_for(f: Field, strict: bool, words: Wording) -> Reader:
    """The reader for field ``f``."""
    ftype = f.type
    if ftype in (FT.TEXT, FT.TEXTAREA):
        return text_reader(f, strict, words)
    if ftype in (FT.EMAIL, FT.UK_PHONE, FT.UK_POSTCODE):
        return formatted_reader(f, strict, words)
    if ftype in (FT.INTEGER, FT.DECIMAL, FT.DATE, FT.TIME, FT.DATETIME):
        return ranged_reader(f, strict, words)
    if ftype is FT.YESNO:
        return yesno_reader(f, strict, words)
    if ftype in (FT.SELECT_ONE, FT.SELECT_MANY):
        return choice_reader(f, strict, words)
    if ftype in (FT.PHOTO, FT.FILE):
        return attachment_list_reader(f, strict, words)
    if ftype is FT.SIGNATURE:
        return attachment_reader(f, strict, words)
    if ftype is FT.GEOPOINT:
        return geopoint_reader(f, strict, words)
    return calculated_reader(f, strict, words)
