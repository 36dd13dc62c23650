"""Core functions: logic, null handling, repeats and choices, and conversions.

``if`` and ``coalesce`` are evaluated lazily by the compiler (only the branch taken runs); their
``impl`` here is the same rule applied to evaluated arguments, used when folding constants.
``count``, ``any`` and ``all`` are scoped: their condition is checked once per item of a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from dsl._functions import ArgTypeError, Function, fixed
from dsl._render import render
from dsl._types import ANY, BOOLEAN, NUMBER, TEXT, Kind, Type, list_of
from dsl._typing_rules import unify, unify_all

_NUMBER_TEXT = re.compile(r"\s*(-?[0-9]+)(\.[0-9]+)?\s*")  # ASCII digits only, as in the browser


def _if_rule(args: Sequence[Type]) -> Type:
    if not BOOLEAN.accepts(args[0]):
        raise ArgTypeError(f"the condition must be a boolean, not {args[0]}", 0)
    joined = unify(args[1], args[2])
    if joined is None:
        raise ArgTypeError(
            f"both results must have the same type, not {args[1]} and {args[2]}",
            2,
            "convert one of them, e.g. text(n)",
        )
    return joined


def if_(cond: Any, then: Any, otherwise: Any) -> Any:
    """``then`` when ``cond`` is true; ``otherwise`` when it is false or null."""
    return then if cond is True else otherwise


def _coalesce_rule(args: Sequence[Type]) -> Type:
    joined = unify_all(list(args))
    if joined is None:
        raise ArgTypeError("all arguments must have the same type", None, "convert them, e.g. text(n)")
    return joined


def coalesce(*args: Any) -> Any:
    """The first argument that is not null (null when all are)."""
    for value in args:
        if value is not None:
            return value
    return None


def _list_arg(name: str, t: Type) -> None:
    if t.kind not in (Kind.LIST, Kind.NULL, Kind.ANY):
        raise ArgTypeError(
            f"argument 1 must be a list or a repeat, not {t}", 0, f"{name}() counts the items of a list"
        )


def _condition_arg(args: Sequence[Type]) -> None:
    if len(args) > 1 and not BOOLEAN.accepts(args[1]):
        raise ArgTypeError(f"the condition must be a boolean, not {args[1]}", 1)


def _count_rule(args: Sequence[Type]) -> Type:
    _list_arg("count", args[0])
    _condition_arg(args)
    return NUMBER


def count(items: Any, pred: Callable[[Any], Any] | None = None) -> int:
    """The number of items (of a repeat: those for which ``pred`` is true); 0 for null."""
    if items is None:
        return 0
    if pred is None:
        return len(items)
    return sum(1 for item in items if pred(item) is True)


def _quantifier_rule(args: Sequence[Type]) -> Type:
    _list_arg("any", args[0])
    _condition_arg(args)
    return BOOLEAN


def any_(items: Any, pred: Callable[[Any], Any]) -> bool:
    """True when ``pred`` is true for at least one item; false for none or null."""
    return items is not None and any(pred(item) is True for item in items)


def all_(items: Any, pred: Callable[[Any], Any]) -> bool:
    """True when ``pred`` is true for every item; true for no items or null."""
    return items is None or all(pred(item) is True for item in items)


def _sum_rule(args: Sequence[Type]) -> Type:
    t = args[0]
    if t.kind in (Kind.NULL, Kind.ANY):
        return NUMBER
    if t.kind is not Kind.LIST or (t.item is not None and not NUMBER.accepts(t.item)):
        raise ArgTypeError(f"argument 1 must be a list of number, not {t}", 0, "sum(children.age)")
    return NUMBER


def sum_(items: Any) -> int | float:
    """The total of the numbers in a list, skipping nulls; 0 for an empty list or null."""
    if items is None:
        return 0
    total: int | float = sum(v for v in items if v is not None)
    return total


def selected(choices: Any, value: Any) -> bool:
    """True when ``value`` is one of the chosen options of a select_many answer."""
    return choices is not None and value is not None and value in choices


def count_selected(choices: Any) -> int:
    """How many options of a select_many answer are chosen; 0 for null."""
    return 0 if choices is None else len(choices)


def _len_rule(args: Sequence[Type]) -> Type:
    if args[0].kind not in (Kind.TEXT, Kind.LIST, Kind.NULL, Kind.ANY):
        raise ArgTypeError(f"argument 1 must be text or a list, not {args[0]}", 0)
    return NUMBER


def len_(value: Any) -> int:
    """The number of characters of a text or items of a list; 0 for null."""
    return 0 if value is None else len(value)


def text(value: Any) -> str:
    """``value`` written as text, exactly as a template would show it."""
    return render(value)


def _number_rule(args: Sequence[Type]) -> Type:
    if args[0].kind not in (Kind.TEXT, Kind.NUMBER, Kind.NULL, Kind.ANY):
        raise ArgTypeError(f"argument 1 must be text, not {args[0]}", 0)
    return NUMBER


def number(value: Any) -> int | float | None:
    """A number read from text such as "12" or "-3.5"; null when the text is not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    m = _NUMBER_TEXT.fullmatch(value)
    if m is None:
        return None
    if m.group(2) is None:
        return int(m.group(1))
    return float(m.group(1) + m.group(2))


def _fn(
    name: str, signature: str, summary: str, example: str, lo: int, hi: int | None, **kw: Any
) -> Function:
    return Function(
        name=name,
        signature=signature,
        summary=summary,
        example=example,
        min_args=lo,
        max_args=hi,
        category=kw.pop("category", "logic"),
        **kw,
    )


FUNCTIONS: tuple[Function, ...] = (
    _fn(
        "if",
        "if(condition: boolean, then: T, else: T) -> T",
        "The second argument when the condition is true, else the third (null counts as false).",
        "if(3 > 2, 'big', 'small') → 'big'",
        3,
        3,
        check=_if_rule,
        impl=if_,
        propagate_null=False,
    ),
    _fn(
        "coalesce",
        "coalesce(value: T, ...) -> T",
        "The first argument that is not null.",
        "coalesce(null, 'none given') → 'none given'",
        1,
        None,
        check=_coalesce_rule,
        impl=coalesce,
        propagate_null=False,
    ),
    _fn(
        "count",
        "count(items: list, condition?: boolean) -> number",
        "How many items a list or repeat has; with a condition, how many repeat items meet it (0 for null).",
        "count(['a', 'b', 'c']) → 3",
        1,
        2,
        check=_count_rule,
        impl=count,
        propagate_null=False,
        scoped_arg=1,
        category="repeats",
    ),
    _fn(
        "any",
        "any(items: repeat, condition: boolean) -> boolean",
        "True when the condition holds for at least one item of the repeat (false when it has none).",
        "any(children, age < 5) → true",
        2,
        2,
        check=_quantifier_rule,
        impl=any_,
        propagate_null=False,
        scoped_arg=1,
        category="repeats",
    ),
    _fn(
        "all",
        "all(items: repeat, condition: boolean) -> boolean",
        "True when the condition holds for every item of the repeat (true when it has none).",
        "all(children, age < 18) → true",
        2,
        2,
        check=_quantifier_rule,
        impl=all_,
        propagate_null=False,
        scoped_arg=1,
        category="repeats",
    ),
    _fn(
        "sum",
        "sum(numbers: list of number) -> number",
        "The total of a list of numbers, skipping nulls; 0 for an empty list.",
        "sum([1, 2, null, 4]) → 7",
        1,
        1,
        check=_sum_rule,
        impl=sum_,
        propagate_null=False,
        category="repeats",
    ),
    _fn(
        "selected",
        "selected(choices: list of text, option: text) -> boolean",
        "True when the option is among the choices of a select_many answer (false for null).",
        "selected(['car', 'van'], 'van') → true",
        2,
        2,
        check=fixed([list_of(TEXT), TEXT], BOOLEAN),
        impl=selected,
        propagate_null=False,
        category="choices",
    ),
    _fn(
        "count_selected",
        "count_selected(choices: list of text) -> number",
        "How many options of a select_many answer are chosen (0 for null).",
        "count_selected(['car', 'van']) → 2",
        1,
        1,
        check=fixed([list_of(TEXT)], NUMBER),
        impl=count_selected,
        propagate_null=False,
        category="choices",
    ),
    _fn(
        "len",
        "len(value: text | list) -> number",
        "The number of characters of a text, or of items of a list (0 for null).",
        "len('Bowen') → 5",
        1,
        1,
        check=_len_rule,
        impl=len_,
        propagate_null=False,
        category="conversion",
    ),
    _fn(
        "text",
        "text(value: any) -> text",
        "The value written as text, as a template shows it (null stays null).",
        "text(3.0) → '3'",
        1,
        1,
        check=fixed([ANY], TEXT),
        impl=text,
        category="conversion",
    ),
    _fn(
        "number",
        "number(value: text) -> number",
        "The number written in a text, such as '12' or '-3.5'; null when it is not a number.",
        "number('12') → 12",
        1,
        1,
        check=_number_rule,
        impl=number,
        category="conversion",
    ),
)

__all__ = ["FUNCTIONS", "all_", "any_", "coalesce", "count", "if_", "number", "text"]
