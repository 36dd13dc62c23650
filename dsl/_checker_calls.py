"""Checking function calls: the function exists, the arity fits, the arguments have the right types.

Scoped functions (``count``, ``any``, ``all``) check their condition in the scope of one item of
the repeat given as their first argument, with the outer names still visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsl._ast import Call, Expr, Literal
from dsl._bound import BCall, BConst, Bound, BScoped
from dsl._errors import did_you_mean
from dsl._functions import ArgTypeError, Function
from dsl._regex import check_portable_regex
from dsl._types import ANY, BOOLEAN, Kind, Scope, Type

if TYPE_CHECKING:
    from dsl._checker import Checker

NEVER_NULL = frozenset(
    {
        "count",
        "any",
        "all",
        "sum",
        "selected",
        "count_selected",
        "len",
        "contains",
        "starts_with",
        "ends_with",
        "matches",
        "is_postcode",
        "is_uk_phone",
        "is_email",
    }
)
"""Functions that always return a value (they have their own rule for null arguments)."""

REGEX_ARGS = {"matches": 1}
"""Functions whose argument at the given index is a regular expression, checked at load time."""


def _arity_message(fn: Function, got: int) -> str:
    lo, hi = fn.min_args, fn.max_args
    plural = "argument" if lo == 1 and hi in (1, None) else "arguments"
    if hi == lo:
        expect = f"{lo} {plural}" if lo else "no arguments"
    elif hi is None:
        expect = f"at least {lo} {plural}"
    else:
        expect = f"{lo} or {hi} arguments" if hi == lo + 1 else f"{lo} to {hi} arguments"
    return f"{fn.name}() takes {expect}, got {got}"


def check_call(ck: Checker, node: Call, scope: Scope) -> Bound:
    """Resolve and type a call."""
    fn = ck.library.get(node.name)
    if fn is None:
        if scope.lookup(node.name) is not None:
            return ck.error(
                node.start,
                node.name_end,
                f"'{node.name}' is a field, not a function",
                "remove the brackets",
                "unknown-function",
            )
        return ck.error(
            node.start,
            node.name_end,
            f"unknown function '{node.name}'",
            did_you_mean(node.name, ck.library.names()) or "the functions are listed in docs/expressions.md",
            "unknown-function",
        )
    count = len(node.args)
    if count < fn.min_args or (fn.max_args is not None and count > fn.max_args):
        return ck.error(node.start, node.end, _arity_message(fn, count), f"see {fn.signature}", "arity")
    if fn.uses_clock:
        ck.uses_clock = True
    if fn.scoped_arg is not None and count > fn.scoped_arg:
        return _scoped(ck, node, fn, scope)
    args = tuple(ck.check(arg, scope) for arg in node.args)
    regex_at = REGEX_ARGS.get(fn.name)
    if regex_at is not None and count > regex_at:
        _check_pattern(ck, node, regex_at)
    return _apply_rule(ck, node, fn, args)


def _apply_rule(ck: Checker, node: Call, fn: Function, args: tuple[Bound, ...]) -> Bound:
    if any(_is_error(a) for a in args):
        return BConst(None, ANY, True)  # already reported: do not pile a second error on it
    try:
        result = fn.check([a.type for a in args])
    except ArgTypeError as problem:
        return _rule_error(ck, node, fn, problem, [a.type for a in args])
    return BCall(fn, args, result, fn.name not in NEVER_NULL)


def _rule_error(ck: Checker, node: Call, fn: Function, problem: ArgTypeError, types: list[Type]) -> Bound:
    """Report a type rule's complaint at the argument it names (or at the whole call)."""
    index = problem.index
    bad: Expr = node
    hint = problem.hint
    if index is not None and 0 <= index < len(node.args):
        bad = node.args[index]
        if hint is None and "boolean" in problem.message and index < len(types):
            from dsl._checker import convert_hint

            hint = convert_hint(BOOLEAN, types[index], ck.text_of(bad))
    return ck.error(bad.start, bad.end, f"{fn.name}(): {problem.message}", hint or f"see {fn.signature}")


def _is_error(bound: Bound) -> bool:
    return isinstance(bound, BConst) and bound.value is None and bound.type.kind is Kind.ANY


def _scoped(ck: Checker, node: Call, fn: Function, scope: Scope) -> Bound:
    index = fn.scoped_arg if fn.scoped_arg is not None else 0
    subject = ck.check(node.args[0], scope)
    st = subject.type
    pred_node = node.args[index]
    if _is_error(subject):
        return subject  # already reported
    if st.kind in (Kind.NULL, Kind.ANY):
        return ck.error(
            node.args[0].start,
            node.args[0].end,
            f"{fn.name}() needs a repeat, got {st}",
            f"the condition is checked once per item of a repeat: {fn.name}(children, age < 5)",
        )
    item = st.item if st.kind is Kind.LIST else None
    if item is None or item.kind is not Kind.RECORD or item.record is None:
        return ck.error(
            node.args[0].start,
            node.args[0].end,
            f"{fn.name}() with a condition needs a repeat as its first argument, got {st}",
            f"the condition is checked once per item of a repeat: {fn.name}(children, age < 5)",
        )
    inner = scope.push(item.record, ck.text_of(node.args[0]))
    frame = len(scope.frames)
    pred = ck.check(pred_node, inner)
    types = [subject.type if i == 0 else pred.type for i in range(len(node.args))]
    if _is_error(pred):
        return pred
    try:
        result = fn.check(types)
    except ArgTypeError as problem:
        return _rule_error(ck, node, fn, problem, types)
    return BScoped(fn, subject, pred, frame, result, fn.name not in NEVER_NULL)


def _check_pattern(ck: Checker, node: Call, index: int) -> None:
    arg = node.args[index]
    if not isinstance(arg, Literal) or arg.kind is not Kind.TEXT or not isinstance(arg.value, str):
        if isinstance(arg, Literal) and arg.kind is Kind.NULL:
            return
        ck.error(
            arg.start,
            arg.end,
            f"the pattern of {node.name}() must be written as text in quotes",
            "a pattern is checked when the definition loads, so it cannot come from an answer",
            "regex",
        )
        return
    problem = check_portable_regex(arg.value)
    if problem is not None:
        ck.error(
            arg.start,
            arg.end,
            f"invalid pattern: {problem}",
            "patterns use the part of regular expression syntax that Python and browsers agree on",
            "regex",
        )


__all__ = ["NEVER_NULL", "REGEX_ARGS", "check_call"]
