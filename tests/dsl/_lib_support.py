"""Shared helpers for the function-library tests (test_lib_*.py).

``apply`` applies a function the way compiled code does. ``well_typed_calls`` is a Hypothesis
strategy for calls whose argument *types* the function's own type rule accepts but whose
*values* are anything of those types (NaN, huge numbers, year 1 and 9999, odd zones, nulls), so
a test can check that no well-typed call raises. ``evaluate``, ``compile_error`` and
``examples`` go through the public ``compile_expression`` with the default library.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import strategies as st

from dsl import DefinitionError, Env, compile_expression
from dsl._functions import ArgTypeError, Function
from dsl._types import (
    DATE,
    DATETIME,
    NULL,
    NUMBER,
    TEXT,
    TIME,
    Kind,
    RecordType,
    Scope,
    Symbol,
    Type,
    list_of,
)

LONDON = ZoneInfo("Europe/London")
_ZONES = st.sampled_from(
    [dt.UTC, LONDON, dt.timezone(dt.timedelta(hours=14)), dt.timezone(dt.timedelta(hours=-12))]
)
_CANDIDATES = (TEXT, NUMBER, DATE, DATETIME, TIME, list_of(TEXT), list_of(NUMBER), list_of(DATE), NULL)


@dataclass(frozen=True)
class FakeEnv:
    """The two attributes a clock function reads from the evaluation environment."""

    now: dt.datetime
    tz: dt.tzinfo = LONDON


def apply(fn: Function, *args: Any) -> Any:
    """Call ``fn`` as the compiled code does: a null-propagating call with a null skips the impl."""
    if fn.propagate_null and any(a is None for a in args):
        return None
    if fn.uses_clock:
        return fn.impl(FakeEnv(now=dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC)), *args)
    return fn.impl(*args)


def caller(functions: Sequence[Function]) -> Callable[..., Any]:
    """``apply`` by function name, over ``functions``."""
    by_name = {f.name: f for f in functions}

    def by_name_call(name: str, *args: Any) -> Any:
        return apply(by_name[name], *args)

    return by_name_call


def values(t: Type) -> st.SearchStrategy[Any]:
    """Any runtime value of static type ``t`` (or null)."""
    if t.kind is Kind.LIST and t.item is not None:
        return st.none() | st.lists(values(t.item), max_size=4)
    base: dict[Kind, st.SearchStrategy[Any]] = {
        Kind.TEXT: st.text(max_size=30),
        Kind.NUMBER: st.integers() | st.floats() | st.sampled_from([0, -1, 10**30, 0.5, -2.5]),
        Kind.DATE: st.dates() | st.sampled_from([dt.date.min, dt.date.max, dt.date(2024, 2, 29)]),
        Kind.DATETIME: st.datetimes(timezones=_ZONES),
        Kind.TIME: st.times(),
    }
    return st.none() | base.get(t.kind, st.none())


def _accepted(fn: Function) -> list[tuple[Type, ...]]:
    """Every combination of candidate argument types the function's type rule accepts."""
    most = min(fn.max_args if fn.max_args is not None else 3, 3)
    combos = []
    for arity in range(fn.min_args, most + 1):
        for types in itertools.product(_CANDIDATES, repeat=arity):
            try:
                fn.check(list(types))
            except ArgTypeError:
                continue
            combos.append(types)
    return combos


WellTyped = tuple[Function, Type, list[Any]]


def well_typed_calls(functions: Sequence[Function]) -> st.SearchStrategy[WellTyped]:
    """A function, the result type its rule gives, and argument values of accepted types."""
    options = [(fn, types) for fn in functions for types in _accepted(fn)]
    return st.sampled_from(options).flatmap(
        lambda pair: st.tuples(
            st.just(pair[0]),
            st.just(pair[0].check(list(pair[1]))),
            st.tuples(*(values(t) for t in pair[1])).map(list),
        )
    )


def conforms(value: Any, t: Type) -> bool:
    """Whether a runtime value is null or a value of static type ``t`` (NaN is not a number)."""
    if value is None or t.kind is Kind.ANY:
        return True
    if t.kind is Kind.LIST:
        return isinstance(value, list) and (t.item is None or all(conforms(v, t.item) for v in value))
    if t.kind is Kind.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if t.kind is Kind.DATE:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if t.kind is Kind.DATETIME:
        return isinstance(value, dt.datetime) and value.tzinfo is not None
    kinds: dict[Kind, type] = {Kind.TEXT: str, Kind.BOOLEAN: bool, Kind.TIME: dt.time}
    return t.kind in kinds and isinstance(value, kinds[t.kind])


# --- End to end: through the public compile_expression ------------------------------------------

NOW = dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC)
"""The clock for end-to-end tests: already 1 July in London (00:30 BST)."""

_EXAMPLE = re.compile(r"(?P<expr>.+?) → (?P<result>.+?)(?: \((?P<remark>[^()]*)\))?")


def scope(fields: Mapping[str, Type]) -> Scope:
    """A one-frame scope whose fields are top-level answers of the given types."""
    return Scope.of(RecordType.of({name: Symbol(name, t, (name,)) for name, t in fields.items()}))


def evaluate(
    source: str,
    fields: Mapping[str, Type] | None = None,
    answers: Mapping[str, Any] | None = None,
    now: dt.datetime = NOW,
) -> Any:
    """Compile ``source`` with the default library over ``fields`` and evaluate it on ``answers``."""
    compiled = compile_expression(source, scope(fields or {}))
    return compiled(Env.of(dict(answers or {}), now=now))


def compile_error(source: str, fields: Mapping[str, Type] | None = None) -> DefinitionError:
    """The DefinitionError compiling ``source`` raises (fails the test if it compiles)."""
    with pytest.raises(DefinitionError) as caught:
        compile_expression(source, scope(fields or {}))
    return caught.value


def examples(functions: Sequence[Function]) -> list[tuple[str, str, str]]:
    """(name, expression, expected-result expression) from each function's documented example."""
    cases = []
    for fn in functions:
        found = _EXAMPLE.fullmatch(fn.example)
        if found is None:
            raise ValueError(f"{fn.name}: example {fn.example!r} is not 'expr → result'")
        cases.append((fn.name, found["expr"], found["result"]))
    return cases


def same_value(got: Any, want: Any) -> bool:
    """Equal values of the same kind (Python's ``True == 1`` and ``date == datetime`` do not count)."""

    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int | float):
            return "number"
        return type(v).__name__

    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(same_value(g, w) for g, w in zip(got, want, strict=True))
    return kind(got) == kind(want) and bool(got == want)
