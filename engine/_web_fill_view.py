"""What a page shows of each form item, worked out in Python so the templates stay logic-free.

:func:`item_views` turns a tuple of :class:`forms.Item` plus the raw answers (see
:mod:`engine._drafts`), the errors by dotted path and an :class:`forms.Evaluation` into a tree
of :class:`ItemView`; ``fields.html``'s ``render_items`` macro renders it (the markup contract is
in the module docstring of that template). Any page that shows a form's items (the officer's
pages, a supervisor's task form) uses the pair.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine._drafts import dotted, max_items
from forms import AnswerError, Evaluation, Field, FieldType, Group, Item, Repeat, Text

__all__ = ["Choice", "EntryView", "ItemView", "dom_id", "error_links", "item_views"]

FT = FieldType
#: More choices than this show as a drop-down list instead of radios.
RADIO_LIMIT = 12
_INPUT_TYPES = {FT.EMAIL: "email", FT.UK_PHONE: "tel"}
_INPUT_MODES = {FT.INTEGER: "numeric", FT.DECIMAL: "decimal", FT.UK_PHONE: "tel", FT.EMAIL: "email"}
_AUTOCOMPLETE = {FT.EMAIL: "email", FT.UK_PHONE: "tel", FT.UK_POSTCODE: "postal-code"}
_KINDS = {
    FT.TEXTAREA: "textarea",
    FT.DATE: "date",
    FT.DATETIME: "datetime",
    FT.TIME: "time",
    FT.YESNO: "radios",
    FT.SELECT_MANY: "checkboxes",
    FT.PHOTO: "upload",
    FT.FILE: "upload",
    FT.SIGNATURE: "signature",
    FT.GEOPOINT: "geopoint",
    FT.NOTE: "note",
    FT.CALCULATE: "calculate",
}
_YES, _NO = Text("Yes", "Ie"), Text("No", "Na")


def dom_id(path: str) -> str:
    """The id of a field's first input: ``f-`` and the dotted path with ``-`` for ``.``."""
    return "f-" + path.replace(".", "-")


@dataclass(frozen=True, slots=True)
class Choice:
    """One radio, checkbox or option."""

    value: str
    label: Text
    checked: bool


@dataclass(slots=True)
class EntryView:
    """One item of a repeat: its legend, its fields and whether it may be removed."""

    path: str
    legend: str
    children: list[ItemView]
    removable: bool


@dataclass(slots=True)
class ItemView:
    """Everything the template needs to render one item (see the module docstring)."""

    kind: str
    id: str
    path: str
    dom: str
    type: str
    label: Text | None = None
    hint: Text | None = None
    value: Any = None
    error: str | None = None
    warning: str | None = None
    acknowledged: bool = False
    hidden: bool = False
    choices: list[Choice] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    children: list[ItemView] = field(default_factory=list)
    entries: list[EntryView] = field(default_factory=list)
    can_add: bool = False
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def describedby(self) -> str:
        """The ids the first input's ``aria-describedby`` lists (hint, error, warning)."""
        ids = [self.dom + "-hint"] if self.hint else []
        if self.error:
            ids.append(self.dom + "-error")
        if self.warning:
            ids.append(self.dom + "-warning")
        return " ".join(ids)


def item_views(
    items: tuple[Item, ...],
    raw: Mapping[str, Any],
    *,
    evaluation: Evaluation,
    errors: Mapping[str, AnswerError] | None = None,
    acknowledged: Collection[str] = (),
    prefix: tuple[Any, ...] = (),
) -> list[ItemView]:
    """The views of ``items`` (at ``prefix``) with the raw answers at that level."""
    return _Builder(evaluation, errors or {}, acknowledged).items(items, raw, prefix)


def error_links(errors: Collection[AnswerError]) -> list[tuple[str, str]]:
    """The (``#id``, message) links of an error summary, in the order given."""
    return [("#" + dom_id(".".join(str(p) for p in e.path)), e.message) for e in errors]


class _Builder:
    def __init__(
        self, evaluation: Evaluation, errors: Mapping[str, AnswerError], ack: Collection[str]
    ) -> None:
        self.evaluation = evaluation
        self.errors = errors
        self.ack = frozenset(ack)

    def items(
        self, items: tuple[Item, ...], raw: Mapping[str, Any], prefix: tuple[Any, ...]
    ) -> list[ItemView]:
        views = []
        for item in items:
            view = self.item(item, raw, prefix)
            if view is not None:
                views.append(view)
        return views

    def item(self, item: Item, raw: Mapping[str, Any], prefix: tuple[Any, ...]) -> ItemView | None:
        path = dotted(prefix, item.id)
        tuple_path = (*prefix, item.id)
        value = raw.get(item.id)
        view = ItemView(
            kind="group",
            id=item.id,
            path=path,
            dom=dom_id(path),
            type=item.type.value,
            label=item.label,
            hint=item.hint,
            hidden=self.evaluation.is_hidden(tuple_path),
        )
        problem = self.errors.get(path)
        if problem is not None and problem.blocking:
            view.error = problem.message
        elif problem is not None:
            view.warning = problem.message
        view.acknowledged = isinstance(item, Field) and item.id in self.ack and item.warning is not None
        if isinstance(item, Group):
            view.children = self.items(item.fields, value if isinstance(value, dict) else {}, tuple_path)
        elif isinstance(item, Repeat):
            self.repeat(view, item, value if isinstance(value, list) else [], tuple_path)
        else:
            if item.type is FT.CALCULATE and item.label is None:
                return None
            self.field(view, item, value, tuple_path)
        return view

    def repeat(self, view: ItemView, r: Repeat, entries: list[Any], path: tuple[Any, ...]) -> None:
        view.kind = "repeat"
        view.count = len(entries)
        view.can_add = len(entries) < max_items(r)
        view.extra = {"min": r.min_items, "max": r.max_items}
        computed = _at(self.evaluation.answers, path)
        for index, entry in enumerate(entries):
            entry = entry if isinstance(entry, dict) else {}
            legend = f"Item {index + 1}"
            if r.item_label is not None and isinstance(computed, list) and index < len(computed):
                try:
                    text = r.item_label(self.evaluation.env.push(computed[index])).strip(" :–-,()")
                except Exception:  # an item label is decoration: a failure never breaks the page
                    text = ""
                if text:
                    legend = f"{legend}: {text}"
            view.entries.append(
                EntryView(
                    path=dotted(path, str(index)),
                    legend=legend,
                    children=self.items(r.fields, entry, (*path, index)),
                    removable=len(entries) > r.min_items,
                )
            )

    def field(self, view: ItemView, f: Field, value: Any, path: tuple[Any, ...]) -> None:
        view.kind = _KINDS.get(f.type, "input")
        view.value = value
        attrs = view.attrs
        if f.type is FT.CALCULATE:
            view.value = _show(_at(self.evaluation.answers, path))
            return
        if f.type in (FT.YESNO, FT.SELECT_ONE, FT.SELECT_MANY):
            view.choices = self.choices(f, value, path)
            if f.type is FT.SELECT_ONE:
                many = len(view.choices) > RADIO_LIMIT
                view.kind = (
                    "select" if f.appearance == "dropdown" or (many and f.appearance != "radio") else "radios"
                )
        elif f.type in (FT.PHOTO, FT.FILE, FT.SIGNATURE):
            records = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            view.files = [
                {
                    **r,
                    "json": json.dumps(r, default=str),
                    "image": str(r.get("content_type", "")).startswith("image/"),
                }
                for r in records
                if isinstance(r, dict)
            ]
            most = f.max if isinstance(f.max, int) else 1
            accept = "image/*" if f.type is not FT.FILE else ",".join(f.accept)
            view.extra = {"max": most, "max_size": f.max_size or "", "accept": accept}
            view.can_add = len(view.files) < most
        elif view.kind == "input":
            self.input_attrs(f, attrs)
        elif f.type is FT.TEXTAREA:
            attrs["rows"] = str(f.rows or 5)
            if f.max_length:
                attrs["maxlength"] = str(f.max_length)
        if f.read_only:
            attrs["readonly"] = "readonly"

    def input_attrs(self, f: Field, attrs: dict[str, str]) -> None:
        attrs["type"] = _INPUT_TYPES.get(f.type, "text")
        if f.type in _INPUT_MODES:
            attrs["inputmode"] = _INPUT_MODES[f.type]
        if f.type in _AUTOCOMPLETE:
            attrs["autocomplete"] = _AUTOCOMPLETE[f.type]
        elif f.id in ("officer_name", "officer_full_name"):
            attrs["autocomplete"] = "name"
        else:
            attrs["autocomplete"] = "off"
        if f.type is FT.UK_POSTCODE or (f.pattern and "A-Z" in f.pattern and "a-z" not in f.pattern):
            attrs["autocapitalize"] = "characters"
            attrs["spellcheck"] = "false"
        elif f.type is FT.EMAIL:
            attrs["autocapitalize"] = "none"
            attrs["spellcheck"] = "false"
        elif f.id.endswith(("name", "names", "surname", "forenames")):
            attrs["autocapitalize"] = "words"
            attrs["spellcheck"] = "false"
        if f.max_length and f.type is FT.TEXT:
            attrs["maxlength"] = str(f.max_length)

    def choices(self, f: Field, value: Any, path: tuple[Any, ...]) -> list[Choice]:
        chosen = set(value) if isinstance(value, list) else {value} if isinstance(value, str) else set()
        if f.type is FT.YESNO:
            return [
                Choice("yes", f.yes_label or _YES, "yes" in chosen),
                Choice("no", f.no_label or _NO, "no" in chosen),
            ]
        if f.choices is None:
            return []
        env = self.evaluation.env
        for index, part in enumerate(path[:-1]):  # an item inside repeats sees its repeat items
            if isinstance(part, int):
                item = _at(self.evaluation.answers, path[: index + 1])
                if isinstance(item, dict):
                    env = env.push(item)
        out = []
        for c in f.choices:
            if f.choice_filter is not None and c.value not in chosen and not _offered(f, c, env):
                continue
            out.append(Choice(c.value, c.label, c.value in chosen))
        return out


def _offered(f: Field, choice: Any, env: Any) -> bool:
    if f.choice_filter is None:
        return True
    try:
        return f.choice_filter(env.push({"choice": choice.record()})) is True
    except Exception:  # a filter that fails offers the choice: validation has the last word
        return True


def _at(answers: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(part, int):
            answers = answers[part] if isinstance(answers, list) and part < len(answers) else None
        else:
            answers = answers.get(part) if isinstance(answers, dict) else None
    return answers


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
