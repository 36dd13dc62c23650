"""Source texts and positions inside them.

Every model object built from a definition keeps the :class:`Position` of the YAML node it came
from, so that an error found much later (a type error in a constraint, a route to a step that does
not exist) can still point at the exact line and column the author wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False, slots=True)
class Source:
    """A named text (usually a file) that positions point into."""

    name: str
    text: str = field(repr=False)
    _lines: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lines", tuple(self.text.splitlines()))

    def line(self, number: int) -> str:
        """Return line ``number`` (1-based) without its newline, or ``""`` past the end."""
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a :class:`Source`, with an optional end on the same text.

    ``end_column`` is exclusive. When the span covers more than one line only the first line is
    underlined in diagnostics.
    """

    source: Source | None
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    @property
    def path(self) -> str:
        """The source name, or ``<unknown>`` when the position has no source."""
        return self.source.name if self.source is not None else "<unknown>"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def span(self, width: int) -> Position:
        """A copy of this position that covers ``width`` characters on its line."""
        return Position(self.source, self.line, self.column, self.line, self.column + max(width, 1))
