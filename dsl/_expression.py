"""Compiling an expression: parse, check, compile to closures and export the IR, in one call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dsl._bound import Bound
from dsl._checker import Checker
from dsl._compiler import compile_bound
from dsl._env import Env
from dsl._errors import DefinitionError
from dsl._functions import FunctionLibrary
from dsl._ir import to_ir
from dsl._library import default_library
from dsl._locate import Locator
from dsl._parser import parse_located
from dsl._source import Position
from dsl._types import Scope, Type
from dsl._yaml import YScalar

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class CompiledExpression:
    """A checked, compiled expression. Call it with an :class:`Env` to evaluate it.

    ``references`` names every field, group and repeat the expression reads (each segment of a
    dotted path); ``uses_clock`` is set when it calls ``today()`` or ``now()``, so its value can
    change without any answer changing; ``ir`` is the JSON tree the browser runtime evaluates.

    ``expr.__call__`` is the compiled closure itself: a loop that evaluates one expression many
    times can take it once and call it directly, skipping the cost of calling an object.
    """

    source: str
    type: Type
    references: frozenset[str]
    uses_clock: bool
    ir: Any
    # The closure itself sits in the instance slot named __call__: calling the object then runs
    # it with no Python-level method in between (a def __call__ costs more than most closures).
    __call__: Callable[[Env], Any] = field(repr=False)


@functools.cache
def shared_library() -> FunctionLibrary:
    # Never handed out, so never mutated: callers who want a library get their own copy.
    return default_library()


def compile_expression(
    source: str,
    scope: Scope,
    *,
    node: YScalar | None = None,
    position: Position | None = None,
    expect: Type | None = None,
    library: FunctionLibrary | None = None,
) -> CompiledExpression:
    """Parse, type-check and compile ``source`` in ``scope``.

    ``node`` is the YAML scalar the text came from (diagnostics point into it); otherwise
    ``position`` is where the text starts. With ``expect``, the result type must be accepted by
    it ("expected a boolean, got text"). Raises :class:`DefinitionError` and nothing else.
    """
    where = Locator(source if isinstance(source, str) else "", node, position)
    bound, checker = guarded(lambda: check_located(source, scope, where, library, expect), where)
    fn, ir = guarded(lambda: (compile_bound(bound), to_ir(bound)), where)
    return CompiledExpression(source, bound.type, frozenset(checker.references), checker.uses_clock, ir, fn)


def check_located(
    source: str,
    scope: Scope,
    where: Locator,
    library: FunctionLibrary | None,
    expect: Type | None = None,
    checker: Checker | None = None,
) -> tuple[Bound, Checker]:
    """Parse and check ``source``; errors are recorded in ``checker`` (raised if it is new)."""
    tree = parse_located(source, where)
    own = checker is None
    if checker is None:
        checker = Checker(source, where, library if library is not None else shared_library())
    else:
        checker.source, checker.where = source, where
    bound = checker.check(tree, scope)
    if expect is not None:
        bound = checker.expect(bound, tree, expect)
    if own:
        checker.diagnostics.raise_if_errors()
    return bound, checker


def guarded(work: Callable[[], T], where: Locator | None = None) -> T:
    """Run ``work()``; anything but a :class:`DefinitionError` becomes one (never a raw exception)."""
    try:
        return work()
    except DefinitionError:
        raise
    except RecursionError:
        raise DefinitionError.at(
            where.at(0) if where is not None else None,
            "the expression is nested too deeply",
            "split it into calculate fields",
            code="too-deep",
        ) from None
    except Exception as error:  # the contract: only DefinitionError escapes, whatever the input
        raise DefinitionError.at(
            where.at(0) if where is not None else None,
            f"this expression cannot be compiled (internal error: {type(error).__name__}: {error})",
            "please report this with the expression",
            code="internal",
        ) from error


__all__ = ["CompiledExpression", "check_located", "compile_expression", "guarded", "shared_library"]
