"""Turning character offsets in an expression into source positions for diagnostics.

An expression usually comes from a YAML scalar: :meth:`YScalar.position_at` maps an offset in the
scalar's text to a line and column in the file. Without a scalar, a base :class:`Position` is
shifted by the offset; without either, positions point into a synthetic source holding the
expression itself, so the caret still underlines the right characters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dsl._source import Position, Source
from dsl._yaml import YScalar


@dataclass(frozen=True, slots=True)
class Locator:
    """Maps offsets into positions; ``text`` is the whole scalar (or template) text.

    ``shift`` is where the expression being parsed starts inside ``text`` (non-zero for the
    holes of a template), so callers use offsets relative to their own expression.
    """

    text: str
    node: YScalar | None = None
    base: Position | None = None
    shift: int = 0

    def shifted(self, offset: int) -> Locator:
        """A locator for an expression that starts ``offset`` characters further on."""
        return replace(self, shift=self.shift + offset)

    def at(self, start: int, end: int | None = None) -> Position:
        """The position of characters ``start:end`` of the expression, spanning them on one line."""
        text = self.text
        start = max(0, min(start + self.shift, len(text)))
        stop = start + 1 if end is None else max(end + self.shift, start + 1)
        newline = text.find("\n", start, stop)
        if newline >= 0:
            stop = max(newline, start + 1)
        width = stop - start
        if self.node is not None:
            pos = self.node.position_at(start)
            if start and pos == self.node.pos:
                return pos  # position_at fell back to the scalar's start: no precise column
            return pos.span(width)
        before = text[:start]
        lines = before.count("\n")
        column = start - (before.rfind("\n") + 1) + 1
        if self.base is not None:
            if lines == 0:
                return Position(self.base.source, self.base.line, self.base.column + start).span(width)
            return Position(self.base.source, self.base.line + lines, column).span(width)
        return Position(Source("<expression>", text), lines + 1, column).span(width)
