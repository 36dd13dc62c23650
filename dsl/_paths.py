"""Finding a definition's YAML nodes by a JSON-style path, for positioned error messages.

A JSON Schema error names a path of keys and indexes in the canonical JSON of a definition;
these helpers walk the positioned YAML by the same path (keys compared as the canonical JSON
spells them, :func:`~dsl._canonical.key_name`) so the message points at the file's line and
column. The form and workflow schema checks both use them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsl._canonical import key_name
from dsl._source import Position
from dsl._yaml import YMap, YNode, YScalar, YSeq

__all__ = ["child", "get", "key_position", "locate", "value_position"]


def child(node: YNode | None, step: str | int) -> tuple[YNode | None, YScalar | None]:
    """The value (and key node) at ``step`` of a mapping or list, keys compared by their text."""
    if isinstance(node, YMap):
        for key, value in node.items():
            if key_name(key) == step:
                return value, key
        return None, None
    if isinstance(node, YSeq) and isinstance(step, int) and 0 <= step < len(node.items):
        return node.items[step], None
    return None, None


def get(node: YNode | None, key: str) -> YNode | None:
    """The value at ``key`` of a mapping node (by the key's text), or None."""
    return child(node, key)[0]


def locate(root: YNode, path: Sequence[str | int]) -> YNode:
    """The deepest node on ``path`` (a JSON-style path of keys and indexes)."""
    node: YNode = root
    for step in path:
        found, _ = child(node, step)
        if found is None:
            return node
        node = found
    return node


def key_position(node: YNode, key: str) -> Position:
    """Where ``key`` of mapping ``node`` was written, spanning the key (the node if absent)."""
    _, key_node = child(node, key)
    if key_node is not None:
        return key_node.pos.span(len(key_node.raw or key))
    return node.pos


def value_position(node: YNode, key: str) -> Position:
    """Where the value of ``key`` of mapping ``node`` was written (the node if absent)."""
    found, _ = child(node, key)
    return found.pos if found is not None else node.pos
