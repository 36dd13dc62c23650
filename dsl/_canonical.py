"""Canonical JSON of a definition: what definition schemas check and content hashes are taken of.

YAML 1.1 (what PyYAML reads) turns some plain scalars into values an author did not mean:
``2024-01-31`` becomes a date, ``10:30`` the number 630, ``yes`` a boolean and ``on:`` a key of
``True``. The canonical form keeps the author's own characters for dates, times, sexagesimal
numbers, non-finite numbers and non-text keys, so a schema sees text where text was written and
a content hash never depends on PyYAML's guesses. Forms and workflows share this one definition,
so the same file always gets the same hash, whichever package reads it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from dsl._yaml import YNode, YScalar, YSeq

__all__ = ["canonical_json", "content_hash", "key_name", "scalar_json", "scalar_text", "to_json"]


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


def key_name(key: YScalar) -> str:
    """A mapping key as the text the author wrote (``on`` stays ``"on"``, not True)."""
    return key.value if isinstance(key.value, str) else (scalar_text(key) or "null")


def to_json(node: YNode) -> Any:
    """The canonical JSON value of a YAML tree (mapping keys always text)."""
    if isinstance(node, YScalar):
        return scalar_json(node)
    if isinstance(node, YSeq):
        return [to_json(item) for item in node.items]
    return {key_name(key): to_json(value) for key, value in node.items()}


def canonical_json(node: YNode) -> str:
    """Canonical text: sorted keys, no whitespace, UTF-8 characters kept."""
    return json.dumps(to_json(node), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(node: YNode) -> str:
    """sha256 hex of the canonical JSON: the same definition always hashes the same, whatever
    its formatting, comments, quoting or key order."""
    return hashlib.sha256(canonical_json(node).encode("utf-8")).hexdigest()
