"""Type rules of the operators (``and``, ``==``, ``<``, ``in``, ``??``, ``+``, ...).

Each rule checks its operands, reports a positioned error with a hint when they do not fit, and
returns the bound node. Errors point at the operand at fault when one operand is to blame, and at
the whole comparison when the two operands disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsl._ast import Binary, Unary
from dsl._bound import BBinary, Bound, BUnary
from dsl._types import ANY, BOOLEAN, NULL, NUMBER, TEXT, Kind, Scope, Type
from dsl._typing_rules import EQUATABLE_KINDS, ORDERED_KINDS, comparable, is_loose, unify

if TYPE_CHECKING:
    from dsl._checker import Checker

_ARITHMETIC = {"sub": "subtract", "mul": "multiply", "div": "divide", "mod": "take the remainder of"}


def _plural(t: Type) -> str:
    if t.kind is Kind.LIST:
        return f"lists of {t.item}"
    if t.kind is Kind.NULL:
        return "null"
    word = str(t)
    return word if word in ("text",) else word + "s"


def check_unary(ck: Checker, node: Unary, scope: Scope) -> Bound:
    """``not x`` needs a boolean; ``-x`` needs a number."""
    operand = ck.check(node.operand, scope)
    t = operand.type
    if node.op == "not":
        if not BOOLEAN.accepts(t):
            from dsl._checker import convert_hint

            return ck.error(
                node.operand.start,
                node.operand.end,
                f"'not' needs a boolean, got {t}",
                convert_hint(BOOLEAN, t, ck.text_of(node.operand)),
            )
        return BUnary("not", operand, BOOLEAN, False)
    if not NUMBER.accepts(t):
        return ck.error(node.start, node.end, f"cannot negate {_plural(t)}", "'-' works on numbers only")
    result = NUMBER if t.kind is not Kind.ANY else ANY
    return BUnary("neg", operand, result, operand.nullable)


def check_binary(ck: Checker, node: Binary, scope: Scope) -> Bound:
    """Dispatch on the operator."""
    left = ck.check(node.left, scope)
    right = ck.check(node.right, scope)
    op = node.op
    if op in ("and", "or"):
        return _logic(ck, node, left, right)
    if op in ("eq", "ne"):
        return _equality(ck, node, left, right)
    if op in ("lt", "le", "gt", "ge"):
        return _ordering(ck, node, left, right)
    if op in ("in", "not_in"):
        return _membership(ck, node, left, right)
    if op == "coalesce":
        joined = unify(left.type, right.type)
        if joined is None:
            return ck.error(
                node.start,
                node.end,
                f"both sides of '??' must have the same type, not {left.type} and {right.type}",
                "the right side is the value used when the left side is null",
            )
        return BBinary("coalesce", left, right, joined, left.nullable and right.nullable)
    if op == "add":
        return _add(ck, node, left, right)
    return _arithmetic(ck, node, left, right)


def _logic(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    from dsl._checker import convert_hint

    for side, bound in ((node.left, left), (node.right, right)):
        if not BOOLEAN.accepts(bound.type):
            return ck.error(
                side.start,
                side.end,
                f"'{node.symbol}' needs a boolean on each side, got {bound.type}",
                convert_hint(BOOLEAN, bound.type, ck.text_of(side)),
            )
    return BBinary(node.op, left, right, BOOLEAN, False)


def _equality(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    lt, rt = left.type, right.type
    if not comparable(lt, rt):
        return ck.error(node.start, node.end, f"cannot compare {lt} with {rt}", _compare_hint(lt, rt))
    if not (is_loose(lt) or is_loose(rt)) and lt.kind not in EQUATABLE_KINDS:
        return ck.error(
            node.start,
            node.end,
            f"cannot compare {_plural(lt)} with '{node.symbol}'",
            "compare one of their fields, or compare with null",
        )
    return BBinary(node.op, left, right, BOOLEAN, False)


def _ordering(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    lt, rt = left.type, right.type
    for t in (lt, rt):
        if not is_loose(t) and t.kind not in ORDERED_KINDS:
            return ck.error(
                node.start,
                node.end,
                f"cannot order {_plural(t)} with '{node.symbol}'",
                "only numbers, text, dates, times and datetimes have an order; use '==' or '!='",
            )
    if not comparable(lt, rt):
        return ck.error(node.start, node.end, f"cannot compare {lt} with {rt}", _compare_hint(lt, rt))
    return BBinary(node.op, left, right, BOOLEAN, False)


def _membership(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    lt, rt = left.type, right.type
    if not is_loose(rt) and rt.kind is not Kind.LIST:
        hint = (
            "to look for text inside text use contains(text, part)"
            if rt.kind is Kind.TEXT
            else "write a list such as ['a', 'b'], or use a select_many field"
        )
        return ck.error(
            node.right.start, node.right.end, f"'{node.symbol}' needs a list on the right, got {rt}", hint
        )
    item = rt.item if rt.kind is Kind.LIST and rt.item is not None else ANY
    if not comparable(lt, item):
        return ck.error(
            node.start,
            node.end,
            f"cannot look for {_a_value(lt)} in a {rt}",
            "the value and the list items must have the same type",
        )
    return BBinary(node.op, left, right, BOOLEAN, False)


def _a_value(t: Type) -> str:
    word = str(t)
    if t.kind is Kind.LIST:
        return f"a {word}"
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _compare_hint(a: Type, b: Type) -> str | None:
    kinds = {a.kind, b.kind}
    if kinds == {Kind.TEXT, Kind.NUMBER}:
        return "convert one side: number(text) or text(number)"
    if kinds == {Kind.DATE, Kind.DATETIME}:
        return "convert the datetime with date(...)"
    if Kind.LIST in kinds:
        return "to test membership use 'in': value in list"
    return "both sides must have the same type"


def _add(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    lt, rt = left.type, right.type
    kinds = {lt.kind, rt.kind} - {Kind.NULL}
    if Kind.ANY in kinds:
        result = TEXT if Kind.TEXT in kinds else ANY
        return BBinary("add", left, right, result, True)
    if not kinds:
        return BBinary("add", left, right, NULL, True)
    if kinds == {Kind.NUMBER}:
        return BBinary("add", left, right, NUMBER, left.nullable or right.nullable)
    if kinds == {Kind.TEXT}:
        # Its own operator: the browser cannot tell "text + null" from "number + null" at run time.
        return BBinary("concat", left, right, TEXT, False)
    if kinds & {Kind.DATE, Kind.DATETIME, Kind.TIME} and kinds <= {
        Kind.DATE,
        Kind.DATETIME,
        Kind.TIME,
        Kind.NUMBER,
    }:
        hint = "use add_days(date, n)" if Kind.DATE in kinds else "use add_hours(datetime, n) or add_minutes"
        return ck.error(node.start, node.end, f"cannot add {lt} and {rt} with '+'", hint)
    if kinds == {Kind.TEXT, Kind.NUMBER}:
        return ck.error(
            node.start,
            node.end,
            f"cannot add {lt} and {rt} with '+'",
            "convert the number to text first: 'No. ' + text(n)",
        )
    return ck.error(
        node.start,
        node.end,
        f"cannot add {lt} and {rt} with '+'",
        "'+' adds two numbers or joins two texts",
    )


def _arithmetic(ck: Checker, node: Binary, left: Bound, right: Bound) -> Bound:
    lt, rt = left.type, right.type
    for side, t in ((node.left, lt), (node.right, rt)):
        if not NUMBER.accepts(t):
            hint = None
            if node.op == "sub" and t.kind in (Kind.DATE, Kind.DATETIME):
                hint = "use days_between(from, to) or add_days(date, -n)"
            return ck.error(
                side.start,
                side.end,
                f"cannot {_ARITHMETIC[node.op]} {_plural(t)} with '{node.symbol}'",
                hint or f"'{node.symbol}' works on numbers only",
            )
    result = ANY if Kind.ANY in (lt.kind, rt.kind) else NUMBER
    # Division and remainder by zero give null, so they may be null even with non-null operands.
    nullable = left.nullable or right.nullable or node.op in ("div", "mod")
    return BBinary(node.op, left, right, result, nullable)


__all__ = ["check_binary", "check_unary"]
