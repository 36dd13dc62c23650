"""String templates: text with ``{{ expr }}`` holes, in the same typed language as expressions.

A hole holds one expression, rendered with the rules of :func:`dsl._render.render` (null is empty
text, 3.0 is "3", booleans are "yes"/"no", ...). A ``{{`` inside a quoted string inside a hole does
not end or start anything; a literal ``{{`` in the text is written ``{{ '{{' }}``. A template with
no holes is plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from dsl._bound import Bound
from dsl._checker import Checker
from dsl._compiler import compile_bound
from dsl._env import Env
from dsl._errors import DefinitionError, Diagnostics
from dsl._expression import check_located, guarded, shared_library
from dsl._functions import FunctionLibrary
from dsl._ir import to_ir
from dsl._locate import Locator
from dsl._render import render
from dsl._source import Position
from dsl._types import TEXT, Scope, Type
from dsl._yaml import YScalar

MAX_TEMPLATE_LENGTH = 100_000
"""Longest template text accepted, in characters."""


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTemplate:
    """A checked, compiled template. Call it with an :class:`Env` to render it as text.

    ``references``, ``uses_clock`` and ``ir`` are as for :class:`dsl.CompiledExpression`; the IR
    is ``["template", part, ...]`` where a part is a JSON string (literal text) or an expression
    IR array (a hole, rendered as text).
    """

    source: str
    type: Type
    references: frozenset[str]
    uses_clock: bool
    ir: Any
    __call__: Callable[[Env], str] = field(repr=False)


def split_template(source: str, where: Locator) -> list[tuple[int, str, bool]]:
    """The parts of a template as (offset, text, is_hole); a hole's text excludes the braces."""
    parts: list[tuple[int, str, bool]] = []
    i, n = 0, len(source)
    text_start = 0
    while i < n:
        start = source.find("{{", i)
        if start < 0:
            break
        if start > text_start:
            parts.append((text_start, source[text_start:start], False))
        end = _hole_end(source, start + 2)
        if end < 0:
            raise DefinitionError.at(
                where.at(start, start + 2),
                "'{{' is never closed",
                "end the expression with '}}'; write a literal '{{' as {{ '{{' }}",
                code="syntax",
            )
        parts.append((start + 2, source[start + 2 : end], True))
        i = text_start = end + 2
    if text_start < n:
        parts.append((text_start, source[text_start:], False))
    return parts


def _hole_end(source: str, i: int) -> int:
    """The offset of the ``}}`` closing a hole that starts at ``i``, or -1; quotes are skipped."""
    quote: str | None = None
    n = len(source)
    while i < n:
        ch = source[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "}" and source.startswith("}}", i):
            return i
        i += 1
    return -1


def compile_template(
    source: str,
    scope: Scope,
    *,
    node: YScalar | None = None,
    position: Position | None = None,
    library: FunctionLibrary | None = None,
) -> CompiledTemplate:
    """Check and compile a template; every hole's errors are reported together.

    Raises :class:`DefinitionError` and nothing else.
    """
    if not isinstance(source, str):
        raise DefinitionError.at(
            position if node is None else node.pos, "a template must be text", code="syntax"
        )
    where = Locator(source, node, position)
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise DefinitionError.at(
            where.at(0), f"the template is too long ({len(source)} characters; at most {MAX_TEMPLATE_LENGTH})"
        )
    lib = library if library is not None else shared_library()
    parts = guarded(lambda: split_template(source, where), where)
    checker = Checker(source, where, lib)
    diagnostics = Diagnostics()
    bound_parts: list[str | Bound] = []
    for offset, text, is_hole in parts:
        if not is_hole:
            bound_parts.append(text)
            continue
        hole_where = where.shifted(offset)
        try:
            bound, _ = guarded(
                partial(check_located, text, scope, hole_where, lib, None, checker), hole_where
            )
        except DefinitionError as error:
            diagnostics.absorb(error)
            continue
        bound_parts.append(bound)
    diagnostics.extend(checker.diagnostics)
    diagnostics.raise_if_errors()
    fn = guarded(lambda: _render_closure(bound_parts), where)
    ir: list[Any] = ["template", *(p if isinstance(p, str) else to_ir(p) for p in bound_parts)]
    return CompiledTemplate(source, TEXT, frozenset(checker.references), checker.uses_clock, ir, fn)


def _render_closure(parts: list[str | Bound]) -> Callable[[Env], str]:
    pieces: list[str | Callable[[Env], Any]] = [p if isinstance(p, str) else compile_bound(p) for p in parts]
    if not pieces:
        return lambda env: ""
    if len(pieces) == 1:
        only = pieces[0]
        if isinstance(only, str):
            return lambda env: only
        return lambda env: render(only(env))
    frozen = tuple(pieces)

    def run(env: Env) -> str:
        return "".join(p if isinstance(p, str) else render(p(env)) for p in frozen)

    return run


__all__ = ["MAX_TEMPLATE_LENGTH", "CompiledTemplate", "compile_template", "split_template"]
