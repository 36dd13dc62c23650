"""The definition-format JSON Schemas (draft 2020-12) for forms, departments and lists.

They are built here from the field-type table, and published as ``forms/schemas/*.json`` so that
editors can autocomplete and check a definition while it is written (a test keeps the files equal
to what this module builds). The loader validates every definition against the same schema before
its own checks; every property carries a title and a description for editor tooltips.
"""

from __future__ import annotations

import copy
from typing import Any

from forms._defkeys import BOUNDS, DEFS, KEYS, expr_key, int_key, text_key
from forms._fields import ID_PATTERN, LABEL_OPTIONAL, TYPE_REQUIRED, FieldType, allowed_keys

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_IDS = {
    "form": "urn:waypost:schema:form:1",
    "department": "urn:waypost:schema:department:1",
    "list": "urn:waypost:schema:list:1",
}


def _key_schema(ftype: FieldType, key: str) -> dict[str, Any]:
    if key == "type":
        return {"const": ftype.value, "title": "type", "description": "The kind of question."}
    if key in ("min", "max"):
        if ftype is FieldType.REPEAT:
            lowest = 0 if key == "min" else 1
            return int_key(key, f"The {'fewest' if key == 'min' else 'most'} items.", lowest)
        if ftype in (FieldType.PHOTO, FieldType.FILE):
            return int_key("max", "The most files (default 1).", 1)
        schema, what = BOUNDS[ftype]
        word = "smallest" if key == "min" else "largest"
        return {**schema, "title": key, "description": f"The {word} answer allowed: {what}."}
    if key == "fields" and ftype is FieldType.REPEAT:
        return {**KEYS["fields"], "description": "The fields of each item."}
    return KEYS[key]


def _type_def(ftype: FieldType) -> dict[str, Any]:
    required = list(TYPE_REQUIRED.get(ftype, ()))
    if ftype not in LABEL_OPTIONAL:
        required.insert(0, "label")
    return {
        "title": f"{ftype.value} field",
        "type": "object",
        "properties": {key: _key_schema(ftype, key) for key in allowed_keys(ftype)},
        "required": required,
        "additionalProperties": False,
    }


def _field_def() -> dict[str, Any]:
    return {
        "title": "field",
        "description": "A question, a note, a calculation, a group or a repeat.",
        "type": "object",
        "properties": {"id": KEYS["id"], "type": KEYS["type"]},
        "required": ["id", "type"],
        "allOf": [
            {
                "if": {
                    "type": "object",
                    "properties": {"type": {"const": t.value}},
                    "required": ["type"],
                },
                "then": {"$ref": f"#/$defs/{t.value}_field"},
            }
            for t in FieldType
        ],
    }


def _form_schema() -> dict[str, Any]:
    defs = dict(DEFS)
    defs["field"] = _field_def()
    for ftype in FieldType:
        defs[f"{ftype.value}_field"] = _type_def(ftype)
    defs["page"] = {
        "title": "page",
        "description": "One screen of the form.",
        "type": "object",
        "properties": {
            "id": {"$ref": "#/$defs/id", "title": "id", "description": "Unique among pages."},
            "title": text_key("title", "The page heading."),
            "description": text_key("description", "Text shown under the heading."),
            "relevant": expr_key("relevant", "When false the page is skipped and its answers dropped."),
            "fields": {
                "type": "array",
                "minItems": 1,
                "title": "fields",
                "description": "The items on the page.",
                "items": {"$ref": "#/$defs/field"},
            },
        },
        "required": ["id", "fields"],
        "additionalProperties": False,
    }
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_IDS["form"],
        "title": "Waypost form",
        "description": "A form definition: forms/<form>.yaml in a department folder.",
        "type": "object",
        "properties": {
            "form": {
                "$ref": "#/$defs/id",
                "title": "form",
                "description": "The form id; the file name without .yaml.",
            },
            "version": {
                "type": "string",
                "title": "version",
                "description": "The author's version "
                'label, in quotes (e.g. "1.2"); the engine also keeps a content hash.',
            },
            "title": text_key("title", "The form's title."),
            "description": text_key("description", "What the form is for."),
            "classification": {
                "enum": ["OFFICIAL", "OFFICIAL-SENSITIVE"],
                "title": "classification",
                "description": "The Government Security Classification of the answers (default OFFICIAL).",
            },
            "statement": {
                "type": "boolean",
                "title": "statement",
                "description": "true for evidential statements (signed, then immutable).",
            },
            "pages": {
                "type": "array",
                "minItems": 1,
                "title": "pages",
                "description": "The pages, in order.",
                "items": {"$ref": "#/$defs/page"},
            },
        },
        "required": ["form", "title", "pages"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _department_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_IDS["department"],
        "title": "Waypost department",
        "description": "department.yaml at the top of a department folder.",
        "type": "object",
        "properties": {
            "department": {"$ref": "#/$defs/id", "title": "department", "description": "The department id."},
            "title": text_key("title", "The department's name."),
            "description": text_key("description", "What the department does."),
            "roles": {
                "type": "object",
                "title": "roles",
                "description": "The roles people in this department can hold, by id.",
                "propertyNames": {"pattern": ID_PATTERN},
                "additionalProperties": {
                    "type": "object",
                    "title": "role",
                    "description": "One role.",
                    "properties": {
                        "title": text_key("title", "The role's name."),
                        "description": text_key("description", "Who holds this role."),
                    },
                    "required": ["title"],
                    "additionalProperties": False,
                },
            },
            "connections": {
                "type": "object",
                "title": "connections",
                "description": "Settings for back-end "
                "systems, by name (see workflows.md); secrets only as ${env:NAME}.",
                "propertyNames": {"pattern": ID_PATTERN},
                "additionalProperties": {"type": "object"},
            },
        },
        "required": ["department", "title"],
        "additionalProperties": False,
        "$defs": {"id": DEFS["id"], "text": DEFS["text"]},
    }


def _list_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_IDS["list"],
        "title": "Waypost choice list",
        "description": "lists/<name>.yaml: a sequence of choices with unique values.",
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/$defs/choice"},
        "$defs": {"text": DEFS["text"], "choice": DEFS["choice"]},
    }


_BUILT: dict[str, dict[str, Any]] = {
    "form": _form_schema(),
    "department": _department_schema(),
    "list": _list_schema(),
}


def definition_schema(kind: str) -> dict[str, Any]:
    """The definition-format JSON Schema for ``kind``: ``"form"``, ``"department"`` or ``"list"``.

    Returns a fresh copy each call. An unknown kind raises ``ValueError``.
    """
    if kind not in _BUILT:
        raise ValueError(f"unknown definition kind {kind!r}: use 'form', 'department' or 'list'")
    return copy.deepcopy(_BUILT[kind])


def built_schema(kind: str) -> dict[str, Any]:
    """The shared (not copied) schema, for the loaders' validators. Do not modify it."""
    return _BUILT[kind]
