"""Compiling a checked expression into Python closures: the authoritative evaluator.

Everything that can be decided once is decided here, not on each evaluation: names are already
resolved to (frame, keys) by the checker; constant sub-expressions are folded; common shapes get
specialised closures (:mod:`dsl._closures`); ``if`` and ``coalesce`` evaluate lazily. There is no
``eval``/``exec``: the result is a tree of ordinary Python functions.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

from dsl import _closures as C
from dsl import _closures_fast as F
from dsl._bound import BBinary, BCall, BConst, BList, Bound, BProject, BRef, BScoped, BUnary
from dsl._env import Env
from dsl._functions import Function
from dsl._lib_core import coalesce as core_coalesce
from dsl._lib_core import if_ as core_if
from dsl._types import Kind

Closure = C.Closure

_FOLD_ENV = Env((), dt.datetime(2000, 1, 1, tzinfo=dt.UTC))  # constants never read it
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "mod": operator.mod,
}


class _Compiled:
    """A closure, and its value when it is a constant."""

    __slots__ = ("const", "fn", "value")

    def __init__(self, fn: Closure, const: bool = False, value: Any = None) -> None:
        self.fn = fn
        self.const = const
        self.value = value


def compile_bound(node: Bound) -> Closure:
    """The closure that evaluates ``node`` in an :class:`Env`."""
    return _compile(node).fn


def _constant(value: Any) -> _Compiled:
    return _Compiled(C.const(value), True, value)


def _fold(fn: Closure, parts: list[_Compiled]) -> _Compiled:
    """Evaluate now when every part is constant (the closure cannot read the environment)."""
    if all(p.const for p in parts):
        try:
            return _constant(fn(_FOLD_ENV))
        except Exception:  # a function failing on constants fails again at run time, not here
            return _Compiled(fn)
    return _Compiled(fn)


def _compile(node: Bound) -> _Compiled:
    if isinstance(node, BConst):
        return _constant(node.value)
    if isinstance(node, BRef):
        return _Compiled(C.ref(node.frame, node.keys))
    if isinstance(node, BProject):
        return _Compiled(C.project(_compile(node.base).fn, node.keys))
    if isinstance(node, BList):
        items = [_compile(i) for i in node.items]
        return _fold(C.make_list([i.fn for i in items]), items)
    if isinstance(node, BUnary):
        operand = _compile(node.operand)
        if node.op == "not":
            key = _single_key(node.operand)
            if key is not None:
                return _Compiled(F.not_ref(key))
            return _fold(C.not_(operand.fn, node.operand.nullable), [operand])
        return _fold(C.negate(operand.fn, node.operand.nullable), [operand])
    if isinstance(node, BBinary):
        return _binary(node)
    if isinstance(node, BCall):
        return _call(node)
    return _Compiled(_scoped(node))


def _operand(node: Bound, compiled: _Compiled) -> F.Ref | Closure:
    """A single-key field as (frame, key), read in place by the parent; otherwise its closure."""
    key = _single_key(node)
    return key if key is not None else compiled.fn


def _single_key(node: Bound) -> tuple[int, str] | None:
    if isinstance(node, BRef) and len(node.keys) == 1:
        return node.frame, node.keys[0]
    return None


def _flatten(op: str, node: Bound) -> list[Bound]:
    """The operands of a chain ``a and b and c`` (left-nested in the tree)."""
    if isinstance(node, BBinary) and node.op == op:
        return [*_flatten(op, node.left), *_flatten(op, node.right)]
    return [node]


def _binary(node: BBinary) -> _Compiled:
    op = node.op
    if op in ("and", "or"):
        operands = _flatten(op, node)
        parts = [_compile(o) for o in operands]
        strict = any(o.nullable for o in operands)
        if len(operands) == 2 and not any(p.const for p in parts):
            a, b = (_single_key(o) for o in operands)
            if a is not None or b is not None:
                return _Compiled(
                    F.logic2(
                        op,
                        a if a is not None else parts[0].fn,
                        b if b is not None else parts[1].fn,
                        operands[0].nullable,
                        operands[1].nullable,
                    )
                )
        factory = C.and_ if op == "and" else C.or_
        return _fold(factory([p.fn for p in parts], strict), parts)
    left, right = _compile(node.left), _compile(node.right)
    both = [left, right]
    if op in ("eq", "ne"):
        return _fold(_equality(node, left, right), both)
    if op in ("lt", "le", "gt", "ge"):
        return _fold(_ordering(node, left, right), both)
    if op in ("in", "not_in"):
        negate = op == "not_in"
        if right.const and right.value is None:
            return _constant(negate)  # nothing is in a null list
        key = _single_key(node.left)
        if key is not None and right.const:
            return _Compiled(F.member_ref(key, C.make_pool(right.value), negate))
        return _fold(C.member(left.fn, right.fn, right.value, right.const, negate), both)
    if op == "coalesce":
        if not node.left.nullable:
            return left
        if right.const and not left.const:
            return _Compiled(F.coalesce_const(_operand(node.left, left), right.value))
        return _fold(C.coalesce(left.fn, right.fn), both)
    if op == "concat":
        return _fold(C.concat(left.fn, right.fn, node.left.nullable, node.right.nullable), both)
    if op == "add" and node.type.kind is not Kind.NUMBER:
        return _fold(_dynamic(left, right), both)
    arith = _ARITH[op]
    if right.const and right.value is not None and not (op in ("div", "mod") and right.value == 0):
        return _fold(F.arith_const(op, _operand(node.left, left), right.value), both)
    if op in ("div", "mod"):
        return _fold(C.divide(arith, left.fn, right.fn), both)
    return _fold(C.arithmetic(arith, left.fn, right.fn, node.left.nullable, node.right.nullable), both)


def _dynamic(left: _Compiled, right: _Compiled) -> Closure:
    lf, rf = left.fn, right.fn
    return lambda env: C.dynamic_add(lf(env), rf(env))


def _equality(node: BBinary, left: _Compiled, right: _Compiled) -> Closure:
    negate = node.op == "ne"
    if right.const or left.const:
        subject, other, value = (
            (node.left, left, right.value) if right.const else (node.right, right, left.value)
        )
        key = _single_key(subject)
        if key is not None:
            return C.eq_ref_const(key[0], key[1], value, negate)
        return C.eq_const(other.fn, value, negate)
    return C.eq(left.fn, right.fn, negate)


def _ordering(node: BBinary, left: _Compiled, right: _Compiled) -> Closure:
    op = node.op
    if left.const and not right.const:
        # literal < expr  is  expr > literal
        node = BBinary(C.FLIPPED[op], node.right, node.left, node.type, node.nullable)
        return _ordering(node, right, left)
    if right.const:
        if right.value is None:
            return C.const(False)  # ordering with null is false
        key = _single_key(node.left)
        if key is not None:
            return C.order_ref_const(op, key[0], key[1], right.value)
        return C.order_const(op, left.fn, right.value, node.left.nullable)
    return C.order(op, left.fn, right.fn)


def _call(node: BCall) -> _Compiled:
    fn = node.function
    args = [_compile(a) for a in node.args]
    fns = [a.fn for a in args]
    if fn.impl is core_if and len(fns) == 3:
        cond, then, other = args
        closure = F.if_(
            _operand(node.args[0], cond),
            node.args[0].nullable,
            then.fn,
            then.value,
            then.const,
            other.fn,
            other.value,
            other.const,
        )
        return _fold(closure, args)
    if fn.impl is core_coalesce:
        return _fold(_lazy_coalesce(fns), args)
    if not fn.uses_clock and len(args) in (1, 2) and not args[0].const:
        key = _single_key(node.args[0])
        if key is not None and len(args) == 1:
            return _Compiled(F.call1_ref(fn.impl, key, fn.propagate_null))
        if key is not None and args[1].const:
            return _Compiled(F.call2_ref_const(fn.impl, key, args[1].value, fn.propagate_null))
    closure = _call_closure(fn, fns)
    if fn.uses_clock:
        return _Compiled(closure)
    return _fold(closure, args)


def _lazy_coalesce(fns: list[Closure]) -> Closure:
    parts = tuple(fns)

    def run(env: Env) -> Any:
        for part in parts:
            value = part(env)
            if value is not None:
                return value
        return None

    return run


def _call_closure(fn: Function, fns: list[Closure]) -> Closure:
    impl = fn.impl
    parts = tuple(fns)
    if fn.uses_clock:
        if fn.propagate_null:

            def clocked_null(env: Env) -> Any:
                values = [p(env) for p in parts]
                return None if any(v is None for v in values) else impl(env, *values)

            return clocked_null
        return lambda env: impl(env, *[p(env) for p in parts])
    if not fn.propagate_null:
        if len(parts) == 1:
            (a,) = parts
            return lambda env: impl(a(env))
        if len(parts) == 2:
            a, b = parts
            return lambda env: impl(a(env), b(env))
        return lambda env: impl(*[p(env) for p in parts])
    if len(parts) == 1:
        (a,) = parts
        return lambda env: None if (x := a(env)) is None else impl(x)
    if len(parts) == 2:
        a, b = parts

        def call2(env: Env) -> Any:
            x = a(env)
            if x is None:
                return None
            y = b(env)
            return None if y is None else impl(x, y)

        return call2

    def call_n(env: Env) -> Any:
        values = [p(env) for p in parts]
        return None if any(v is None for v in values) else impl(*values)

    return call_n


def _scoped(node: BScoped) -> Closure:
    impl = node.function.impl
    subject = _compile(node.subject).fn
    pred = _compile(node.pred).fn
    propagate = node.function.propagate_null

    def run(env: Env) -> Any:
        items = subject(env)
        if items is None and propagate:
            return None
        return impl(items, lambda item: pred(env.push(item)))

    return run


__all__ = ["Closure", "compile_bound"]
