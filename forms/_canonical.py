"""Reading definition YAML: canonical JSON (what the definition schema checks and the content hash
is computed from) and defensive readers for single values.

YAML 1.1 (what PyYAML reads) turns some plain scalars into values an author did not mean:
``2024-01-31`` becomes a date, ``10:30`` the number 630, ``yes`` a boolean and ``on:`` a key of
``True``. The canonical form keeps the author's own characters for dates, times, sexagesimal
numbers, non-finite numbers and non-text keys, so the JSON Schema sees text where text was
written and the content hash never depends on PyYAML's guesses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from dsl import YMap, YNode, YScalar, YSeq
from forms._text import Text


def scalar_json(node: YScalar) -> Any:
    """The JSON value of one scalar (see the module docstring for what keeps its own text)."""
    value = node.value
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return node.raw if ":" in node.raw else value
    if isinstance(value, float):
        return value if math.isfinite(value) else node.raw
    if isinstance(value, dt.date):
        return node.raw
    return node.raw  # bytes (!!binary) and other exotic tags: keep what was written


def scalar_text(node: YScalar) -> str | None:
    """A scalar as the text the author wrote: strings as they are, anything else as written.

    ``label: No`` is the text ``"No"``, not the boolean False; ``value: 01`` is ``"01"``.
    """
    value = node.value
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return node.raw if node.raw else str(value)


def to_json(node: YNode) -> Any:
    """The canonical JSON value of a YAML tree (mapping keys always text)."""
    if isinstance(node, YScalar):
        return scalar_json(node)
    if isinstance(node, YSeq):
        return [to_json(item) for item in node.items]
    out: dict[str, Any] = {}
    for key, value in node.items():
        name = key.value if isinstance(key.value, str) else (scalar_text(key) or "null")
        out[name] = to_json(value)
    return out


def canonical_json(node: YNode) -> str:
    """Canonical text: sorted keys, no whitespace, UTF-8 characters kept."""
    return json.dumps(to_json(node), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(node: YNode) -> str:
    """sha256 hex of the canonical JSON: the same definition always hashes the same, whatever
    its formatting, comments, quoting or key order."""
    return hashlib.sha256(canonical_json(node).encode("utf-8")).hexdigest()


def key_name(key: YScalar) -> str:
    """A mapping key as text (see :func:`to_json`)."""
    return key.value if isinstance(key.value, str) else (scalar_text(key) or "null")


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
