"""Closure factories for the compiler: one small function per operator shape.

Each factory returns a closure ``run(env)``. Shapes that occur in nearly every form get their own
closure so that evaluating them costs one Python call and no allocation: a field compared with a
literal, ``and``/``or`` of two or three conditions, arithmetic with a literal. The null checks are
left out where the checker proved an operand can never be null.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from dsl._env import Env

Closure = Callable[[Env], Any]

ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
FLIPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


def const(value: Any) -> Closure:
    """A closure that always returns ``value``."""
    return lambda env: value


def ref(frame: int, keys: tuple[str, ...]) -> Closure:
    """The value at ``keys`` in frame ``frame`` (null when any step is missing)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda env: env.frames[frame].get(key)
    if len(keys) == 2:
        k0, k1 = keys

        def run2(env: Env) -> Any:
            value = env.frames[frame].get(k0)
            if value is None:
                return None
            # A member of an untyped ("any") value may meet text or a list: that is null, not a
            # crash. try/except costs nothing on the normal path.
            try:
                return value.get(k1)
            except AttributeError:
                return None

        return run2

    def run(env: Env) -> Any:
        return dig(env.frames[frame], keys)

    return run


def dig(value: Any, keys: tuple[str, ...]) -> Any:
    """The value at ``keys`` inside a record (null when any step is missing or not a mapping)."""
    try:
        for key in keys:
            if value is None:
                return None
            value = value.get(key)
    except AttributeError:
        return None
    return value


def project(base: Closure, keys: tuple[str, ...]) -> Closure:
    """``children.age``: the value at ``keys`` in each item of a list."""
    if len(keys) == 1:
        key = keys[0]

        def run1(env: Env) -> Any:
            items = base(env)
            if items is None:
                return None
            try:
                return [None if item is None else item.get(key) for item in items]
            except AttributeError:  # an untyped list holding non-mappings
                return [dig(item, (key,)) for item in items]

        return run1

    def run(env: Env) -> Any:
        items = base(env)
        return None if items is None else [dig(item, keys) for item in items]

    return run


# ---------------------------------------------------------------- equality


def eq_ref_const(frame: int, key: str, value: Any, negate: bool) -> Closure:
    """``field == literal`` (or ``!=``), reading the answer directly."""
    if value is None:
        if negate:
            return lambda env: env.frames[frame].get(key) is not None
        return lambda env: env.frames[frame].get(key) is None
    if negate:
        return lambda env: env.frames[frame].get(key) != value
    return lambda env: env.frames[frame].get(key) == value


def eq_const(fn: Closure, value: Any, negate: bool) -> Closure:
    """``expr == literal`` (or ``!=``)."""
    if value is None:
        if negate:
            return lambda env: fn(env) is not None
        return lambda env: fn(env) is None
    if negate:
        return lambda env: fn(env) != value
    return lambda env: fn(env) == value


def eq(left: Closure, right: Closure, negate: bool) -> Closure:
    """``a == b`` (or ``!=``); null equals only null."""
    if negate:
        return lambda env: left(env) != right(env)
    return lambda env: left(env) == right(env)


# ---------------------------------------------------------------- ordering


def order_ref_const(op: str, frame: int, key: str, value: Any) -> Closure:
    """``field < literal``: false when the answer is null."""
    if op == "lt":
        return lambda env: (v := env.frames[frame].get(key)) is not None and v < value
    if op == "le":
        return lambda env: (v := env.frames[frame].get(key)) is not None and v <= value
    if op == "gt":
        return lambda env: (v := env.frames[frame].get(key)) is not None and v > value
    return lambda env: (v := env.frames[frame].get(key)) is not None and v >= value


def order_const(op: str, fn: Closure, value: Any, nullable: bool) -> Closure:
    """``expr < literal``: false when the expression is null."""
    compare = ORDER_OPS[op]
    if not nullable:
        if op == "lt":
            return lambda env: fn(env) < value
        if op == "le":
            return lambda env: fn(env) <= value
        if op == "gt":
            return lambda env: fn(env) > value
        return lambda env: fn(env) >= value
    return lambda env: (v := fn(env)) is not None and compare(v, value)


def order(op: str, left: Closure, right: Closure) -> Closure:
    """``a < b``: false when either side is null."""
    compare = ORDER_OPS[op]

    def run(env: Env) -> bool:
        a = left(env)
        if a is None:
            return False
        b = right(env)
        return b is not None and compare(a, b)

    return run


# ---------------------------------------------------------------- logic


def and_(parts: list[Closure], strict: bool) -> Closure:
    """``a and b and ...``; with ``strict`` the parts may be null, which counts as false."""
    if len(parts) == 2:
        a, b = parts
        if strict:
            return lambda env: a(env) is True and b(env) is True
        return lambda env: a(env) and b(env)
    if len(parts) == 3:
        a, b, c = parts
        if strict:
            return lambda env: a(env) is True and b(env) is True and c(env) is True
        return lambda env: a(env) and b(env) and c(env)
    items = tuple(parts)
    return lambda env: all(p(env) is True for p in items)


def or_(parts: list[Closure], strict: bool) -> Closure:
    """``a or b or ...``; with ``strict`` the parts may be null, which counts as false."""
    if len(parts) == 2:
        a, b = parts
        if strict:
            return lambda env: a(env) is True or b(env) is True
        return lambda env: a(env) or b(env)
    if len(parts) == 3:
        a, b, c = parts
        if strict:
            return lambda env: a(env) is True or b(env) is True or c(env) is True
        return lambda env: a(env) or b(env) or c(env)
    items = tuple(parts)
    return lambda env: any(p(env) is True for p in items)


def not_(fn: Closure, nullable: bool) -> Closure:
    """``not a``: null counts as false, so ``not null`` is true."""
    if nullable:
        return lambda env: fn(env) is not True
    return lambda env: not fn(env)


# ---------------------------------------------------------------- membership and null


def member(left: Closure, right: Closure, right_value: Any, right_const: bool, negate: bool) -> Closure:
    """``x in list``: false when x or the list is null; ``not in`` is the negation."""
    if right_const:
        pool = make_pool(right_value)
        if negate:
            return lambda env: not ((v := left(env)) is not None and v in pool)
        return lambda env: (v := left(env)) is not None and v in pool

    def run(env: Env) -> bool:
        v = left(env)
        if v is None:
            return negate
        items = right(env)
        if items is None:
            return negate
        return (v in items) is not negate

    return run


def make_pool(values: Any) -> Any:
    """A constant list prepared for ``in``: a frozenset, or a tuple when items are unhashable."""
    try:
        return frozenset(values)
    except TypeError:
        return tuple(values)  # lists as items: a linear search with ==


def coalesce(left: Closure, right: Closure) -> Closure:
    """``a ?? b``: ``a`` unless it is null."""

    def run(env: Env) -> Any:
        value = left(env)
        return right(env) if value is None else value

    return run


# ---------------------------------------------------------------- arithmetic


def arithmetic(op: Callable[[Any, Any], Any], left: Closure, right: Closure, ln: bool, rn: bool) -> Closure:
    """``a + b``, ``a - b``, ``a * b`` on numbers: null when either side is null."""
    if not ln and not rn:
        return lambda env: op(left(env), right(env))

    def run(env: Env) -> Any:
        a = left(env)
        if a is None:
            return None
        b = right(env)
        return None if b is None else op(a, b)

    return run


def arithmetic_const(op: Callable[[Any, Any], Any], left: Closure, value: Any) -> Closure:
    """``expr + literal``: null when the expression is null."""
    return lambda env: None if (a := left(env)) is None else op(a, value)


def divide(op: Callable[[Any, Any], Any], left: Closure, right: Closure) -> Closure:
    """``a / b`` and ``a % b``: null when either side is null or ``b`` is zero."""

    def run(env: Env) -> Any:
        a = left(env)
        if a is None:
            return None
        b = right(env)
        if b is None or b == 0:
            return None
        return op(a, b)

    return run


def concat(left: Closure, right: Closure, ln: bool, rn: bool) -> Closure:
    """``text + text``: null counts as empty text."""
    if not ln and not rn:
        return lambda env: left(env) + right(env)
    return lambda env: (left(env) or "") + (right(env) or "")


def dynamic_add(a: Any, b: Any) -> Any:
    """``+`` when the operand types are only known at run time (see docs/expressions.md)."""
    a_num = isinstance(a, int | float) and not isinstance(a, bool)
    b_num = isinstance(b, int | float) and not isinstance(b, bool)
    if a_num and b_num:
        return a + b
    if (
        (isinstance(a, str) or a is None)
        and (isinstance(b, str) or b is None)
        and (a is not None or b is not None)
    ):
        return (a or "") + (b or "")
    return None


def negate(fn: Closure, nullable: bool) -> Closure:
    """``-a``: null stays null."""
    if not nullable:
        return lambda env: -fn(env)
    return lambda env: None if (v := fn(env)) is None else -v


def make_list(items: list[Closure]) -> Closure:
    """A list literal whose items are computed."""
    parts = tuple(items)
    return lambda env: [p(env) for p in parts]


__all__ = [
    "FLIPPED",
    "ORDER_OPS",
    "Closure",
    "and_",
    "arithmetic",
    "arithmetic_const",
    "coalesce",
    "concat",
    "const",
    "dig",
    "divide",
    "dynamic_add",
    "eq",
    "eq_const",
    "eq_ref_const",
    "make_list",
    "make_pool",
    "member",
    "negate",
    "not_",
    "or_",
    "order",
    "order_const",
    "order_ref_const",
    "project",
    "ref",
]
