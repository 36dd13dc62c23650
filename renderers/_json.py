"""A form as JSON: for native clients and for the browser runtime (``static/js/10-expr.js``).

:func:`form_json` gives everything a client needs to show a form, check answers as the officer
types and evaluate relevance and calculations offline, without the YAML or the Python model.
The shape is described by ``renderers/schemas/form-json.schema.json``; in short::

    {format: "waypost-form", format_version: 1, ir_version: 1,
     id, version?, content_hash, title, description?, classification, statement,
     pages: [{id, title?, description?, relevant?, items: [item, ...]}],
     lists: {name: {columns: [...], choices: [choice, ...]}},
     evaluation_order: [["page" | "relevant" | "value", id], ...],
     schema: <the JSON Schema of the answers, Form.json_schema()>}

An item has ``id``, ``type`` (a field type, ``group`` or ``repeat``), ``path`` (the keys from the
answers to its value, repeat indexes left out) and, when set, ``label``, ``hint`` and ``relevant``.
A group or repeat has ``items``; a repeat also ``min``/``max`` (numbers of items) and
``item_label`` (a template IR). A field has ``required`` and ``read_only`` (booleans) and, when
set: ``required_expr``, ``required_message``, ``constraint``, ``message``, ``warning`` ({when,
message}), ``default`` (a normalised JSON answer), ``default_expr``, ``min_length``,
``max_length``, ``pattern`` (the whole answer must match), ``pattern_message``, ``rows``,
``min``/``max`` (bounds, as JSON answers), ``places``, ``yes_label``, ``no_label``, ``choices``
(inline) or ``list_name`` (a key of ``lists``), ``choice_filter``, ``appearance``,
``min_selected``, ``max_selected``, ``max_size`` (bytes), ``accept`` (media types),
``max_accuracy`` (metres) and, for a calculation, ``value`` with ``value_type`` (its expression
type, such as ``"number"`` or ``"list of text"``). A choice is ``{value, label, data?}``, where
``data`` holds a shared list's extra columns (text).

Texts are ``{"en": ..., "cy": ...}`` (``cy`` only when written), or plain strings in one language
when ``lang`` is given. Expressions are the JSON IR of docs/expressions.md. Their frames: frame 0
is the answers; an expression of an item inside repeats has one more frame per enclosing repeat
(the current item, outermost first); ``item_label`` also has the repeat's own item; a
``choice_filter`` has a last frame ``{"choice": {value, label (English), <columns>}}``. Evaluate
``relevant`` and ``value`` in ``evaluation_order``, as :meth:`forms.Form.validate` does: an item
(or page) whose relevance is not true loses its answers; a calculation that gives null has none.
"""

from __future__ import annotations

from typing import Any

from dsl._ir import IR_VERSION
from forms import ChoiceList, Field, Form, Item, Page, Repeat, Text
from forms._result import json_value

FORMAT = "waypost-form"
FORMAT_VERSION = 1
"""Bumped when a key of the JSON changes meaning or is removed (new optional keys do not bump it)."""
LANGUAGES = ("en", "cy")

# Field options copied as they are (numbers, text or None), in the model's order.
_PLAIN = (
    "min_length",
    "max_length",
    "pattern",
    "rows",
    "places",
    "appearance",
    "min_selected",
    "max_selected",
    "max_size",
    "max_accuracy",
)
_TEXTS = ("required_message", "message", "pattern_message", "yes_label", "no_label")
_EXPRESSIONS = ("required_expr", "constraint", "default_expr", "choice_filter", "value")


def form_json(form: Form, *, lang: str | None = None) -> dict[str, Any]:
    """``form`` as JSON-ready data (see the module docstring for the format).

    With ``lang`` (``"en"`` or ``"cy"``) every text is a plain string in that language, Welsh
    falling back to English; without it, texts carry both languages. The result contains only
    dicts, lists, strings, numbers, booleans and None, so ``json.dumps(..., sort_keys=True)``
    gives the same bytes for the same definition. Raises ValueError for an unknown ``lang``.
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    out: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ir_version": IR_VERSION,
        "id": form.id,
        "content_hash": form.content_hash,
        "title": _text(form.title, lang),
        "classification": form.classification,
        "statement": form.statement,
        "pages": [_page(page, lang) for page in form.pages],
        "lists": {name: _list(choices, lang) for name, choices in sorted(form.lists.items())},
        "evaluation_order": [[kind, name] for kind, name in form.evaluation_order],
        "schema": form.json_schema(),
    }
    _put(out, "version", form.version)
    _put(out, "description", _text(form.description, lang))
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless ``value`` is None: absent keys keep the JSON small on a weak network."""
    if value is not None:
        out[key] = value


def _text(text: Text | None, lang: str | None) -> Any:
    if text is None:
        return None
    if lang is not None:
        return text.get(lang)
    return {"en": text.en} if text.cy is None else {"en": text.en, "cy": text.cy}


def _ir(expression: Any) -> Any:
    """The IR of a compiled expression or template, or None."""
    return None if expression is None else expression.ir


def _page(page: Page, lang: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": page.id, "items": [_item(item, lang) for item in page.fields]}
    _put(out, "title", _text(page.title, lang))
    _put(out, "description", _text(page.description, lang))
    _put(out, "relevant", _ir(page.relevant))
    return out


def _item(item: Item, lang: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "type": item.type.value, "path": list(item.path)}
    _put(out, "label", _text(item.label, lang))
    _put(out, "hint", _text(item.hint, lang))
    _put(out, "relevant", _ir(item.relevant))
    if isinstance(item, Field):
        _field(item, out, lang)
        return out
    out["items"] = [_item(child, lang) for child in item.fields]
    if isinstance(item, Repeat):
        out["min"] = item.min_items
        _put(out, "max", item.max_items)
        _put(out, "item_label", _ir(item.item_label))
    return out


def _field(f: Field, out: dict[str, Any], lang: str | None) -> None:
    out["required"] = f.required
    out["read_only"] = f.read_only
    for key in _PLAIN:
        _put(out, key, getattr(f, key))
    for key in _TEXTS:
        _put(out, key, _text(getattr(f, key), lang))
    for key in _EXPRESSIONS:
        _put(out, key, _ir(getattr(f, key)))
    if f.value is not None:
        out["value_type"] = str(f.expr_type)
    if f.warning is not None:
        out["warning"] = {"when": f.warning.when.ir, "message": _text(f.warning.message, lang)}
    if f.default is not None:
        out["default"] = json_value(f.default)
    _put(out, "min", None if f.min is None else json_value(f.min))
    _put(out, "max", None if f.max is None else json_value(f.max))
    if f.accept:
        out["accept"] = list(f.accept)
    if f.list_name is not None:
        out["list_name"] = f.list_name
    elif f.choices is not None:
        out["choices"] = [_choice(c.value, c.label, dict(c.data), lang) for c in f.choices]


def _choice(value: str, label: Text, data: dict[str, str], lang: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "label": _text(label, lang)}
    if data:
        out["data"] = data
    return out


def _list(choices: ChoiceList, lang: str | None) -> dict[str, Any]:
    return {
        "columns": list(choices.columns),
        "choices": [_choice(c.value, c.label, dict(c.data), lang) for c in choices],
    }


__all__ = ["FORMAT", "FORMAT_VERSION", "LANGUAGES", "form_json"]
