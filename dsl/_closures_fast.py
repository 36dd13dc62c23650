"""Closures for shapes with a field or a literal as an operand, read in place (no inner call).

Calling a closure costs more than reading an answer, so where an operand is a single field
(``frames[f].get(k)``) or a literal, it is read inside the parent's closure instead of through a
child closure. These shapes cover most conditions in real forms: ``not consent``,
``consent and age > 3``, ``if(age >= 18, 'adult', 'child')``, ``(n ?? 0) > 3``,
``upper(name)``, ``age * 2 + 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsl._closures import Closure

Ref = tuple[int, str]
"""A single-key field reference: (frame index, key)."""


def not_ref(ref: Ref) -> Closure:
    """``not field``: true unless the answer is exactly true."""
    f, k = ref
    return lambda env: env.frames[f].get(k) is not True


def is_true(part: Closure | Ref, strict: bool) -> Closure:
    """A part of ``and``/``or`` as a closure giving a boolean."""
    if isinstance(part, tuple):
        f, k = part
        return lambda env: env.frames[f].get(k) is True
    if strict:
        return lambda env: part(env) is True
    return part


def logic2(op: str, a: Closure | Ref, b: Closure | Ref, strict_a: bool, strict_b: bool) -> Closure:
    """``a and b`` / ``a or b`` where either side may be a boolean field read in place."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        (fa, ka), (fb, kb) = a, b
        if op == "and":
            return lambda env: env.frames[fa].get(ka) is True and env.frames[fb].get(kb) is True
        return lambda env: env.frames[fa].get(ka) is True or env.frames[fb].get(kb) is True
    if isinstance(a, tuple):
        fa, ka = a
        other = is_true(b, strict_b)
        if op == "and":
            return lambda env: env.frames[fa].get(ka) is True and other(env)
        return lambda env: env.frames[fa].get(ka) is True or other(env)
    if isinstance(b, tuple):
        fb, kb = b
        first = is_true(a, strict_a)
        if op == "and":
            return lambda env: first(env) and env.frames[fb].get(kb) is True
        return lambda env: first(env) or env.frames[fb].get(kb) is True
    raise ValueError("logic2 needs a field on one side")


def if_(
    cond: Closure | Ref,
    cond_strict: bool,
    then: Closure,
    then_value: Any,
    then_const: bool,
    other: Closure,
    other_value: Any,
    other_const: bool,
) -> Closure:
    """``if(c, a, b)``, lazily, with literal branches and a field condition read in place."""
    both_const = then_const and other_const
    if isinstance(cond, tuple):
        f, k = cond
        if both_const:
            return lambda env: then_value if env.frames[f].get(k) is True else other_value
        return lambda env: then(env) if env.frames[f].get(k) is True else other(env)
    test = cond
    if both_const:
        if cond_strict:
            return lambda env: then_value if test(env) is True else other_value
        return lambda env: then_value if test(env) else other_value
    if cond_strict:
        return lambda env: then(env) if test(env) is True else other(env)
    return lambda env: then(env) if test(env) else other(env)


def coalesce_const(left: Closure | Ref, value: Any) -> Closure:
    """``a ?? literal``."""
    if isinstance(left, tuple):
        f, k = left
        return lambda env: value if (v := env.frames[f].get(k)) is None else v
    return lambda env: value if (v := left(env)) is None else v


def call1_ref(impl: Callable[..., Any], ref: Ref, propagate: bool) -> Closure:
    """``f(field)``."""
    f, k = ref
    if propagate:
        return lambda env: None if (x := env.frames[f].get(k)) is None else impl(x)
    return lambda env: impl(env.frames[f].get(k))


def call2_ref_const(impl: Callable[..., Any], ref: Ref, value: Any, propagate: bool) -> Closure:
    """``f(field, literal)``, e.g. ``contains(notes, 'knife')`` or ``add_days(dob, 3)``."""
    f, k = ref
    if propagate:
        if value is None:
            return lambda env: None
        return lambda env: None if (x := env.frames[f].get(k)) is None else impl(x, value)
    return lambda env: impl(env.frames[f].get(k), value)


def arith_const(op: str, left: Closure | Ref, value: Any) -> Closure:
    """``a + literal`` (and - * / %, with a non-zero literal divisor), operators written inline.

    Null on the left gives null.
    """
    if isinstance(left, tuple):
        f, k = left
        if op == "add":
            return lambda env: None if (a := env.frames[f].get(k)) is None else a + value
        if op == "sub":
            return lambda env: None if (a := env.frames[f].get(k)) is None else a - value
        if op == "mul":
            return lambda env: None if (a := env.frames[f].get(k)) is None else a * value
        if op == "div":
            return lambda env: None if (a := env.frames[f].get(k)) is None else a / value
        return lambda env: None if (a := env.frames[f].get(k)) is None else a % value
    fn = left
    if op == "add":
        return lambda env: None if (a := fn(env)) is None else a + value
    if op == "sub":
        return lambda env: None if (a := fn(env)) is None else a - value
    if op == "mul":
        return lambda env: None if (a := fn(env)) is None else a * value
    if op == "div":
        return lambda env: None if (a := fn(env)) is None else a / value
    return lambda env: None if (a := fn(env)) is None else a % value


def member_ref(ref: Ref, pool: Any, negate: bool) -> Closure:
    """``field in [literals]``."""
    f, k = ref
    if negate:
        return lambda env: not ((v := env.frames[f].get(k)) is not None and v in pool)
    return lambda env: (v := env.frames[f].get(k)) is not None and v in pool


__all__ = [
    "Ref",
    "arith_const",
    "call1_ref",
    "call2_ref_const",
    "coalesce_const",
    "if_",
    "is_true",
    "logic2",
    "member_ref",
    "not_ref",
]
