"""The form model: frozen value objects built once by the loader and shared by every request.

A :class:`Form` holds pages; a page holds items; an item is a :class:`Field` (a question, a
note or a calculation), a :class:`Group` (a mapping of answers) or a :class:`Repeat` (a list of
mappings). Every object keeps the :class:`~dsl.Position` of the YAML it came from, and every
expression is already compiled and type-checked. Runtime state (answers, drafts) lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dsl import Position
from dsl._types import RecordType, Type
from forms._fields import FieldType
from forms._plan import build_plans
from forms._schema import form_json_schema
from forms._text import ChoiceList, Text
from forms._validate import validate

if TYPE_CHECKING:
    from dsl import CompiledExpression, CompiledTemplate


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """A non-blocking warning: when ``when`` is true the officer sees ``message`` and must
    acknowledge it."""

    when: CompiledExpression
    message: Text
    position: Position = field(repr=False)


@dataclass(frozen=True, slots=True)
class Field:
    """One question, note or calculation.

    ``path`` is where the answer lives, from the form's answers (repeat indexes left out):
    ``("address", "postcode")`` for a field in a group. ``expr_type`` is the type expressions
    see. Options that do not apply to the field's type are None (or empty).
    """

    id: str
    type: FieldType
    position: Position = field(repr=False)
    path: tuple[str, ...]
    expr_type: Type
    label: Text | None = None
    hint: Text | None = None
    relevant: CompiledExpression | None = None
    required: bool = False
    required_expr: CompiledExpression | None = None
    required_message: Text | None = None
    constraint: CompiledExpression | None = None
    message: Text | None = None
    warning: FieldWarning | None = None
    default: Any = None
    default_expr: CompiledExpression | None = None
    read_only: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: Text | None = None
    rows: int | None = None
    min: Any = None
    max: Any = None
    places: int | None = None
    yes_label: Text | None = None
    no_label: Text | None = None
    choices: ChoiceList | None = None
    list_name: str | None = None
    choice_filter: CompiledExpression | None = None
    appearance: str | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    max_size: int | None = None
    accept: tuple[str, ...] = ()
    max_accuracy: float | None = None
    value: CompiledExpression | None = None

    @property
    def takes_answer(self) -> bool:
        """False for notes (display only) and calculations (computed)."""
        return self.type not in (FieldType.NOTE, FieldType.CALCULATE)


@dataclass(frozen=True, slots=True)
class Group:
    """A set of fields whose answers form one mapping, ``address: {street, postcode}``."""

    id: str
    position: Position = field(repr=False)
    path: tuple[str, ...]
    fields: tuple[Item, ...]
    expr_type: Type
    label: Text | None = None
    hint: Text | None = None
    relevant: CompiledExpression | None = None

    @property
    def type(self) -> FieldType:
        """Always :attr:`FieldType.GROUP`."""
        return FieldType.GROUP


@dataclass(frozen=True, slots=True)
class Repeat:
    """A set of fields answered once per item: the answer is a list of mappings.

    ``min_items``/``max_items`` bound the number of items; ``item_label`` names each item in
    summaries (a template evaluated with the item's fields in scope).
    """

    id: str
    position: Position = field(repr=False)
    path: tuple[str, ...]
    fields: tuple[Item, ...]
    expr_type: Type
    label: Text | None = None
    hint: Text | None = None
    relevant: CompiledExpression | None = None
    min_items: int = 0
    max_items: int | None = None
    item_label: CompiledTemplate | None = None

    @property
    def type(self) -> FieldType:
        """Always :attr:`FieldType.REPEAT`."""
        return FieldType.REPEAT


Item = Field | Group | Repeat


@dataclass(frozen=True, slots=True)
class Page:
    """One screen of a form."""

    id: str
    position: Position = field(repr=False)
    fields: tuple[Item, ...]
    title: Text | None = None
    description: Text | None = None
    relevant: CompiledExpression | None = None


def walk(items: tuple[Item, ...]) -> Iterator[Item]:
    """Every item in ``items`` and inside their groups and repeats, in document order."""
    for item in items:
        yield item
        if not isinstance(item, Field):
            yield from walk(item.fields)


@dataclass(frozen=True, slots=True, eq=False)
class Form:
    """A loaded, checked form definition (build one with :func:`forms.load_form`).

    ``content_hash`` identifies the exact definition (sha256 of its canonical JSON);
    ``version`` is the author's label. ``record_type`` is what expressions outside the form
    (workflows) see of its answers. ``evaluation_order`` lists the computed parts in the order
    they are evaluated, each after what it reads: ``("page", id)`` and ``("relevant", id)`` for
    relevance, ``("value", id)`` for calculations (the browser runtime follows the same order).
    ``lists`` are the shared choice lists the form uses. Forms compare by ``content_hash``.
    """

    id: str
    title: Text
    pages: tuple[Page, ...]
    position: Position = field(repr=False)
    content_hash: str
    record_type: RecordType
    version: str | None = None
    description: Text | None = None
    classification: str = "OFFICIAL"
    statement: bool = False
    lists: Mapping[str, ChoiceList] = field(default_factory=dict, repr=False)
    evaluation_order: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    fields_by_id: Mapping[str, Item] = field(init=False, repr=False)
    _plans: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        items = {item.id: item for page in self.pages for item in walk(page.fields)}
        object.__setattr__(self, "fields_by_id", items)
        object.__setattr__(self, "_plans", build_plans(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Form) and other.content_hash == self.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def items(self) -> Iterator[Item]:
        """Every item of every page, nested ones included, in document order."""
        for page in self.pages:
            yield from walk(page.fields)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of this form's normalised JSON answers."""
        return form_json_schema(self)

    # Form.validate(answers, *, now=None, pages=None, acknowledged=(), coerce=True): check and
    # normalise a submission (documented on forms._validate.validate). Bound directly rather than
    # wrapped, since it runs for every submission and a wrapper is a measurable share of it.
    validate = validate
