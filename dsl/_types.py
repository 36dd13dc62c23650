"""The static types of the expression language and the scopes names are resolved in.

Types are deliberately few, so an author can predict them: text, number, boolean, date, time,
datetime, geopoint, attachment, lists of those, records (a group or one item of a repeat) and
null (the type of the literal ``null`` and of an unanswered field's value). ``ANY`` appears only
where a function accepts every type.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dsl._source import Position


class Kind(enum.Enum):
    """The kinds of value an expression can have."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    GEOPOINT = "geopoint"
    ATTACHMENT = "attachment"
    LIST = "list"
    RECORD = "record"
    NULL = "null"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Type:
    """A static type. ``item`` is set for lists; ``record`` for records."""

    kind: Kind
    item: Type | None = None
    record: RecordType | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.kind is Kind.LIST:
            return f"list of {self.item}"
        return str(self.kind.value)

    @property
    def is_list(self) -> bool:
        """True for list types."""
        return self.kind is Kind.LIST

    def accepts(self, other: Type) -> bool:
        """Whether a value of type ``other`` may be used where this type is expected.

        ``null`` is accepted everywhere (every answer may be missing) and ``any`` matches all.
        """
        if self.kind is Kind.ANY or other.kind in (Kind.ANY, Kind.NULL):
            return True
        if self.kind is Kind.LIST and other.kind is Kind.LIST:
            if self.item is None or other.item is None:
                return True
            return self.item.accepts(other.item)
        return self.kind is other.kind


TEXT = Type(Kind.TEXT)
NUMBER = Type(Kind.NUMBER)
BOOLEAN = Type(Kind.BOOLEAN)
DATE = Type(Kind.DATE)
TIME = Type(Kind.TIME)
DATETIME = Type(Kind.DATETIME)
GEOPOINT = Type(Kind.GEOPOINT)
ATTACHMENT = Type(Kind.ATTACHMENT)
NULL = Type(Kind.NULL)
ANY = Type(Kind.ANY)


def list_of(item: Type) -> Type:
    """The type of a list of ``item``."""
    return Type(Kind.LIST, item)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name visible to expressions: a field, a group, a repeat or a step result.

    ``path`` is where the value lives in the answers of its frame (``("household", "address")``
    for a field inside a group); ``position`` is where the author defined it.
    """

    name: str
    type: Type
    path: tuple[str, ...]
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class RecordType:
    """The names inside a group, a repeat item, a form, or a step's result."""

    symbols: Mapping[str, Symbol]

    @staticmethod
    def of(symbols: Mapping[str, Symbol] | None = None) -> RecordType:
        """Build a record type from a mapping (copied, read-only)."""
        return RecordType(MappingProxyType(dict(symbols or {})))

    def __iter__(self) -> Iterator[str]:
        return iter(self.symbols)

    def get(self, name: str) -> Symbol | None:
        """The symbol called ``name``, or None."""
        return self.symbols.get(name)


def record(rtype: RecordType) -> Type:
    """The type of a record (a group, or one item of a repeat)."""
    return Type(Kind.RECORD, record=rtype)


def repeat(rtype: RecordType) -> Type:
    """The type of a repeat: a list of records."""
    return Type(Kind.LIST, Type(Kind.RECORD, record=rtype))


@dataclass(frozen=True, slots=True)
class Scope:
    """Where names are looked up: a stack of frames, innermost last.

    Frame 0 is the form's answers. Inside a repeat, a frame for the current item is pushed, so a
    bare name means the sibling field of the same item, and outer names stay visible. Workflows
    add frames for step outputs and task results. At run time an evaluation environment supplies
    one value (a mapping) per frame, in the same order.
    """

    frames: tuple[RecordType, ...]
    frame_names: tuple[str, ...] = ()

    @staticmethod
    def of(*frames: RecordType) -> Scope:
        """A scope from frames, outermost first."""
        return Scope(tuple(frames))

    def push(self, frame: RecordType, name: str = "") -> Scope:
        """A new scope with ``frame`` innermost."""
        names = self.frame_names + ("",) * (len(self.frames) - len(self.frame_names))
        return Scope((*self.frames, frame), (*names, name))

    def lookup(self, name: str) -> tuple[int, Symbol] | None:
        """Find ``name``, innermost frame first: (frame index, symbol), or None."""
        for index in range(len(self.frames) - 1, -1, -1):
            symbol = self.frames[index].get(name)
            if symbol is not None:
                return index, symbol
        return None

    def names(self) -> list[str]:
        """Every visible name, for did-you-mean hints."""
        seen: dict[str, None] = {}
        for frame in self.frames:
            for name in frame:
                seen[name] = None
        return list(seen)
