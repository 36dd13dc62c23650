"""Building the frozen model from checked drafts (the last step of loading)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dsl import YMap
from dsl._types import RecordType
from forms._canonical import bool_value, get, str_value, text_of
from forms._compile import Step
from forms._drafts import Draft, PageDraft
from forms._fields import DEFAULT_MAX_LENGTH, DEFAULT_MAX_SIZE, FieldType
from forms._model import Field, FieldWarning, Form, Group, Item, Page, Repeat
from forms._text import ChoiceList, Text

FT = FieldType


def _item(d: Draft) -> Item:
    if d.ftype is None:  # pragma: no cover - unknown types stop loading before this
        raise ValueError(f"item '{d.id}' has no type")
    o, e = d.opts, d.exprs
    label, hint, relevant = o.get("label"), o.get("hint"), e.get("relevant")
    if d.ftype is FT.GROUP:
        children = tuple(_item(c) for c in d.children)
        return Group(d.id, d.node.pos, d.path, children, d.expr_type, label, hint, relevant)
    if d.ftype is FT.REPEAT:
        children = tuple(_item(c) for c in d.children)
        return Repeat(
            d.id,
            d.node.pos,
            d.path,
            children,
            d.expr_type,
            label,
            hint,
            relevant,
            min_items=o.get("min") or 0,
            max_items=o.get("max"),
            item_label=d.template,
        )
    warning = None
    if "warning" in e and isinstance(o.get("warning_message"), Text):
        warning = FieldWarning(e["warning"], o["warning_message"], o["warning_pos"])
    max_length = o.get("max_length") or DEFAULT_MAX_LENGTH.get(d.ftype)
    files = d.ftype in (FT.PHOTO, FT.FILE)
    return Field(
        d.id,
        d.ftype,
        d.node.pos,
        d.path,
        d.expr_type,
        label,
        hint,
        relevant,
        required=bool(o.get("required", False)),
        required_expr=e.get("required"),
        required_message=o.get("required_message"),
        constraint=e.get("constraint"),
        message=o.get("message"),
        warning=warning,
        default=o.get("default"),
        default_expr=e.get("default_expr"),
        read_only=bool(o.get("read_only", False)),
        min_length=o.get("min_length"),
        max_length=max_length,
        pattern=o.get("pattern"),
        pattern_message=o.get("pattern_message"),
        rows=o.get("rows"),
        min=o.get("min"),
        max=o.get("max") or (1 if files else None),
        places=o.get("places"),
        yes_label=o.get("yes_label"),
        no_label=o.get("no_label"),
        choices=o.get("choices"),
        list_name=o.get("list_name"),
        choice_filter=e.get("choice_filter"),
        appearance=o.get("appearance"),
        min_selected=o.get("min_selected"),
        max_selected=o.get("max_selected"),
        max_size=o.get("max_size") or (DEFAULT_MAX_SIZE if files else None),
        accept=o.get("accept", ()),
        max_accuracy=o.get("max_accuracy"),
        value=e.get("value"),
    )


def assemble(
    root: YMap,
    pages: list[PageDraft],
    drafts: list[Draft],
    compiled: tuple[list[Step], RecordType],
    digest: str,
    lists: Mapping[str, ChoiceList],
) -> Form:
    """The finished :class:`Form` (its validation plans are built by its constructor)."""
    order, frame0 = compiled
    used = {d.opts["list_name"]: d.opts["choices"] for d in drafts if d.opts.get("list_name")}
    form_id = str_value(get(root, "form")) or ""
    built_pages = tuple(
        Page(
            p.id,
            p.node.pos,
            tuple(_item(d) for d in p.items),
            text_of(get(p.node, "title")),
            text_of(get(p.node, "description")),
            p.relevant,
        )
        for p in pages
    )
    return Form(
        id=form_id,
        title=text_of(get(root, "title")) or Text(form_id),
        pages=built_pages,
        position=root.pos,
        content_hash=digest,
        record_type=frame0,
        version=str_value(get(root, "version")),
        description=text_of(get(root, "description")),
        classification=str_value(get(root, "classification")) or "OFFICIAL",
        statement=bool_value(get(root, "statement")) is True,
        lists=MappingProxyType(dict(used)),
        evaluation_order=tuple(order),
    )
