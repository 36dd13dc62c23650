"""The field types of a form and the keys each one accepts.

This table is the single source for three things that must agree: the definition-format JSON
Schema (``forms/schemas/form.schema.json``), the loader's "unknown key" hints, and the type that
expressions see for each field.
"""

from __future__ import annotations

import enum
import re

from dsl._types import ATTACHMENT, BOOLEAN, DATE, DATETIME, GEOPOINT, NUMBER, TEXT, TIME, Type, list_of


class FieldType(enum.Enum):
    """Every ``type:`` a form item may have."""

    TEXT = "text"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    YESNO = "yesno"
    SELECT_ONE = "select_one"
    SELECT_MANY = "select_many"
    EMAIL = "email"
    UK_PHONE = "uk_phone"
    UK_POSTCODE = "uk_postcode"
    PHOTO = "photo"
    FILE = "file"
    SIGNATURE = "signature"
    GEOPOINT = "geopoint"
    NOTE = "note"
    CALCULATE = "calculate"
    GROUP = "group"
    REPEAT = "repeat"


FT = FieldType
TYPE_NAMES: tuple[str, ...] = tuple(t.value for t in FieldType)

#: The words of the expression language that cannot be ids.
RESERVED_WORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
ID_PATTERN = "^[a-z][a-z0-9_]*$"
LIST_NAME_PATTERN = "^[a-z0-9][a-z0-9_-]*$"
ID_RE = re.compile(r"[a-z][a-z0-9_]*")

_BASE = ("id", "type", "label", "hint", "relevant")
_ANSWER = ("required", "required_message", "constraint", "message", "warning", "read_only")
_DEFAULT = ("default", "default_expr")
_VALUE = _ANSWER + _DEFAULT

#: Keys accepted by each type, beyond ``id``, ``type``, ``label``, ``hint`` and ``relevant``.
TYPE_KEYS: dict[FieldType, tuple[str, ...]] = {
    FT.TEXT: (*_VALUE, "min_length", "max_length", "pattern", "pattern_message"),
    FT.TEXTAREA: (*_VALUE, "min_length", "max_length", "rows"),
    FT.INTEGER: (*_VALUE, "min", "max"),
    FT.DECIMAL: (*_VALUE, "min", "max", "places"),
    FT.DATE: (*_VALUE, "min", "max"),
    FT.TIME: (*_VALUE, "min", "max"),
    FT.DATETIME: (*_VALUE, "min", "max"),
    FT.YESNO: (*_VALUE, "yes_label", "no_label"),
    FT.SELECT_ONE: (*_VALUE, "choices", "choice_filter", "appearance"),
    FT.SELECT_MANY: (*_VALUE, "choices", "choice_filter", "min_selected", "max_selected"),
    FT.EMAIL: (*_VALUE, "max_length"),
    FT.UK_PHONE: _VALUE,
    FT.UK_POSTCODE: _VALUE,
    FT.PHOTO: (*_ANSWER, "max", "max_size"),
    FT.FILE: (*_ANSWER, "max", "max_size", "accept"),
    FT.SIGNATURE: _ANSWER,
    FT.GEOPOINT: (*_ANSWER, "max_accuracy"),
    FT.NOTE: (),
    FT.CALCULATE: ("value",),
    FT.GROUP: ("fields",),
    FT.REPEAT: ("fields", "min", "max", "item_label"),
}

#: Types whose ``label`` may be left out.
LABEL_OPTIONAL = frozenset({FT.CALCULATE, FT.GROUP, FT.REPEAT})
#: Keys a type must have, beyond ``id`` and ``type`` (and ``label`` unless optional).
TYPE_REQUIRED: dict[FieldType, tuple[str, ...]] = {
    FT.SELECT_ONE: ("choices",),
    FT.SELECT_MANY: ("choices",),
    FT.CALCULATE: ("value",),
    FT.GROUP: ("fields",),
    FT.REPEAT: ("fields",),
}


def allowed_keys(ftype: FieldType) -> tuple[str, ...]:
    """Every key a field of ``ftype`` may have, in documentation order."""
    return _BASE + TYPE_KEYS[ftype]


def types_with_key(key: str) -> list[str]:
    """The type names that accept ``key`` (for "only applies to ..." hints)."""
    return [t.value for t in FieldType if key in allowed_keys(t)]


#: Default maximum lengths, so no answer is unbounded.
DEFAULT_MAX_LENGTH = {FT.TEXT: 500, FT.TEXTAREA: 20000, FT.EMAIL: 254}
DEFAULT_MAX_SIZE = 20 * 1024 * 1024

#: What expressions see for each answer type (calculate, group and repeat are computed).
EXPR_TYPES: dict[FieldType, Type] = {
    FT.TEXT: TEXT,
    FT.TEXTAREA: TEXT,
    FT.EMAIL: TEXT,
    FT.UK_PHONE: TEXT,
    FT.UK_POSTCODE: TEXT,
    FT.SELECT_ONE: TEXT,
    FT.INTEGER: NUMBER,
    FT.DECIMAL: NUMBER,
    FT.DATE: DATE,
    FT.TIME: TIME,
    FT.DATETIME: DATETIME,
    FT.YESNO: BOOLEAN,
    FT.SELECT_MANY: list_of(TEXT),
    FT.PHOTO: list_of(ATTACHMENT),
    FT.FILE: list_of(ATTACHMENT),
    FT.SIGNATURE: ATTACHMENT,
    FT.GEOPOINT: GEOPOINT,
}

#: Types that take no answer at all.
NO_ANSWER = frozenset({FT.NOTE})

_SIZE_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB)\s*", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_size(text: str) -> int | None:
    """Parse a size such as ``10MB`` or ``512 KB`` into bytes (binary units), or None."""
    match = _SIZE_RE.fullmatch(text)
    if match is None:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])
