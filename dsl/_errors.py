"""Diagnostics for definition authors, in the style of a compiler.

Author mistakes (a definition that cannot be loaded) are reported as :class:`DefinitionError`,
which carries every :class:`Diagnostic` found in one run, not just the first. End-user mistakes
(a submission that fails validation) are a different type, defined in ``forms``: a definition is
checked before any submission touches it.

Exception tree::

    ValueError
     └── DefinitionError        one or more problems in a definition (always positioned)
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dsl._source import Position


class Severity(enum.Enum):
    """How bad a diagnostic is: errors stop a definition loading, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place, with an optional hint on how to fix it."""

    message: str
    position: Position | None
    hint: str | None = None
    severity: Severity = Severity.ERROR
    code: str = "invalid"

    def format(self) -> str:
        """Render as ``path:line:col: error: message``, the source line, a caret and a hint."""
        pos = self.position
        head = f"{pos}: " if pos is not None else ""
        out = [f"{head}{self.severity.value}: {self.message}"]
        if pos is not None and pos.source is not None:
            # A tab would push the echoed text right of the spaces before the caret.
            text = pos.source.line(pos.line).replace("\t", " ")
            if text.strip():
                width = 1
                if pos.end_column is not None and pos.end_line in (None, pos.line):
                    width = max(pos.end_column - pos.column, 1)
                width = min(width, max(len(text) - pos.column + 1, 1))
                out.append(f"    {text}")
                out.append("    " + " " * (pos.column - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order diagnostics by file, then line and column."""
        pos = self.position
        if pos is None:
            return ("", 0, 0, self.message)
        return (pos.path, pos.line, pos.column, self.message)


class DefinitionError(ValueError):
    """A definition (form, workflow, department, list or expression) cannot be loaded.

    ``diagnostics`` holds every problem found, sorted by position. ``str(error)`` is the
    compiler-style report an author sees from ``waypost check``.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        diags = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        if not diags:
            raise ValueError("DefinitionError needs at least one diagnostic")
        self.diagnostics: tuple[Diagnostic, ...] = diags
        super().__init__("\n".join(d.format() for d in diags))

    @classmethod
    def at(
        cls, position: Position | None, message: str, hint: str | None = None, code: str = "invalid"
    ) -> DefinitionError:
        """Build an error with a single diagnostic."""
        return cls([Diagnostic(message, position, hint, code=code)])

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Only the diagnostics of error severity."""
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


class Diagnostics:
    """A collector that lets a loader keep going after a problem and report all of them at once.

    Use :meth:`error` for a new problem and :meth:`absorb` for a :class:`DefinitionError` caught
    from nested work; call :meth:`raise_if_errors` at the end.
    """

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def error(
        self, position: Position | None, message: str, hint: str | None = None, code: str = "invalid"
    ) -> None:
        """Record an error."""
        self._items.append(Diagnostic(message, position, hint, code=code))

    def warning(
        self, position: Position | None, message: str, hint: str | None = None, code: str = "warning"
    ) -> None:
        """Record a warning (it does not stop loading)."""
        self._items.append(Diagnostic(message, position, hint, Severity.WARNING, code))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Record diagnostics produced elsewhere."""
        self._items.extend(diagnostics)

    def absorb(self, error: DefinitionError) -> None:
        """Record every diagnostic of an error raised by a nested loader."""
        self._items.extend(error.diagnostics)

    @property
    def has_errors(self) -> bool:
        """True when at least one error (not warning) was recorded."""
        return any(d.severity is Severity.ERROR for d in self._items)

    def raise_if_errors(self) -> None:
        """Raise a :class:`DefinitionError` with everything recorded, if any error was."""
        if self.has_errors:
            raise DefinitionError(self._items)


def did_you_mean(name: str, candidates: Iterable[str], *, n: int = 3) -> str | None:
    """A ranked "did you mean" hint for an unknown ``name``, or None when nothing is close.

    Ranking is difflib's similarity ratio; a case-insensitive exact match always ranks first.
    """
    pool = sorted(set(candidates))
    exact = [c for c in pool if c.lower() == name.lower() and c != name]
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    ranked = exact + [c for c in close if c not in exact]
    if not ranked:
        return None
    quoted = [f"'{c}'" for c in ranked[:n]]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return "did you mean " + ", ".join(quoted[:-1]) + f" or {quoted[-1]}?"
