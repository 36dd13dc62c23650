"""Reading definition YAML: canonical JSON (what the definition schema checks and the content hash
is computed from) and defensive readers for single values.

YAML 1.1 (what PyYAML reads) turns some plain scalars into values an author did not mean:
``2024-01-31`` becomes a date, ``10:30`` the number 630, ``yes`` a boolean and ``on:`` a key of
``True``. The canonical form keeps the author's own characters for dates, times, sexagesimal
numbers, non-finite numbers and non-text keys, so the JSON Schema sees text where text was
written and the content hash never depends on PyYAML's guesses.
"""

from __future__ import annotations

import math

from dsl import (
    YMap,
    YNode,
    YScalar,
    key_name,
    scalar_text,
)
from forms._text import Text

# Defensive readers. The definition schema has already reported every shape problem when these
# run, so a reader that meets the wrong shape returns None instead of raising: the loader keeps
# going and reports the rest of the problems in the same run.


def get(node: YNode | None, key: str) -> YNode | None:
    """The value node of ``key`` in a mapping (keys compared as written), or None."""
    if not isinstance(node, YMap):
        return None
    found = node.get(key)
    if found is not None:
        return found
    for k, value in node.items():
        if key_name(k) == key:
            return value
    return None


def scalar(node: YNode | None) -> YScalar | None:
    """``node`` if it is a scalar, else None."""
    return node if isinstance(node, YScalar) else None


def text_value(node: YNode | None) -> str | None:
    """A scalar as the text written (``No`` stays ``"No"``), or None."""
    return scalar_text(node) if isinstance(node, YScalar) else None


def str_value(node: YNode | None) -> str | None:
    """A scalar that YAML read as text, or None."""
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return node.value
    return None


def int_value(node: YNode | None) -> int | None:
    """A whole number (``3`` or ``3.0``), or None."""
    if isinstance(node, YScalar) and not isinstance(node.value, bool):
        value = node.value
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
    return None


def number_value(node: YNode | None) -> int | float | None:
    """A finite number, or None."""
    if isinstance(node, YScalar) and not isinstance(node.value, bool):
        value = node.value
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            return value
    return None


def bool_value(node: YNode | None) -> bool | None:
    """A boolean, or None."""
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return node.value
    return None


def text_of(node: YNode | None) -> Text | None:
    """Bilingual text: a plain scalar, or a mapping ``{en: ..., cy: ...}``; None otherwise."""
    if isinstance(node, YScalar):
        value = scalar_text(node)
        return Text(value) if value is not None else None
    if isinstance(node, YMap):
        en = text_value(get(node, "en"))
        if en is None:
            return None
        return Text(en, text_value(get(node, "cy")))
    return None
