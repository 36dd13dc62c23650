"""The syntax tree of an expression, as the parser builds it.

Every node is a frozen value carrying ``start`` and ``end`` character offsets (end exclusive) into
the expression text, so the checker can point a diagnostic at exactly the sub-expression at fault
(``node.position_at(start)`` on the YAML scalar, underlined for ``end - start`` characters).
``depth`` is the height of the subtree; the parser rejects trees too deep to walk safely.

Nodes are plain data: the checker turns them into typed, resolved nodes (``dsl._bound``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dsl._types import Kind

LiteralValue = str | int | float | bool | None | dt.date | dt.time | dt.datetime

# Operator names used in the tree (and in the JSON IR); the source spelling is kept for messages.
BINARY_OPS = {
    "or": "or",
    "and": "and",
    "==": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in",
    "??": "coalesce",
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "%": "mod",
}


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value: text, number, boolean, null, date, time or datetime."""

    start: int
    end: int
    value: LiteralValue
    kind: Kind
    depth: int = 1


@dataclass(frozen=True, slots=True)
class ListLiteral:
    """``[a, b, c]``."""

    start: int
    end: int
    items: tuple[Expr, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class NamePart:
    """One segment of a dotted name, with its own offsets."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Name:
    """A name or dotted path: ``age``, ``household.address.postcode``."""

    start: int
    end: int
    parts: tuple[NamePart, ...]
    depth: int = 1

    @property
    def dotted(self) -> str:
        """The name as written, segments joined by dots."""
        return ".".join(p.name for p in self.parts)


@dataclass(frozen=True, slots=True)
class Unary:
    """``not x`` (op ``"not"``) or ``-x`` (op ``"neg"``)."""

    start: int
    end: int
    op: str
    operand: Expr
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operator; ``op`` is the IR name (``"eq"``), ``symbol`` the source spelling."""

    start: int
    end: int
    op: str
    symbol: str
    left: Expr
    right: Expr
    op_start: int
    op_end: int
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Call:
    """A function call ``name(args...)``; ``name_end`` ends the function name."""

    start: int
    end: int
    name: str
    name_end: int
    args: tuple[Expr, ...]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Invalid:
    """A token that lexed but is not a valid value (a bad date, an unknown escape, ...).

    The parser reports every Invalid node of a tree as a positioned syntax error, so one bad
    literal does not hide a second.
    """

    start: int
    end: int
    message: str
    hint: str | None = None
    depth: int = 1


Expr = Literal | ListLiteral | Name | Unary | Binary | Call | Invalid


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLiteral):
        return node.items
    return ()


__all__ = [
    "BINARY_OPS",
    "Binary",
    "Call",
    "Expr",
    "Invalid",
    "ListLiteral",
    "Literal",
    "LiteralValue",
    "Name",
    "NamePart",
    "Unary",
    "children",
]
