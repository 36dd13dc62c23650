"""Check a definition against its definition-format schema and explain each problem in a sentence.

jsonschema finds the problems (``iter_errors``, so all of them at once); this module maps each
error's ``absolute_path`` back to the YAML node it came from, for a line and column, and rewrites
the validator's message into what the author needs: which key, in which field, what was expected
and, where one is close, what they probably meant.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from dsl import Diagnostics, Position, YNode, did_you_mean
from dsl._paths import key_position, locate
from forms._defschema import built_schema
from forms._fields import TYPE_NAMES, types_with_key

_ID_HINT = "use lower case letters, digits and _, starting with a letter (e.g. child_name)"
_MISSING_HINTS = {
    "label": "every question needs a label, e.g. label: Child's full name",
    "id": "add id: a unique name such as child_name",
    "type": "add type: text (or another field type)",
    "fields": "add fields: with at least one item",
    "value": "a calculate field needs value: an expression",
    "choices": "add choices: a list of options, or the name of a shared list",
    "pages": "add pages: with at least one page",
    "when": "a warning needs when: an expression",
    "message": "add message: the text the officer sees",
}
_YAML_BOOL_HINT = "YAML reads yes, no, on, off, true and false as booleans: put the text in quotes"


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(built_schema(kind))


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _got(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def _expected(error: ValidationError) -> str:
    want: Any = error.validator_value
    kinds = [want] if isinstance(want, str) else list(want)
    schema: Any = error.schema
    title = schema.get("title") if isinstance(schema, dict) else None
    if title == "text":
        return "text, or a mapping with en and cy"
    if title == "choice":
        return "a value, or a mapping with value and label"
    if kinds == ["string", "number", "boolean"]:
        return "text"
    if set(kinds) == {"boolean", "string"}:
        return "true, false or an expression"
    if set(kinds) == {"string", "array"}:
        return "a list of choices or the name of a list"
    words = [_TYPE_WORDS.get(k, k) for k in kinds]
    return " or ".join(dict.fromkeys(words))


def _describe(data: Any, path: Sequence[Any], kind: str) -> str:
    """Name the object at ``path`` for a message: "field 'child_name'", "page 2", "the form"."""
    desc = f"the {kind}"
    cur: Any = data
    parent: Any = None
    for index, step in enumerate(path):
        parent_key = path[index - 1] if index else None
        try:
            cur = cur[step]
        except (KeyError, IndexError, TypeError):
            cur = None
        ident = cur.get("id") if isinstance(cur, dict) and isinstance(cur.get("id"), str) else None
        if isinstance(step, int):
            if parent_key == "pages":
                desc = f"page '{ident}'" if ident else f"page {step + 1}"
            elif parent_key == "fields":
                word = cur.get("type") if isinstance(cur, dict) else None
                noun = word if word in ("group", "repeat", "note") else "field"
                desc = f"{noun} '{ident}'" if ident else f"item {step + 1} of {desc}"
            elif parent_key == "choices" or (kind == "list" and index == 0):
                desc = f"choice {step + 1}" + ("" if kind == "list" else f" of {desc}")
            else:
                desc = f"item {step + 1} of {desc}"
        elif parent_key in ("roles", "connections") and isinstance(parent, dict):
            desc = f"{'role' if parent_key == 'roles' else 'connection'} '{step}'"
        elif step == "warning":
            desc = f"the warning of {desc}"
        elif step not in ("pages", "fields", "choices", "roles", "connections"):
            desc = f"'{step}' of {desc}"
        parent = cur
    return desc


def _diagnose(
    error: ValidationError, path: list[Any], root: YNode, data: Any, kind: str
) -> Iterator[tuple[Position, str, str | None]]:
    node = locate(root, path)
    key = path[-1] if path and isinstance(path[-1], str) else None
    here = _describe(data, path, kind)
    owner = _describe(data, path[:-1], kind) if key is not None else here
    validator = error.validator
    instance = error.instance
    schema: Any = error.schema
    wanted: Any = error.validator_value
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        for extra in (k for k in instance if k not in allowed):
            hint = did_you_mean(extra, allowed)
            others = types_with_key(extra)
            if hint is None and others and isinstance(instance.get("type"), str):
                hint = f"'{extra}' only applies to {', '.join(others)} fields"
            yield key_position(node, extra), f"unknown key '{extra}' in {here}", hint
    elif validator == "required" and isinstance(instance, dict):
        for missing in (k for k in wanted if k not in instance):
            hint = _MISSING_HINTS.get(missing)
            if here.startswith("choice"):
                hint = "a choice needs value: the text stored in the answers" if missing == "value" else None
            yield node.pos, f"missing '{missing}' in {here}", hint
    elif validator == "enum" and key == "type" and "fields" in path:
        yield node.pos, f"unknown field type {_show(instance)}", did_you_mean(str(instance), TYPE_NAMES)
    elif validator == "enum":
        options = ", ".join(_show(v) for v in wanted)
        hint = did_you_mean(str(instance), [str(v) for v in wanted])
        yield node.pos, f"'{key}' in {owner} must be one of {options}, not {_show(instance)}", hint
    elif validator == "type":
        subject = f"'{key}' in {owner}" if key is not None else here
        hint = None
        if isinstance(instance, bool) and "string" in str(wanted):
            hint = _YAML_BOOL_HINT
        elif instance is None and "string" in str(wanted):
            hint = "YAML reads null, ~ and an empty value as nothing: write the text, in quotes if needed"
        elif key == "version" and isinstance(instance, int | float):
            hint = 'write the version in quotes, e.g. version: "1.2"'
        elif isinstance(instance, str) and error.validator_value == "object" and key is None:
            hint = "write it as a mapping, e.g. {id: child_name, type: text, label: Name}"
        yield node.pos, f"{subject} must be {_expected(error)}, not {_got(instance)}", hint
    elif "propertyNames" in error.absolute_schema_path:
        noun = "role" if key == "roles" else "name"
        yield key_position(node, str(instance)), f"{_show(instance)} is not a valid {noun} id", _ID_HINT
    elif validator == "pattern" and key in ("id", "form", "department"):
        yield node.pos, f"{_show(instance)} is not a valid id", _ID_HINT
    elif validator == "pattern" and key == "choices":
        yield (
            node.pos,
            f"{_show(instance)} is not a valid list name",
            "a list name is its file name without .csv or .yaml",
        )
    elif validator == "pattern" and key == "max_size":
        yield node.pos, f"{_show(instance)} is not a size", "write a size such as 10MB or 512KB"
    elif validator == "pattern" and "accept" in path:
        yield node.pos, f"{_show(instance)} is not a MIME type", "e.g. application/pdf or image/*"
    elif validator == "minItems":
        if key == "pages":
            yield node.pos, "a form needs at least one page", None
        elif key in ("fields", "choices"):
            yield node.pos, f"{owner} needs at least one {key[:-1]}", None
        else:
            yield node.pos, f"{here} needs at least one item", None
    elif validator in ("minimum", "exclusiveMinimum"):
        word = "at least" if validator == "minimum" else "more than"
        yield node.pos, f"'{key}' in {owner} must be {word} {error.validator_value}", None
    elif validator == "minLength":
        yield node.pos, f"'{key}' in {owner} must not be empty", None
    else:
        yield node.pos, f"{here}: {error.message}", None


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``{"$ref": "#/$defs/x", ...}`` replaced by the definition itself
    (the siblings of a ``$ref`` here are only titles and descriptions)."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _inline(value, defs) for key, value in schema.items() if key != "$ref"}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**out, **_inline(defs[ref.removeprefix("#/$defs/")], defs)}
    return out


@cache
def _pieces() -> tuple[Draft202012Validator, Draft202012Validator, dict[str, Draft202012Validator]]:
    """The form schema in pieces: the form with its items left shallow, a validator for items of
    an unknown type, and one per field type. Checking each item against its own type's
    definition finds exactly what the published schema's if/then switch finds, without trying
    every type's condition on every item (which is slow for forms of a thousand fields). The
    pieces have their references inlined, which jsonschema then need not resolve."""
    form = built_schema("form")
    defs = dict(form["$defs"])
    defs["field"] = {"type": "object"}  # items are checked one by one below
    generic = {key: value for key, value in form["$defs"]["field"].items() if key != "allOf"}
    per_type = {}
    for name in TYPE_NAMES:
        own = _inline(defs[f"{name}_field"], defs)
        own["required"] = ["id", "type", *own["required"]]
        per_type[name] = Draft202012Validator(own)
    top = _inline({key: value for key, value in form.items() if key != "$defs"}, defs)
    return Draft202012Validator(top), Draft202012Validator(_inline(generic, defs)), per_type


def _form_errors(data: Any) -> Iterator[tuple[list[Any], ValidationError]]:
    top, generic, per_type = _pieces()
    for error in top.iter_errors(data):
        yield list(error.absolute_path), error
    pages = data.get("pages") if isinstance(data, dict) else None
    work: list[tuple[Any, list[Any]]] = [
        (page.get("fields"), ["pages", index, "fields"])
        for index, page in enumerate(pages if isinstance(pages, list) else [])
        if isinstance(page, dict)
    ]
    while work:
        fields, prefix = work.pop()
        for index, item in enumerate(fields if isinstance(fields, list) else []):
            if not isinstance(item, dict):
                continue  # the level above has reported it
            path = [*prefix, index]
            kind = item.get("type")
            validator = per_type.get(kind, generic) if isinstance(kind, str) else generic
            for error in validator.iter_errors(item):
                yield [*path, *error.absolute_path], error
            if kind in ("group", "repeat"):
                work.append((item.get("fields"), [*path, "fields"]))


def check_definition(
    root: YNode, data: Any, kind: str, diagnostics: Diagnostics, *, whole: bool = False
) -> int:
    """Record a diagnostic for every way ``data`` (the canonical JSON of ``root``) breaks the
    ``kind`` schema; returns how many were recorded.

    Forms are checked item by item (see :func:`_pieces`); ``whole`` checks the published schema
    in one go instead (the tests show both find the same problems).
    """
    seen: set[tuple[str, int, int, str]] = set()
    if kind == "form" and not whole:
        found = list(_form_errors(data))
    else:
        found = [(list(error.absolute_path), error) for error in _validator(kind).iter_errors(data)]
    found.sort(key=lambda pair: [str(p) for p in pair[0]])
    for path, error in found:
        for pos, message, hint in _diagnose(error, path, root, data, kind):
            mark = (pos.path, pos.line, pos.column, message)
            if mark not in seen:
                seen.add(mark)
                diagnostics.error(pos, message, hint, code="schema")
    return len(seen)
