"""Working copies of a form's pages and items while the loader checks them.

The loader first turns the YAML into drafts (ids registered, options read), then compiles
expressions into them, and only then builds the frozen model, so one run can report every
problem in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsl import YMap, YScalar
from dsl._types import ANY, Type
from forms._fields import FieldType

if TYPE_CHECKING:
    from dsl import CompiledExpression, CompiledTemplate


@dataclass(eq=False)
class PageDraft:
    """A page being loaded."""

    node: YMap
    id: str
    items: list[Draft] = field(default_factory=list)
    relevant_src: YScalar | None = None
    relevant: CompiledExpression | None = None


@dataclass(eq=False)
class Draft:
    """An item (field, group or repeat) being loaded.

    ``opts`` holds the literal options already read and checked; ``sources`` the expression
    texts still to compile (by key: relevant, constraint, required, value, ...); ``exprs`` the
    compiled results. ``ftype`` is None when the type is unknown (already reported).
    """

    node: YMap
    id: str
    ftype: FieldType | None
    path: tuple[str, ...]
    page: PageDraft
    parent: Draft | None
    order: int
    children: list[Draft] = field(default_factory=list)
    expr_type: Type = ANY
    opts: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, YScalar] = field(default_factory=dict)
    exprs: dict[str, CompiledExpression] = field(default_factory=dict)
    template: CompiledTemplate | None = None

    @property
    def repeats(self) -> list[Draft]:
        """The repeats this item is inside, outermost first."""
        out: list[Draft] = []
        parent = self.parent
        while parent is not None:
            if parent.ftype is FieldType.REPEAT:
                out.append(parent)
            parent = parent.parent
        out.reverse()
        return out

    @property
    def ancestors(self) -> list[Draft]:
        """The groups and repeats this item is inside, innermost first."""
        out: list[Draft] = []
        parent = self.parent
        while parent is not None:
            out.append(parent)
            parent = parent.parent
        return out

    def descendants(self) -> Iterator[Draft]:
        """Every item inside this group or repeat, at any depth."""
        for child in self.children:
            yield child
            yield from child.descendants()

    @property
    def is_container(self) -> bool:
        """True for groups and repeats."""
        return self.ftype in (FieldType.GROUP, FieldType.REPEAT)
