"""``load_form``: YAML text in, a checked :class:`~forms.Form` out, or every problem at once.

Order of work: parse the YAML (positions kept), check it against the definition-format schema,
turn pages and items into drafts (ids registered, literal options read and checked), compile
every expression in its scope (``_compile``), then build the frozen model (``_assemble``). All
problems go into one :class:`~dsl.Diagnostics`, so the author sees them all in one run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dsl import (
    DefinitionError,
    Diagnostics,
    Position,
    YMap,
    YNode,
    YScalar,
    YSeq,
    content_hash,
    load_yaml,
    to_json,
)
from dsl._functions import FunctionLibrary
from forms._assemble import assemble
from forms._canonical import get, str_value
from forms._compile import compile_form
from forms._drafts import Draft, PageDraft
from forms._fields import ID_RE, RESERVED_WORDS, FieldType
from forms._model import Form
from forms._options import read_options
from forms._schemacheck import check_definition
from forms._text import ChoiceList

_EMPTY_LISTS: Mapping[str, ChoiceList] = {}


@dataclass
class LoadContext:
    """What every step of one load shares."""

    diagnostics: Diagnostics
    lists: Mapping[str, ChoiceList]
    library: FunctionLibrary | None
    ids: dict[str, Position] = field(default_factory=dict)
    drafts: list[Draft] = field(default_factory=list)


def load_form(
    text: str,
    name: str,
    *,
    lists: Mapping[str, ChoiceList] = _EMPTY_LISTS,
    library: FunctionLibrary | None = None,
) -> Form:
    """Load and check a form definition from its YAML ``text`` (``name`` is used in positions).

    ``lists`` are the department's shared choice lists by name (see :func:`forms.load_list`);
    ``library`` the expression functions (default: the built-in library). Raises
    :class:`~dsl.DefinitionError` carrying every problem found, each with its line and column.
    """
    root = load_yaml(text, name)
    diagnostics = Diagnostics()
    check_definition(root, to_json(root), "form", diagnostics)
    ctx = LoadContext(diagnostics, lists, library)
    pages = _collect_pages(root, ctx) if isinstance(root, YMap) else []
    for draft in ctx.drafts:
        read_options(draft, ctx.lists, diagnostics)
    order = compile_form(pages, ctx.drafts, diagnostics, library)
    if not isinstance(root, YMap):  # the schema has already reported it
        diagnostics.raise_if_errors()
        raise DefinitionError.at(root.pos, "the form must be a mapping")  # pragma: no cover
    diagnostics.raise_if_errors()
    return assemble(root, pages, ctx.drafts, order, content_hash(root), ctx.lists)


def _collect_pages(root: YMap, ctx: LoadContext) -> list[PageDraft]:
    pages: list[PageDraft] = []
    seen: dict[str, YNode] = {}
    page_nodes = get(root, "pages")
    for index, node in enumerate(page_nodes.items if isinstance(page_nodes, YSeq) else ()):
        if not isinstance(node, YMap):
            continue
        id_node = get(node, "id")
        page_id = str_value(id_node) or f"page_{index + 1}"
        if page_id in seen and id_node is not None:
            ctx.diagnostics.error(
                id_node.pos,
                f"duplicate page id '{page_id}' (first used at line {seen[page_id].pos.line})",
                "page ids are unique within a form",
            )
        elif id_node is not None:
            seen[page_id] = id_node
        page = PageDraft(node, page_id)
        relevant = get(node, "relevant")
        page.relevant_src = relevant if isinstance(relevant, YScalar) else None
        page.items = _collect_items(get(node, "fields"), page, None, (), ctx)
        pages.append(page)
    return pages


def _collect_items(
    seq: YNode | None, page: PageDraft, parent: Draft | None, prefix: tuple[str, ...], ctx: LoadContext
) -> list[Draft]:
    drafts: list[Draft] = []
    for node in seq.items if isinstance(seq, YSeq) else ():
        if not isinstance(node, YMap):
            continue
        id_node = get(node, "id")
        ident = str_value(id_node)
        if id_node is None or ident is None or not ID_RE.fullmatch(ident):
            continue  # the schema has reported the missing or malformed id
        if ident in RESERVED_WORDS:
            ctx.diagnostics.error(
                id_node.pos,
                f"'{ident}' is a reserved word of the expression language and cannot be an id",
                f"choose another name, such as {ident}_answer",
            )
        if ident in ctx.ids:
            ctx.diagnostics.error(
                id_node.pos,
                f"duplicate id '{ident}' (first used at line {ctx.ids[ident].line})",
                "ids are unique across the whole form, groups and repeats included",
            )
            continue
        ctx.ids[ident] = id_node.pos
        type_name = str_value(get(node, "type"))
        ftype = FieldType(type_name) if type_name in FieldType._value2member_map_ else None
        draft = Draft(node, ident, ftype, (*prefix, ident), page, parent, len(ctx.drafts))
        ctx.drafts.append(draft)
        drafts.append(draft)
        if ftype is not None and draft.is_container:
            draft.children = _collect_items(get(node, "fields"), page, draft, draft.path, ctx)
    return drafts
