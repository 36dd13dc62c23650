"""The function-library machinery: how a function declares its signature and implementation.

Each :class:`Function` states its arity, a type rule (argument types in, result type out) used by
the checker at load time, and a Python implementation used by the compiled closures. The browser
runtime implements the same functions under the same names; the conformance file keeps both in step.

Null handling is declared, not improvised: with ``propagate_null`` (the default) a call with any
null argument gives null without calling the implementation, which is what an author predicts for
``upper(null)`` or ``add_days(null, 3)``. Functions with their own rule (``len(null)`` is 0,
``coalesce``, ``if``) set it to False and receive ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dsl._types import ANY, Kind, Type


class ArgTypeError(Exception):
    """Raised by a type rule: argument ``index`` (or the call, when None) has the wrong type."""

    def __init__(self, message: str, index: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.hint = hint


TypeRule = Callable[[Sequence[Type]], Type]


@dataclass(frozen=True, slots=True)
class Function:
    """One function of the expression language.

    ``impl`` takes the evaluated arguments as Python values. When ``uses_clock`` is set it is
    called as ``impl(env, *args)``, where ``env`` gives ``env.now`` (an aware datetime) and
    ``env.tz`` (the zone ``today()`` is taken in). When ``scoped_arg`` is set (``any``, ``all``,
    ``count``), argument 0 is a repeat and the argument at ``scoped_arg`` is not evaluated up front:
    the implementation receives a callable that evaluates it for one item.
    """

    name: str
    signature: str
    summary: str
    example: str
    min_args: int
    max_args: int | None
    check: TypeRule
    impl: Callable[..., Any]
    propagate_null: bool = True
    uses_clock: bool = False
    scoped_arg: int | None = None
    category: str = "other"


def fixed(params: Sequence[Type], returns: Type) -> TypeRule:
    """A type rule for a function whose parameters have fixed types (null always accepted)."""

    def rule(args: Sequence[Type]) -> Type:
        for index, (want, got) in enumerate(zip(params, args, strict=False)):
            if not want.accepts(got):
                raise ArgTypeError(f"argument {index + 1} must be {_article(want)}, not {got}", index)
        return returns

    return rule


def _article(t: Type) -> str:
    if t.kind is Kind.ANY:
        return "any value"
    if t.kind is Kind.LIST:
        return f"a {t}"
    word = str(t)
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def describe(t: Type) -> str:
    """A type with its article, for messages ("a date", "an attachment")."""
    return _article(t)


class FunctionLibrary:
    """A set of functions by name. Each compile uses one library; nothing is global and mutable."""

    def __init__(self, functions: Iterable[Function] = ()) -> None:
        self._functions: dict[str, Function] = {}
        for function in functions:
            self.register(function)

    def register(self, function: Function) -> None:
        """Add ``function``; a second function with the same name is a programming error."""
        if function.name in self._functions:
            raise ValueError(f"function {function.name!r} is already registered")
        if function.max_args is not None and function.max_args < function.min_args:
            raise ValueError(f"function {function.name!r} has max_args < min_args")
        self._functions[function.name] = function

    def get(self, name: str) -> Function | None:
        """The function called ``name``, or None."""
        return self._functions.get(name)

    def names(self) -> list[str]:
        """All function names, sorted."""
        return sorted(self._functions)

    def __iter__(self) -> Iterator[Function]:
        return iter(sorted(self._functions.values(), key=lambda f: f.name))

    def __len__(self) -> int:
        return len(self._functions)


__all__ = ["ANY", "ArgTypeError", "Function", "FunctionLibrary", "TypeRule", "describe", "fixed"]
