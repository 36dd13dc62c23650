"""Type rules shared by the checker and the function library: unification and comparability."""

from __future__ import annotations

from dsl._types import ANY, Kind, Type, list_of

ORDERED_KINDS = frozenset({Kind.TEXT, Kind.NUMBER, Kind.DATE, Kind.TIME, Kind.DATETIME})
"""Kinds whose values can be ordered with < <= > >=."""

EQUATABLE_KINDS = frozenset({*ORDERED_KINDS, Kind.BOOLEAN, Kind.LIST})
"""Kinds whose values can be compared with == and != (anything can be compared with null)."""


def is_loose(t: Type) -> bool:
    """Null and any fit everywhere (null is every type's missing value; any is unknown)."""
    return t.kind in (Kind.NULL, Kind.ANY)


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values that may be either one (branches of if(), ``??``), or None."""
    if a.kind is Kind.NULL:
        return b
    if b.kind is Kind.NULL or a.kind is Kind.ANY:
        return a
    if b.kind is Kind.ANY:
        return b
    if a.kind is not b.kind:
        return None
    if a.kind is Kind.LIST:
        if a.item is None or b.item is None:
            return a if a.item is not None else b
        item = unify(a.item, b.item)
        return None if item is None else list_of(item)
    if a.kind is Kind.RECORD and a.record is not b.record:
        return None
    return a


def unify_all(types: list[Type]) -> Type | None:
    """The common type of several values, or None when two of them differ."""
    result = Type(Kind.NULL)
    for t in types:
        joined = unify(result, t)
        if joined is None:
            return None
        result = joined
    return result


def comparable(a: Type, b: Type) -> bool:
    """Whether ``a == b`` is a meaningful comparison (same type, or null/any on one side)."""
    if is_loose(a) or is_loose(b):
        return True
    if a.kind is not b.kind:
        return False
    if a.kind is Kind.LIST:
        if a.item is None or b.item is None:
            return True
        return comparable(a.item, b.item)
    return True


def describe(t: Type) -> str:
    """A type for messages, with its plural sense where it reads better."""
    return "null" if t.kind is Kind.NULL else str(t)


__all__ = [
    "ANY",
    "EQUATABLE_KINDS",
    "ORDERED_KINDS",
    "comparable",
    "describe",
    "is_loose",
    "unify",
    "unify_all",
]
