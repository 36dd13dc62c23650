"""Static checking: resolve every name, type every node, report errors at the sub-expression.

The checker walks the syntax tree once, in a given :class:`Scope`, and returns the bound tree of
:mod:`dsl._bound`. It keeps going after an error (the failing node gets the type ``any``, which
fits everywhere, so one mistake is reported once), and raises a :class:`DefinitionError` with every
problem at the end. Operator rules live in :mod:`dsl._checker_ops`.
"""

from __future__ import annotations

from dsl._ast import Binary, Call, Expr, ListLiteral, Literal, Name, Unary
from dsl._bound import BConst, BList, Bound, BProject, BRef
from dsl._checker_calls import check_call
from dsl._checker_ops import check_binary, check_unary
from dsl._errors import Diagnostics, did_you_mean
from dsl._functions import FunctionLibrary
from dsl._locate import Locator
from dsl._types import ANY, BOOLEAN, Kind, RecordType, Scope, Type, list_of
from dsl._typing_rules import unify_all

KEYWORDS = ("and", "or", "not", "in", "true", "false", "null")


class Checker:
    """One checking run over one expression (or one template hole)."""

    def __init__(self, source: str, where: Locator, library: FunctionLibrary) -> None:
        self.source = source
        self.where = where
        self.library = library
        self.diagnostics = Diagnostics()
        self.references: set[str] = set()
        self.uses_clock = False

    def error(self, start: int, end: int, message: str, hint: str | None = None, code: str = "type") -> Bound:
        """Record an error at ``source[start:end]`` and return a placeholder of type any."""
        self.diagnostics.error(self.where.at(start, end), message, hint, code=code)
        return BConst(None, ANY, True)

    def text_of(self, node: Expr) -> str:
        """The source text of ``node`` (for hints that quote the author's own words)."""
        return self.source[node.start : node.end]

    def check(self, node: Expr, scope: Scope) -> Bound:
        """The bound, typed form of ``node`` in ``scope``."""
        if isinstance(node, Literal):
            return BConst(node.value, Type(node.kind), node.value is None)
        if isinstance(node, Name):
            return self.name(node, scope)
        if isinstance(node, Binary):
            return check_binary(self, node, scope)
        if isinstance(node, Unary):
            return check_unary(self, node, scope)
        if isinstance(node, Call):
            return check_call(self, node, scope)
        if isinstance(node, ListLiteral):
            return self.list_literal(node, scope)
        # Invalid: the parser reports these before checking; kept so every node kind is handled.
        return self.error(node.start, node.end, node.message, node.hint, code="syntax")

    def list_literal(self, node: ListLiteral, scope: Scope) -> Bound:
        """``[a, b]``: every item must have the same type."""
        items = [self.check(item, scope) for item in node.items]
        item_type = unify_all([i.type for i in items])
        if item_type is None:
            kinds = sorted({str(i.type) for i in items if i.type.kind is not Kind.NULL})
            return self.error(
                node.start,
                node.end,
                f"a list must hold values of one type, not {' and '.join(kinds)}",
                "split it into separate lists",
            )
        if item_type.kind is Kind.NULL:
            item_type = ANY
        ltype = list_of(item_type)
        if all(isinstance(i, BConst) for i in items):
            return BConst([i.value for i in items if isinstance(i, BConst)], ltype, False)
        return BList(tuple(items), ltype)

    def name(self, node: Name, scope: Scope) -> Bound:
        """Resolve a name or dotted path: records are walked, repeats are projected."""
        first = node.parts[0]
        found = scope.lookup(first.name)
        if found is None:
            return self.unknown_name(first.name, first.start, first.end, scope)
        frame, symbol = found
        self.references.add(symbol.name)
        keys = symbol.path
        current = symbol.type
        project_from: Bound | None = None  # set once the path has passed through a repeat
        project_keys: tuple[str, ...] = ()
        owner = first.name
        for index, part in enumerate(node.parts[1:], start=1):
            if current.kind is Kind.ANY:
                # A plugin output without a declared shape: members are looked up at run time and
                # give null when the value is not a mapping or lacks the key.
                rest = tuple(p.name for p in node.parts[index:])
                if project_from is not None:
                    return BProject(project_from, project_keys + rest, list_of(ANY))
                return BRef(frame, keys + rest, ANY)
            in_list = current.kind is Kind.LIST and current.item is not None
            record_type = current.item if in_list and current.item is not None else current
            if project_from is not None and in_list:
                return self.error(
                    first.start,
                    part.end,
                    f"cannot reach into '{owner}', a list inside the repeat '{node.parts[0].name}'",
                    f"use count(), any() or all() over {node.parts[0].name}",
                )
            if record_type.kind is not Kind.RECORD or record_type.record is None:
                return self.error(
                    first.start,
                    part.end,
                    f"'{owner}' is {_a(current)}, not a group; it has no field '{part.name}'",
                    "only groups and repeats have fields",
                    code="unknown-name",
                )
            member = record_type.record.get(part.name)
            if member is None:
                return self.error(
                    part.start,
                    part.end,
                    f"'{owner}' has no field '{part.name}'",
                    did_you_mean(part.name, list(record_type.record)) or _field_list(record_type.record),
                    code="unknown-name",
                )
            self.references.add(member.name)
            if in_list and project_from is None:
                project_from = BRef(frame, keys, current)
                project_keys = member.path
            elif project_from is not None:
                project_keys += member.path
            else:
                keys += member.path
            current = member.type
            owner = part.name
        if project_from is not None:
            return BProject(project_from, project_keys, list_of(current))
        return BRef(frame, keys, current)

    def unknown_name(self, name: str, start: int, end: int, scope: Scope) -> Bound:
        """Report an unknown name with the most useful hint available."""
        if name.lower() in KEYWORDS:
            return self.error(
                start, end, f"unknown name '{name}'", f"write '{name.lower()}' in lower case", "unknown-name"
            )
        if self.library.get(name) is not None:
            return self.error(
                start, end, f"{name} is a function", f"call it with brackets: {name}(...)", "unknown-name"
            )
        hint = did_you_mean(name, [*scope.names(), *KEYWORDS])
        if hint is None:
            hint = "a name is the id of a field visible here; text goes in quotes: 'like this'"
        return self.error(start, end, f"unknown name '{name}'", hint, "unknown-name")

    def expect(self, bound: Bound, node: Expr, want: Type) -> Bound:
        """Check the whole expression's type against what its use requires."""
        got = bound.type
        if want.accepts(got):
            return bound
        hint = convert_hint(want, got, self.text_of(node)) or f"this expression must give {_a(want)}"
        return self.error(node.start, node.end, f"expected {_a(want)}, got {got}", hint)


def _field_list(rtype: RecordType) -> str:
    names = sorted(rtype)
    if not names:
        return "it has no fields"
    shown = ", ".join(names[:8])
    return f"its fields are {shown}" + (", ..." if len(names) > 8 else "")


def _a(t: Type) -> str:
    word = str(t)
    if t.kind is Kind.LIST:
        return f"a {word}"
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def convert_hint(want: Type, got: Type, text: str) -> str | None:
    """How to turn a value of type ``got`` (written ``text``) into ``want``."""
    short = text if len(text) <= 30 else "..."
    if want.kind is Kind.BOOLEAN:
        if got.kind is Kind.NUMBER:
            return f"compare it: {short} > 0"
        if got.kind is Kind.LIST:
            return f"count it: count({short}) > 0"
        return f"compare it: {short} != null"
    if want.kind is Kind.TEXT:
        return f"convert it: text({short})"
    if want.kind is Kind.NUMBER and got.kind is Kind.TEXT:
        return f"convert it: number({short})"
    return None


__all__ = ["BOOLEAN", "KEYWORDS", "Checker", "convert_hint"]
