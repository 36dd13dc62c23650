"""Mappings (``with`` and ``out``): nested data whose strings are templates of the expression language.

A mapping is compiled once, when the workflow loads, into a small tree:

* a mapping becomes a :class:`DataMapping`, a list a :class:`ListValue`;
* a scalar that is not a string (a number, true/false, null, an unquoted YAML date) is a
  :class:`LiteralValue`;
* a string that is exactly one hole, ``"{{ expr }}"``, is an :class:`ExpressionValue`: it keeps
  the expression's type, so a date stays a date and a list a list;
* any other string is a :class:`TemplateValue`, rendered to text (a string without holes is
  plain text, so ``to: duty.inspector@wessex.example`` means that address).

``evaluate(env)`` gives plain Python values (dates as :class:`datetime.date`);
``evaluate_json(env)`` gives JSON-ready values (dates as ISO text), which is what a plugin gets.
``shape()`` gives the static :class:`~dsl.Type` of a value, used to check a mapping against a
plugin's input schema and to type ``out`` names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Union

from dsl import (
    CompiledExpression,
    CompiledTemplate,
    DefinitionError,
    Diagnostics,
    Env,
    Position,
    YMap,
    YNode,
    YScalar,
    YSeq,
    compile_expression,
    compile_template,
    key_name,
    scalar_json,
)
from dsl._functions import FunctionLibrary
from dsl._types import ANY, BOOLEAN, DATE, DATETIME, NULL, NUMBER, TEXT, TIME, RecordType, Scope, Symbol, Type
from dsl._types import list_of as _list_of
from dsl._types import record as _record

MappingNode = Union["LiteralValue", "TemplateValue", "ExpressionValue", "ListValue", "DataMapping"]
"""Any node of a compiled mapping."""


@dataclass(frozen=True, slots=True)
class LiteralValue:
    """A fixed value written in the definition (not a string: strings are templates)."""

    value: Any
    position: Position

    def evaluate(self, env: Env) -> Any:
        """The value itself."""
        return self.value

    def shape(self) -> Type:
        """The static type of the value."""
        return literal_type(self.value)


@dataclass(frozen=True, slots=True)
class TemplateValue:
    """Text with ``{{ }}`` holes (or none): always renders to text."""

    template: CompiledTemplate
    position: Position

    def evaluate(self, env: Env) -> Any:
        """The rendered text."""
        return self.template(env)

    def shape(self) -> Type:
        """Always text."""
        return TEXT


@dataclass(frozen=True, slots=True)
class ExpressionValue:
    """A string that is exactly one hole: the expression's value, with its type."""

    expression: CompiledExpression
    position: Position

    def evaluate(self, env: Env) -> Any:
        """The expression's value."""
        return self.expression(env)

    def shape(self) -> Type:
        """The expression's static type."""
        return self.expression.type


@dataclass(frozen=True, slots=True)
class ListValue:
    """A list of values."""

    items: tuple[MappingNode, ...]
    position: Position

    def evaluate(self, env: Env) -> Any:
        """A list of the items' values."""
        return [item.evaluate(env) for item in self.items]

    def shape(self) -> Type:
        """A list of the items' common type (``any`` when they differ, nulls aside)."""
        kinds = {item.shape() for item in self.items} - {NULL}
        return _list_of(kinds.pop() if len(kinds) == 1 else ANY)


@dataclass(frozen=True, slots=True)
class DataMapping:
    """A mapping from names to values; the whole ``with`` or ``out`` of a step is one.

    ``key_positions`` holds where each key was written, so that a check can point at the key.
    """

    entries: Mapping[str, MappingNode]
    position: Position
    key_positions: Mapping[str, Position]

    def evaluate(self, env: Env) -> dict[str, Any]:
        """A dict of the entries' values (dates stay dates)."""
        return {key: node.evaluate(env) for key, node in self.entries.items()}

    def evaluate_json(self, env: Env) -> dict[str, Any]:
        """A JSON-ready dict of the entries' values: what a plugin receives as inputs."""
        out: dict[str, Any] = to_json_value(self.evaluate(env))
        return out

    def shape(self) -> Type:
        """A record type with one member per key."""
        symbols = {
            key: Symbol(key, node.shape(), (key,), self.key_positions.get(key))
            for key, node in self.entries.items()
        }
        return _record(RecordType.of(symbols))

    def is_literal(self) -> bool:
        """True when no value depends on an expression."""
        return is_literal(self)


def is_literal(node: MappingNode) -> bool:
    """True when ``node`` and everything inside it is fixed: literals, and text without holes."""
    if isinstance(node, LiteralValue):
        return True
    if isinstance(node, TemplateValue):
        return "{{" not in node.template.source
    if isinstance(node, ListValue):
        return all(is_literal(item) for item in node.items)
    if isinstance(node, DataMapping):
        return all(is_literal(item) for item in node.entries.values())
    return False


def literal_type(value: Any) -> Type:
    """The static type of a literal Python value from YAML."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    return ANY


def to_json_value(value: Any) -> Any:
    """``value`` with dates, times and datetimes as ISO 8601 text, ready for JSON.

    A date is ``YYYY-MM-DD``, a time ``HH:MM`` (``HH:MM:SS`` when it has seconds), a datetime
    ISO 8601 with its offset; mappings and lists are converted all the way down.
    """
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    return value


def build_mapping(node: YMap, entries: list[tuple[str, Position, MappingNode | None]]) -> DataMapping | None:
    """A :class:`DataMapping` of compiled entries, or None when any entry failed."""
    values: dict[str, MappingNode] = {}
    keys: dict[str, Position] = {}
    for key, position, value in entries:
        if value is None:
            return None
        values[key] = value
        keys[key] = position
    return DataMapping(MappingProxyType(values), node.pos, MappingProxyType(keys))


def single_hole(text: str) -> tuple[int, int] | None:
    """The (start, end) of the expression when ``text`` is exactly one ``{{ expr }}`` hole.

    Quoted strings inside the hole may contain ``}}``, so quotes are skipped over the way the
    expression language reads them.
    """
    if not (text.startswith("{{") and text.endswith("}}")):
        return None
    index, quote = 2, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif text.startswith("}}", index):
            return (2, index) if index + 2 == len(text) else None
        index += 1
    return None


class MappingCompiler:
    """Compiles YAML mapping nodes in one scope, recording problems instead of stopping."""

    def __init__(self, scope: Scope, diags: Diagnostics, library: FunctionLibrary | None = None) -> None:
        self.scope = scope
        self.diags = diags
        self.library = library

    def mapping(self, node: YMap) -> DataMapping | None:
        """Compile a mapping; None when any part of it has an error (each error recorded)."""
        return build_mapping(node, self.entries(node))

    def entries(self, node: YMap) -> list[tuple[str, Position, MappingNode | None]]:
        """Compile each entry of a mapping: (key, key position, value or None when it failed)."""
        out: list[tuple[str, Position, MappingNode | None]] = []
        for key_node, value_node in node.items():
            # Keys are the text written: YAML 1.1 would read `on:` or `yes:` as booleans.
            key = key_name(key_node)
            out.append((key, key_node.pos.span(len(key_node.raw or key)), self.value(value_node)))
        return out

    def value(self, node: YNode) -> MappingNode | None:
        """Compile any mapping value; None when it has an error."""
        if isinstance(node, YMap):
            return self.mapping(node)
        if isinstance(node, YSeq):
            items = [self.value(item) for item in node.items]
            if any(item is None for item in items):
                return None
            return ListValue(tuple(i for i in items if i is not None), node.pos)
        if isinstance(node.value, str):
            return self.text(node)
        value = node.value
        if isinstance(value, bytes):
            self.diags.error(node.pos, "binary values are not allowed in a mapping", code="mapping")
            return None
        if not (value is None or isinstance(value, bool | dt.date)):
            # 10:30 is the number 630 to YAML 1.1 and .inf is infinity: keep what was written.
            value = scalar_json(node)
        return LiteralValue(value, node.pos)

    def text(self, node: YScalar) -> MappingNode | None:
        """A string: one hole keeps its type, anything else is a template rendered to text."""
        text: str = node.value
        try:
            hole = single_hole(text)
            if hole is not None:
                start, end = hole
                expr = compile_expression(
                    text[start:end], self.scope, position=node.position_at(start), library=self.library
                )
                return ExpressionValue(expr, node.pos)
            template = compile_template(text, self.scope, node=node, library=self.library)
            return TemplateValue(template, node.pos)
        except DefinitionError as error:
            self.diags.absorb(error)
            return None
