"""Number functions of the expression language: round, floor, ceil, abs, min, max, int.

Rounding is the way a person rounds on paper, half away from zero (``round(2.5)`` is 3 and
``round(-2.5)`` is -3), not Python's round-half-to-even, and it works on the shortest decimal
form of a float (its ``repr``) so ``round(2.675, 2)`` is 2.68 even though the binary float is
slightly below 2.675. A number that is not finite (NaN or infinity, which only overflow can make)
is treated as no answer: every function here gives null for it rather than raising.

``whole_number`` and ``finite`` are shared with the date and text modules, which take counts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from dsl._functions import ArgTypeError, Function, TypeRule, describe, fixed
from dsl._types import NULL, NUMBER, Kind, Type

# Beyond this many places a float has no digits left to round; the cap also bounds the work.
_MAX_PLACES = 400
_ORDERED = (Kind.NUMBER, Kind.DATE, Kind.DATETIME, Kind.TIME)


def finite(value: Any) -> bool:
    """True for an int, or a float that is neither NaN nor infinite (bool is not a number)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def whole_number(value: Any) -> int | None:
    """``value`` truncated toward zero to an int, or None when it is not a finite number."""
    if not finite(value):
        return None
    return int(value)


def _round(x: Any, places: Any = 0) -> int | float | None:
    digits = whole_number(places)
    if not finite(x) or digits is None:
        return None
    if isinstance(x, int):
        return _round_int(x, digits)
    if digits >= _MAX_PLACES:
        return float(x)
    digits = max(digits, -_MAX_PLACES)
    with localcontext() as ctx:
        ctx.prec = 2 * _MAX_PLACES
        try:
            rounded = Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # the precision above should make this unreachable; stay total
            return None
    if digits <= 0:
        return int(rounded)
    result = float(rounded) + 0.0  # + 0.0 turns -0.0 (from rounding -0.001) into 0.0
    return result if math.isfinite(result) else None


def _round_int(x: int, digits: int) -> int:
    """Round an int to ``digits`` places (only negative places change it), half away from zero."""
    if digits >= 0:
        return x
    if -digits > len(str(abs(x))):
        return 0
    unit = int(10 ** (-digits))
    quotient, remainder = divmod(abs(x), unit)
    if 2 * remainder >= unit:
        quotient += 1
    return quotient * unit if x >= 0 else -quotient * unit


def _floor(x: Any) -> int | None:
    if isinstance(x, int) or not finite(x):
        return whole_number(x)
    return math.floor(float(x))


def _ceil(x: Any) -> int | None:
    if isinstance(x, int) or not finite(x):
        return whole_number(x)
    return math.ceil(float(x))


def _abs(x: Any) -> int | float | None:
    return abs(x) if finite(x) else None


def _int(x: Any) -> int | None:
    return whole_number(x)


def _extreme_rule(name: str) -> TypeRule:
    """Type rule for min/max: several numbers, dates, datetimes or times, or one list of them."""

    def rule(args: Sequence[Type]) -> Type:
        if len(args) == 1 and args[0].kind is Kind.LIST:
            item = args[0].item
            if item is None or item.kind in (Kind.NULL, Kind.ANY):
                return NULL if item is None else item
            if item.kind not in _ORDERED:
                raise ArgTypeError(
                    f"{name}() needs a list of numbers, dates, datetimes or times, not a {args[0]}",
                    0,
                )
            return item
        found: Type | None = None
        for index, arg in enumerate(args):
            if arg.kind in (Kind.NULL, Kind.ANY):
                continue
            if arg.kind is Kind.LIST:
                raise ArgTypeError(
                    f"{name}() takes one list or several values, not a {arg} among other arguments",
                    index,
                    hint=f"use {name}() on the list alone",
                )
            if arg.kind not in _ORDERED:
                raise ArgTypeError(
                    f"{name}() compares numbers, dates, datetimes or times, not {describe(arg)}", index
                )
            if found is None:
                found = arg
            elif found.kind is not arg.kind:
                raise ArgTypeError(f"{name}() cannot mix {describe(found)} with {describe(arg)}", index)
        return found if found is not None else NULL

    return rule


def _extreme(pick: Any, args: tuple[Any, ...]) -> Any:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    present = [v for v in values if v is not None]
    if not present:
        return None
    if any(isinstance(v, float) and not math.isfinite(v) for v in present):
        return None
    # Values of one static type are comparable; this guards answers of the wrong runtime type.
    if len({_order_kind(v) for v in present}) != 1:
        return None
    try:
        return pick(present)
    except TypeError:  # the kind check above should make this unreachable; stay total
        return None


def _order_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.datetime):
        return "naive" if value.tzinfo is None else "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return type(value).__name__


def _min(*args: Any) -> Any:
    return _extreme(min, args)


def _max(*args: Any) -> Any:
    return _extreme(max, args)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="round",
        category="numbers",
        signature="round(x: number, places?: number) -> number",
        summary="Round to `places` decimal places (default 0), halves away from zero as on paper.",
        example="round(2.675, 2) → 2.68",
        min_args=1,
        max_args=2,
        check=fixed([NUMBER, NUMBER], NUMBER),
        impl=_round,
    ),
    Function(
        name="floor",
        category="numbers",
        signature="floor(x: number) -> number",
        summary="The largest whole number not above x.",
        example="floor(-2.5) → -3",
        min_args=1,
        max_args=1,
        check=fixed([NUMBER], NUMBER),
        impl=_floor,
    ),
    Function(
        name="ceil",
        category="numbers",
        signature="ceil(x: number) -> number",
        summary="The smallest whole number not below x.",
        example="ceil(2.1) → 3",
        min_args=1,
        max_args=1,
        check=fixed([NUMBER], NUMBER),
        impl=_ceil,
    ),
    Function(
        name="abs",
        category="numbers",
        signature="abs(x: number) -> number",
        summary="x without its sign.",
        example="abs(-4.5) → 4.5",
        min_args=1,
        max_args=1,
        check=fixed([NUMBER], NUMBER),
        impl=_abs,
    ),
    Function(
        name="min",
        category="numbers",
        signature="min(values: number|date|datetime|time..., or one list of them) -> same type",
        summary="The smallest of several values or of one list; nulls are skipped (all null gives null).",
        example="min(3, null, 1.5) → 1.5",
        min_args=1,
        max_args=None,
        check=_extreme_rule("min"),
        impl=_min,
        propagate_null=False,
    ),
    Function(
        name="max",
        category="numbers",
        signature="max(values: number|date|datetime|time..., or one list of them) -> same type",
        summary="The largest of several values or of one list; nulls are skipped (all null gives null).",
        example="max(@2024-01-31, @2023-12-25) → @2024-01-31",
        min_args=1,
        max_args=None,
        check=_extreme_rule("max"),
        impl=_max,
        propagate_null=False,
    ),
    Function(
        name="int",
        category="numbers",
        signature="int(x: number) -> number",
        summary="The whole-number part of x, truncated toward zero.",
        example="int(-2.7) → -2",
        min_args=1,
        max_args=1,
        check=fixed([NUMBER], NUMBER),
        impl=_int,
    ),
)

__all__ = ["FUNCTIONS", "finite", "whole_number"]
