"""Checked expressions: the syntax tree with every name resolved and every node typed.

The checker (:mod:`dsl._checker`) produces these from :mod:`dsl._ast` nodes; the closure
compiler (:mod:`dsl._compiler`) and the IR exporter (:mod:`dsl._ir`) both start from them, so the
server and the browser evaluate exactly what was type-checked. ``nullable`` is False only where the
value can never be null (literals, comparisons, ``count``), which lets the compiler leave out null
checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl._functions import Function
from dsl._types import Type


@dataclass(frozen=True, slots=True)
class BConst:
    """A constant value (a literal, or a folded constant expression)."""

    value: Any
    type: Type
    nullable: bool


@dataclass(frozen=True, slots=True)
class BRef:
    """The value at ``keys`` inside frame ``frame`` of the environment (missing means null)."""

    frame: int
    keys: tuple[str, ...]
    type: Type
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class BProject:
    """``children.age``: the value at ``keys`` in each item of the list ``base`` evaluates to."""

    base: Bound
    keys: tuple[str, ...]
    type: Type
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class BList:
    """A list literal with non-constant items."""

    items: tuple[Bound, ...]
    type: Type
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class BUnary:
    """``not`` or ``neg``."""

    op: str
    operand: Bound
    type: Type
    nullable: bool


@dataclass(frozen=True, slots=True)
class BBinary:
    """A binary operator, named as in the IR: ``eq``, ``add``, ``and``, ``coalesce``, ..."""

    op: str
    left: Bound
    right: Bound
    type: Type
    nullable: bool


@dataclass(frozen=True, slots=True)
class BCall:
    """A call of a library function with its (eagerly evaluated) arguments."""

    function: Function
    args: tuple[Bound, ...]
    type: Type
    nullable: bool


@dataclass(frozen=True, slots=True)
class BScoped:
    """``any(children, age < 5)``: ``pred`` is evaluated once per item of ``subject``.

    ``frame`` is the index of the frame that holds the current item while ``pred`` runs.
    """

    function: Function
    subject: Bound
    pred: Bound
    frame: int
    type: Type
    nullable: bool


Bound = BConst | BRef | BProject | BList | BUnary | BBinary | BCall | BScoped

__all__ = ["BBinary", "BCall", "BConst", "BList", "BProject", "BRef", "BScoped", "BUnary", "Bound"]
