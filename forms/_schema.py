"""``Form.json_schema()``: the JSON Schema (draft 2020-12) of a form's normalised JSON answers.

The schema says what :meth:`ValidationResult.to_json` produces and what strict validation
(``coerce=False``) accepts, structurally: each field's JSON type, unconditional ``required``,
choices, bounds, lengths and patterns (see ``_validate`` for the exact list). Null and, for text,
the empty string mean "no answer", so an optional property also allows them. Dates, times and
datetimes carry ``format`` for readers and a ``pattern`` that checks real calendar dates, since
validators need not assert ``format``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsl._types import Kind, Type
from forms._coerce import (
    DATE_PART,
    DATETIME_PART,
    EMAIL,
    PHONE,
    POSTCODE,
    SHA256,
    TIME_PART,
    anchored,
    content_type_pattern,
    user_pattern,
)
from forms._fields import FieldType

if TYPE_CHECKING:
    from forms._model import Field, Form, Item, Repeat

FT = FieldType
DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE = {"type": "string", "format": "date", "pattern": anchored(DATE_PART)}
TIME = {
    "type": "string",
    "format": "time",
    "pattern": anchored(TIME_PART),
    "description": "HH:MM (JSON Schema's time format also allows seconds and an offset; answers do not)",
}
DATETIME = {"type": "string", "format": "date-time", "pattern": anchored(DATETIME_PART)}


def _title(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if item.label is not None:
        out["title"] = item.label.en
    if item.hint is not None:
        out["description"] = item.hint.en
    return out


def _attachment(f: Field) -> dict[str, Any]:
    size: dict[str, Any] = {"type": "integer", "minimum": 0}
    if f.max_size is not None:
        size["maximum"] = f.max_size
    return {
        "type": "object",
        "properties": {
            "sha256": {"type": "string", "pattern": SHA256},
            "filename": {"type": "string", "minLength": 1},
            "content_type": {
                "type": "string",
                "pattern": content_type_pattern(f.accept, images=f.type is FT.PHOTO),
            },
            "size": size,
            "captured_at": DATETIME,
        },
        "required": ["sha256", "filename", "content_type", "size"],
        "additionalProperties": False,
    }


def _value(f: Field, required: bool) -> dict[str, Any]:
    """The schema of one answer (without null, which :func:`_field` adds for optional ones)."""
    t = f.type
    if t in (FT.TEXT, FT.TEXTAREA, FT.EMAIL, FT.UK_PHONE, FT.UK_POSTCODE, FT.SELECT_ONE):
        out: dict[str, Any] = {"type": "string"}
        if f.max_length is not None:
            out["maxLength"] = f.max_length
        checks: dict[str, Any] = {}
        if f.min_length:
            checks["minLength"] = f.min_length
        pattern = {FT.EMAIL: EMAIL, FT.UK_PHONE: PHONE, FT.UK_POSTCODE: POSTCODE}.get(t)
        if t is FT.TEXT and f.pattern:
            pattern = user_pattern(f.pattern)
        if pattern:
            checks["pattern"] = pattern
        if t is FT.SELECT_ONE and f.choices is not None and f.choice_filter is None:
            checks["enum"] = list(f.choices.values)
        if required:
            out.update(checks)
            out["minLength"] = max(checks.get("minLength", 1), 1)
        elif checks:
            # "" is no answer, so it is allowed even where a value would need more.
            out["anyOf"] = [{"enum": ["", None]}, checks]
        return out
    if t in (FT.INTEGER, FT.DECIMAL):
        out = {"type": "integer" if t is FT.INTEGER else "number"}
        if f.min is not None:
            out["minimum"] = f.min
        if f.max is not None:
            out["maximum"] = f.max
        return out
    if t in (FT.DATE, FT.TIME, FT.DATETIME):
        return dict({FT.DATE: DATE, FT.TIME: TIME, FT.DATETIME: DATETIME}[t])
    if t is FT.YESNO:
        return {"type": "boolean"}
    if t is FT.SELECT_MANY:
        item: dict[str, Any] = {"type": "string"}
        if f.choices is not None and f.choice_filter is None:
            item["enum"] = list(f.choices.values)
        return _counted(
            {"type": "array", "items": item, "uniqueItems": True},
            f.min_selected or 0,
            f.max_selected,
            required,
        )
    if t in (FT.PHOTO, FT.FILE):
        return _counted(
            {"type": "array", "items": _attachment(f)}, 0, f.max if isinstance(f.max, int) else 1, required
        )
    if t is FT.SIGNATURE:
        return _attachment(f)
    if t is FT.GEOPOINT:
        return {
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "accuracy": {"type": "number", "minimum": 0},
            },
            "required": ["lat", "lon"],
            "additionalProperties": False,
        }
    return calc_schema(f.expr_type)


def _counted(out: dict[str, Any], low: int, high: int | None, required: bool) -> dict[str, Any]:
    if high is not None:
        out["maxItems"] = high
    least = max(low, 1) if required else low
    if least and required:
        out["minItems"] = least
    elif least:
        out["anyOf"] = [{"maxItems": 0}, {"minItems": least}]  # [] is no answer
    return out


def calc_schema(t: Type) -> dict[str, Any]:
    """The JSON shape of a value of expression type ``t`` (for calculations)."""
    kind = t.kind
    simple = {
        Kind.TEXT: {"type": "string"},
        Kind.NUMBER: {"type": "number"},
        Kind.BOOLEAN: {"type": "boolean"},
        Kind.DATE: DATE,
        Kind.TIME: TIME,
        Kind.DATETIME: DATETIME,
        Kind.RECORD: {"type": "object"},
    }
    if kind in simple:
        return dict(simple[kind])
    if kind is Kind.LIST:
        inner = calc_schema(t.item) if t.item is not None else {}
        return {"type": "array", "items": inner} if inner else {"type": "array"}
    return {}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif not schema:
        return schema
    else:  # pragma: no cover - every answer schema has a type
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _unconditional(item: Item, conditional: bool) -> bool:
    return not conditional and item.relevant is None


def _object(items: tuple[Item, ...], conditional: bool) -> tuple[dict[str, Any], bool]:
    """The schema of a level of answers, and whether it has unconditionally required answers."""
    from forms._model import Field, Group

    properties: dict[str, Any] = {}
    required: list[str] = []
    for item in items:
        firm = _unconditional(item, conditional)
        if isinstance(item, Field):
            if item.type is FT.NOTE:
                continue
            must = item.required and firm and item.type is not FT.CALCULATE
            schema = {**_title(item), **_value(item, must)}
            if item.type is FT.CALCULATE:
                schema["readOnly"] = True
            properties[item.id] = schema if must else _nullable(schema)
        elif isinstance(item, Group):
            schema, inner = _object(item.fields, not firm)
            properties[item.id] = {**_title(item), **(schema if inner else _nullable(schema))}
            must = inner
        else:
            properties[item.id], must = _repeat(item, firm)
        if must:
            required.append(item.id)
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = required
    return out, bool(required)


def _repeat(r: Repeat, firm: bool) -> tuple[dict[str, Any], bool]:
    item_schema, _ = _object(r.fields, False)
    out: dict[str, Any] = {**_title(r), "type": "array", "items": item_schema}
    if r.max_items is not None:
        out["maxItems"] = r.max_items
    if r.min_items and firm:
        out["minItems"] = r.min_items
        return out, True
    return _nullable(out), False


def form_json_schema(form: Form) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``form``'s normalised JSON answers."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for page in form.pages:
        # Items on a page with a relevance condition are never unconditionally required.
        part, _ = _object(page.fields, page.relevant is not None)
        properties.update(part["properties"])
        required.extend(part.get("required", []))
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"urn:waypost:form:{form.id}:{form.content_hash[:16]}",
        "title": form.title.en,
    }
    if form.description is not None:
        schema["description"] = form.description.en
    schema.update({"type": "object", "properties": properties, "additionalProperties": False})
    if required:
        schema["required"] = required
    return schema
