"""Reading and checking an item's literal options: labels, bounds, lengths, choices, defaults.

Expressions are only collected here (compiled later, once every item's type is known). Checks
that need no expression happen here: bounds of the right type and in the right order, a pattern
both Python and browsers understand, choices that exist and have unique values, a default of
the field's type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dsl import Diagnostics, YMap, YNode, YScalar, YSeq, did_you_mean, key_name, scalar_json, to_json
from dsl._lib_formats import is_valid_email, normalise_postcode, normalise_uk_phone
from dsl._regex import check_portable_regex
from forms._canonical import bool_value, get, int_value, number_value, str_value, text_of, text_value
from forms._coerce import (
    Bad,
    parse_date_literal,
    parse_datetime_literal,
    parse_time_literal,
    read_decimal,
    read_integer,
    read_yesno,
)
from forms._drafts import Draft
from forms._fields import DEFAULT_MAX_LENGTH, FieldType, allowed_keys, parse_size
from forms._lists import build_choices
from forms._messages import show
from forms._text import ChoiceList

FT = FieldType
_TEXT_KEYS = ("label", "hint", "required_message", "message", "pattern_message", "yes_label", "no_label")
_INT_KEYS = ("min_length", "max_length", "rows", "places", "min_selected", "max_selected")
_EXPR_KEYS = ("relevant", "constraint", "default_expr", "choice_filter", "value", "item_label")
_LITERALS = {
    FT.DATE: (parse_date_literal, "a date written YYYY-MM-DD, like 2024-01-31"),
    FT.TIME: (parse_time_literal, "a time written HH:MM in quotes, like '08:30'"),
    FT.DATETIME: (parse_datetime_literal, "a date and time written YYYY-MM-DDTHH:MM, like 2024-01-31T08:30"),
}


def read_options(draft: Draft, lists: Mapping[str, ChoiceList], diagnostics: Diagnostics) -> None:
    """Fill ``draft.opts`` and ``draft.sources`` from its YAML, recording every problem."""
    ftype = draft.ftype
    node = draft.node
    if ftype is None:
        return
    keys = set(allowed_keys(ftype))
    opts = draft.opts
    for key_node, value in node.items():
        key = key_name(key_node)
        if key not in keys:
            continue
        if key in _TEXT_KEYS:
            opts[key] = text_of(value)
        elif key in _INT_KEYS:
            opts[key] = int_value(value)
        elif key in _EXPR_KEYS and isinstance(value, YScalar) and text_value(value):
            draft.sources[key] = value
        elif key == "required":
            flag = bool_value(value)
            if flag is not None:
                opts["required"] = flag
            elif isinstance(value, YScalar) and text_value(value):
                draft.sources["required"] = value
        elif key == "read_only":
            opts["read_only"] = bool_value(value) is True
        elif key == "warning" and isinstance(value, YMap):
            when = get(value, "when")
            if isinstance(when, YScalar) and text_value(when):
                draft.sources["warning"] = when
            opts["warning_message"] = text_of(get(value, "message"))
            opts["warning_pos"] = value.pos
        elif key in ("min", "max"):
            opts[key] = _bound(draft, key, value, diagnostics)
        elif key == "max_size":
            opts["max_size"] = parse_size(str_value(value) or "")
        elif key == "accept" and isinstance(value, YSeq):
            opts["accept"] = tuple(v for v in (str_value(i) for i in value.items) if v)
        elif key == "max_accuracy":
            opts["max_accuracy"] = number_value(value)
        elif key == "appearance":
            opts["appearance"] = str_value(value)
        elif key == "pattern":
            _pattern(draft, value, diagnostics)
        elif key == "choices":
            _choices(draft, value, lists, diagnostics)
    _check_order(draft, diagnostics)
    if "default" in node:
        _default(draft, get(node, "default"), diagnostics)
    if "default" in node and "default_expr" in node:
        diagnostics.error(
            node.key_pos("default_expr"),
            f"field '{draft.id}' has both 'default' and 'default_expr'",
            "keep one: default is a fixed value, default_expr is computed when the form opens",
        )


def _bound(draft: Draft, key: str, value: YNode, diagnostics: Diagnostics) -> Any:
    ftype = draft.ftype
    if ftype in _LITERALS and isinstance(value, YScalar):
        parse, what = _LITERALS[ftype]
        text = text_value(value)
        parsed = parse(text) if text is not None else None
        if parsed is None:
            diagnostics.error(value.pos, f"'{key}' of field '{draft.id}' must be {what}")
        return parsed
    if ftype is FT.DECIMAL:
        return number_value(value)
    return int_value(value)


def _pattern(draft: Draft, value: YNode, diagnostics: Diagnostics) -> None:
    pattern = str_value(value)
    if pattern is None:
        return
    problem = check_portable_regex(pattern)
    if problem is None:
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:  # pragma: no cover - checked above
            problem = str(exc)
    if problem is not None:
        diagnostics.error(
            value.pos,
            f"invalid pattern in field '{draft.id}': {problem}",
            "write a regular expression such as '[A-Z]{2}[0-9]{6}'",
        )
        return
    draft.opts["pattern"] = pattern


def _choices(draft: Draft, value: YNode, lists: Mapping[str, ChoiceList], diagnostics: Diagnostics) -> None:
    name = str_value(value)
    if name is not None:
        found = lists.get(name)
        if found is None:
            hint = did_you_mean(name, lists) or (
                f"add lists/{name}.csv or lists/{name}.yaml" if lists else "no shared lists were loaded"
            )
            diagnostics.error(value.pos, f"unknown choice list '{name}' in field '{draft.id}'", hint)
            return
        draft.opts["choices"] = found
        draft.opts["list_name"] = name
    elif isinstance(value, YSeq):
        choices = build_choices(value.items, diagnostics, f"field '{draft.id}'")
        columns: dict[str, None] = {}
        for choice in choices:
            columns.update(dict.fromkeys(choice.data))
        draft.opts["choices"] = ChoiceList(draft.id, tuple(choices), tuple(columns), value.pos)


def _check_order(draft: Draft, diagnostics: Diagnostics) -> None:
    opts = draft.opts
    max_length = opts.get("max_length")
    if max_length is None and draft.ftype in DEFAULT_MAX_LENGTH:
        max_length = DEFAULT_MAX_LENGTH[draft.ftype]
    pairs = (
        ("min", opts.get("min"), "max", opts.get("max")),
        ("min_length", opts.get("min_length"), "max_length", max_length),
        ("min_selected", opts.get("min_selected"), "max_selected", opts.get("max_selected")),
    )
    for low_key, low, high_key, high in pairs:
        if low is not None and high is not None and _greater(low, high):
            bound = f"{show(high)}" if high_key in draft.node else f"the default, {show(high)}"
            diagnostics.error(
                draft.node.value_pos(low_key),
                f"'{low_key}' ({show(low)}) is greater than '{high_key}' ({bound}) in field '{draft.id}'",
            )
    choices = opts.get("choices")
    low_selected = opts.get("min_selected")
    if isinstance(choices, ChoiceList) and low_selected is not None and low_selected > len(choices):
        diagnostics.error(
            draft.node.value_pos("min_selected"),
            f"'min_selected' ({low_selected}) is more than the {len(choices)} choices of field '{draft.id}'",
        )


def _greater(low: Any, high: Any) -> bool:
    try:
        return bool(low > high)
    except TypeError:
        return False


def _default(draft: Draft, node: YNode | None, diagnostics: Diagnostics) -> None:
    if node is None or draft.ftype is None:
        return
    found, problem = default_value(draft.ftype, node, draft.opts)
    if problem is not None:
        diagnostics.error(node.pos, f"the default of field '{draft.id}' {problem}")
    else:
        draft.opts["default"] = found


def default_value(ftype: FieldType, node: YNode, opts: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Read a literal default of ``ftype``: (value, None) or (None, what is wrong)."""
    raw = scalar_json(node) if isinstance(node, YScalar) else to_json(node)
    text = text_value(node)
    if ftype in (FT.TEXT, FT.TEXTAREA):
        limit = opts.get("max_length") or DEFAULT_MAX_LENGTH[ftype]
        if text is None:
            return None, "must be text"
        return (text, None) if len(text) <= limit else (None, f"is longer than {limit} characters")
    if ftype in (FT.INTEGER, FT.DECIMAL):
        got = (read_integer if ftype is FT.INTEGER else read_decimal)(raw)
        whole = "a whole number" if ftype is FT.INTEGER else "a number"
        return (None, f"must be {whole}, not {show(raw)!r}") if isinstance(got, Bad) else (got, None)
    if ftype in _LITERALS:
        parse, what = _LITERALS[ftype]
        parsed = parse(text) if text is not None else None
        return (parsed, None) if parsed is not None else (None, f"must be {what}")
    if ftype is FT.YESNO:
        got = read_yesno(raw, strict=False)
        return (None, "must be true or false") if isinstance(got, Bad) else (got, None)
    if ftype in (FT.SELECT_ONE, FT.SELECT_MANY):
        return _choice_default(ftype, node, opts)
    if ftype in (FT.EMAIL, FT.UK_PHONE, FT.UK_POSTCODE) and text is not None:
        if ftype is FT.EMAIL:
            return (text, None) if is_valid_email(text) else (None, "is not an email address")
        normal = (normalise_uk_phone if ftype is FT.UK_PHONE else normalise_postcode)(text)
        noun = "a UK phone number" if ftype is FT.UK_PHONE else "a UK postcode"
        return (normal, None) if normal is not None else (None, f"is not {noun}")
    return None, "is not a value this field can hold"


def _choice_default(ftype: FieldType, node: YNode, opts: Mapping[str, Any]) -> tuple[Any, str | None]:
    items = node.items if isinstance(node, YSeq) else (node,)
    values = [text_value(i) for i in items]
    if ftype is FT.SELECT_ONE and (len(values) != 1 or isinstance(node, YSeq)):
        return None, "must be one choice value"
    choices = opts.get("choices")
    for value in values:
        if value is None:
            return None, "must be a choice value"
        if isinstance(choices, ChoiceList) and value not in choices:
            hint = did_you_mean(value, choices.values)
            return None, f"'{value}' is not one of its choices" + (f" ({hint})" if hint else "")
    return (values[0] if ftype is FT.SELECT_ONE else values), None
