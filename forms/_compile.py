"""Compiling a form's expressions, each in its own scope, and ordering the computed parts.

Scopes: frame 0 holds the form's top-level items (a group is a record, a repeat a list of
records); inside a repeat the item's record is pushed as an inner frame; a ``choice_filter``
also sees a ``choice`` record of its list's columns (all text).

Calculations are compiled first, in dependency order, so that an expression using a calculation
knows its type. Then every other expression is compiled, and the relevance conditions and
calculations are put in the one order that evaluation follows (see :func:`evaluation_order`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dsl import (
    CompiledExpression,
    DefinitionError,
    Diagnostics,
    YScalar,
    compile_expression,
    compile_template,
)
from dsl._functions import FunctionLibrary
from dsl._types import ANY, BOOLEAN, TEXT, Kind, RecordType, Scope, Symbol, Type, record, repeat
from forms._canonical import text_value
from forms._drafts import Draft, PageDraft
from forms._fields import EXPR_TYPES, FieldType
from forms._graph import cycles, topological
from forms._text import ChoiceList

FT = FieldType
#: A step of evaluation: ("page", page id) relevance, ("relevant", item id), ("value", calc id).
Step = tuple[str, str]

_TOKEN = re.compile(
    r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|@[0-9A-Za-z:.+-]+|([A-Za-z_][A-Za-z0-9_]*)(\s*\()?|.""", re.S
)


def identifiers(source: str) -> set[str]:
    """The names an expression mentions (not function names, not inside text literals).

    Used to order calculations before they are compiled; ids are unique across a form, so a
    name always means the same item.
    """
    return {m[1] for m in _TOKEN.finditer(source) if m[1] and not m[2]}


class _Compiler:
    def __init__(
        self,
        pages: list[PageDraft],
        drafts: list[Draft],
        diagnostics: Diagnostics,
        library: FunctionLibrary | None,
    ) -> None:
        self.pages = pages
        self.drafts = drafts
        self.by_id = {d.id: d for d in drafts}
        self.diagnostics = diagnostics
        self.library = library
        self.top = [d for page in pages for d in page.items]
        self.frame0 = RecordType.of()
        self.reported: set[frozenset[Step]] = set()

    def rebuild(self) -> None:
        self.frame0 = self._frame(self.top)

    def _frame(self, items: Iterable[Draft]) -> RecordType:
        symbols: dict[str, Symbol] = {}
        for d in items:
            if d.ftype is FT.NOTE:
                continue
            if d.ftype is FT.GROUP:
                d.expr_type = record(self._frame(d.children))
            elif d.ftype is FT.REPEAT:
                d.expr_type = repeat(self._frame(d.children))
            symbols[d.id] = Symbol(d.id, d.expr_type, (d.id,), d.node.pos)
        return RecordType.of(symbols)

    def scope(self, draft: Draft | None, *, inside: bool = False) -> Scope:
        """The scope of ``draft``'s expressions (``inside``: also its own repeat's item)."""
        scope = Scope.of(self.frame0)
        if draft is None:
            return scope
        chain = draft.repeats + ([draft] if inside and draft.ftype is FT.REPEAT else [])
        for rep in chain:
            item = rep.expr_type.item
            if item is not None and item.record is not None:
                scope = scope.push(item.record, rep.id)
        return scope

    def expr(self, node: YScalar, scope: Scope, expect: Type | None = None) -> CompiledExpression | None:
        source = text_value(node) or ""
        try:
            return compile_expression(source, scope, node=node, expect=expect, library=self.library)
        except DefinitionError as error:
            self.diagnostics.absorb(error)
            return None

    def calculations(self) -> None:
        calcs = [d for d in self.drafts if d.ftype is FT.CALCULATE and "value" in d.sources]
        names = {d.id for d in calcs}
        deps = {d.id: identifiers(text_value(d.sources["value"]) or "") & names for d in calcs}
        order = [d.id for d in calcs]
        cyclic: set[str] = set()
        for loop in cycles(order, deps.__getitem__):
            cyclic.update(loop)
            self.reported.add(frozenset(("value", n) for n in loop))
            first = self.by_id[loop[0]]
            shown = " -> ".join([*loop, loop[0]])
            self.diagnostics.error(
                first.sources["value"].pos,
                f"calculations depend on each other in a cycle: {shown}",
                "a calculation cannot use its own result, directly or through others",
            )
        done: set[str] = set()
        pending = [n for n in order if n not in cyclic]
        while pending:
            ready = [n for n in pending if not (deps[n] - done - cyclic - {n})] or pending
            self.rebuild()
            for name in ready:
                self._calculation(self.by_id[name])
                done.add(name)
            pending = [n for n in pending if n not in done]
        self.rebuild()
        for name in order:
            if name in cyclic:
                self._calculation(self.by_id[name])

    def _calculation(self, draft: Draft) -> None:
        compiled = self.expr(draft.sources["value"], self.scope(draft))
        if compiled is not None:
            draft.exprs["value"] = compiled
            draft.expr_type = compiled.type

    def others(self) -> None:
        self.rebuild()
        for page in self.pages:
            if page.relevant_src is not None:
                page.relevant = self.expr(page.relevant_src, self.scope(None), BOOLEAN)
        for d in self.drafts:
            scope = self.scope(d)
            for key in ("relevant", "constraint", "required", "warning"):
                if key in d.sources:
                    self._keep(d, key, self.expr(d.sources[key], scope, BOOLEAN))
            if "default_expr" in d.sources:
                expect = d.expr_type if d.expr_type.kind is not Kind.ANY else None
                self._keep(d, "default_expr", self.expr(d.sources["default_expr"], scope, expect))
            if "choice_filter" in d.sources:
                filter_scope = scope.push(_choice_frame(d.opts.get("choices")), "choice")
                self._keep(d, "choice_filter", self.expr(d.sources["choice_filter"], filter_scope, BOOLEAN))
            if "item_label" in d.sources and d.ftype is FT.REPEAT:
                node = d.sources["item_label"]
                try:
                    d.template = compile_template(
                        text_value(node) or "", self.scope(d, inside=True), node=node, library=self.library
                    )
                except DefinitionError as error:
                    self.diagnostics.absorb(error)

    @staticmethod
    def _keep(draft: Draft, key: str, compiled: CompiledExpression | None) -> None:
        if compiled is not None:
            draft.exprs[key] = compiled

    def evaluation_order(self) -> list[Step]:
        """Page relevance, item relevance and calculations, each after what it reads.

        Reading an item means reading its answer, which exists only if the item and everything
        around it is relevant, and (for a group or repeat) the answers and calculations inside.
        """
        nodes: list[Step] = []
        for page in self.pages:
            if page.relevant is not None:
                nodes.append(("page", page.id))
            for d in (x for x in self.drafts if x.page is page):
                if "relevant" in d.exprs:
                    nodes.append(("relevant", d.id))
                if "value" in d.exprs:
                    nodes.append(("value", d.id))
        graph: dict[Step, set[Step]] = {}
        pages = {p.id: p for p in self.pages}
        for kind, name in nodes:
            if kind == "page":
                compiled = pages[name].relevant
                graph[(kind, name)] = self._reads(compiled.references if compiled else frozenset())
                continue
            d = self.by_id[name]
            refs = d.exprs["relevant" if kind == "relevant" else "value"].references
            deps = self._reads(refs) | self._around(d)
            if kind == "value" and "relevant" in d.exprs:
                deps.add(("relevant", d.id))
            graph[(kind, name)] = deps
        for loop in cycles(nodes, graph.__getitem__):
            if frozenset(loop) in self.reported:
                continue
            self._cycle_error(loop)
        return topological(nodes, graph.__getitem__)

    def _around(self, d: Draft) -> set[Step]:
        deps: set[Step] = {("relevant", a.id) for a in d.ancestors if "relevant" in a.exprs}
        if d.page.relevant is not None:
            deps.add(("page", d.page.id))
        return deps

    def _reads(self, refs: Iterable[str]) -> set[Step]:
        """What reading the names ``refs`` depends on.

        ``references`` lists every segment of a dotted path, so in ``address.street`` the group
        is only the way to ``street``: a container whose descendants are also named is a path
        segment; a container named alone (``count(items)``) is read whole.
        """
        names = set(refs)
        deps: set[Step] = set()
        for ref in names:
            d = self.by_id.get(ref)
            if d is None:
                continue
            deps |= self._around(d)
            inside = list(d.descendants())
            whole = not any(x.id in names for x in inside)
            for x in [d, *inside] if whole else [d]:
                if "relevant" in x.exprs:
                    deps.add(("relevant", x.id))
                if "value" in x.exprs:
                    deps.add(("value", x.id))
        return deps

    def _cycle_error(self, loop: list[Step]) -> None:
        kind, name = loop[0]
        if len(loop) == 1 and kind == "relevant":
            self.diagnostics.error(
                self.by_id[name].sources["relevant"].pos,
                f"the relevance of '{name}' depends on its own answer",
                f"relevant decides whether '{name}' is asked, so it can only use other answers",
            )
            return
        if len(loop) == 1 and kind == "page":
            page = next(p for p in self.pages if p.id == name)
            pos = page.relevant_src.pos if page.relevant_src is not None else page.node.pos
            self.diagnostics.error(
                pos,
                f"the relevance of page '{name}' depends on answers on that page",
                "a page's relevant can only use answers from other pages",
            )
            return
        words = {"page": "page", "relevant": "relevance of", "value": "value of"}
        shown = " -> ".join(f"{words[k]} '{n}'" for k, n in [*loop, loop[0]])
        owner = self.by_id.get(name)
        key = "relevant" if kind == "relevant" else "value"
        where = owner.sources[key].pos if owner is not None and key in owner.sources else None
        if kind == "page":
            page = next(p for p in self.pages if p.id == name)
            where = page.relevant_src.pos if page.relevant_src is not None else page.node.pos
        self.diagnostics.error(
            where,
            f"these depend on each other in a cycle: {shown}",
            "relevance and calculations must not depend on themselves",
        )


def _choice_frame(choices: object) -> RecordType:
    columns = ["value", "label"]
    if isinstance(choices, ChoiceList):
        columns += [c for c in choices.columns if c not in columns]
    row = RecordType.of({c: Symbol(c, TEXT, (c,)) for c in columns})
    return RecordType.of({"choice": Symbol("choice", record(row), ("choice",))})


def compile_form(
    pages: list[PageDraft], drafts: list[Draft], diagnostics: Diagnostics, library: FunctionLibrary | None
) -> tuple[list[Step], RecordType]:
    """Compile every expression of the drafts; return the evaluation order and frame 0."""
    for d in drafts:
        d.expr_type = EXPR_TYPES.get(d.ftype, ANY) if d.ftype is not None else ANY
    compiler = _Compiler(pages, drafts, diagnostics, library)
    compiler.calculations()
    compiler.others()
    order = compiler.evaluation_order()
    compiler.rebuild()
    return order, compiler.frame0
