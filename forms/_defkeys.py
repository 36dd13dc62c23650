"""The pieces of the definition-format schemas: one entry per key, with the title and
description an editor shows, and the shared definitions (text, expression, choice, id)."""

from __future__ import annotations

from typing import Any

from forms._fields import ID_PATTERN, LIST_NAME_PATTERN, TYPE_NAMES, FieldType

SCALAR = ["string", "number", "boolean"]

# Reusable pieces, shared by all three schemas through "$defs".
DEFS: dict[str, Any] = {
    "id": {
        "type": "string",
        "pattern": ID_PATTERN,
        "description": "Lower case letters, digits and _, starting with a letter.",
    },
    "text": {
        "title": "text",
        "description": "Text shown to a person: plain text, or a mapping with English (en) and Welsh (cy).",
        "type": [*SCALAR, "object"],
        "properties": {
            "en": {"type": SCALAR, "title": "English", "description": "The English text (required)."},
            "cy": {"type": SCALAR, "title": "Welsh", "description": "The Welsh text; falls back to en."},
        },
        "required": ["en"],
        "additionalProperties": False,
    },
    "expression": {
        "title": "expression",
        "description": "An expression of the Waypost expression language (see expressions.md).",
        "type": SCALAR,
        "minLength": 1,
    },
    "choice": {
        "title": "choice",
        "description": "A choice: a bare value (its own label) or a mapping with value, label and "
        "any extra columns a choice_filter can use.",
        "type": [*SCALAR, "object"],
        "properties": {
            "value": {"type": SCALAR, "title": "value", "description": "The value stored in the answers."},
            "label": {"$ref": "#/$defs/text", "title": "label", "description": "What the officer sees."},
        },
        "required": ["value"],
        "additionalProperties": {
            "type": [*SCALAR, "null"],
            "description": "An extra column, compared as text in a choice_filter (choice.column).",
        },
    },
}


def text_key(title: str, description: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/text", "title": title, "description": description}


def expr_key(title: str, description: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/expression", "title": title, "description": description}


def int_key(title: str, description: str, minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "title": title, "description": description}


# One entry per field key; ``min`` and ``max`` depend on the type and are added per type below.
KEYS: dict[str, dict[str, Any]] = {
    "id": {
        "$ref": "#/$defs/id",
        "title": "id",
        "description": "Unique across the whole form; "
        "the answer's key. Not a reserved word (and or not in true false null).",
    },
    "type": {"enum": list(TYPE_NAMES), "title": "type", "description": "The kind of question."},
    "label": text_key("label", "The question, as the officer sees it (for a note: the text shown)."),
    "hint": text_key("hint", "Help shown under the label."),
    "relevant": expr_key(
        "relevant", "When false the item is hidden, not required, not validated, and its answer is dropped."
    ),
    "required": {
        "type": ["boolean", "string"],
        "title": "required",
        "description": "true, false (the default) or an expression giving a boolean.",
    },
    "required_message": text_key(
        "required_message",
        "The message shown when a required answer is "
        "missing (defaults to 'Enter ...' / 'Select ...' with the label).",
    ),
    "constraint": expr_key(
        "constraint", "Must be true for an answer to be accepted; only checked when the field has an answer."
    ),
    "message": text_key("message", "Shown when the constraint is false (default 'Check this answer')."),
    "warning": {
        "type": "object",
        "title": "warning",
        "description": "A non-blocking warning the officer must acknowledge: shown when 'when' is true.",
        "properties": {
            "when": expr_key("when", "Shows the warning when true."),
            "message": text_key("message", "The warning text."),
        },
        "required": ["when", "message"],
        "additionalProperties": False,
    },
    "default": {
        "title": "default",
        "description": "A literal value of the field's type, filled in when the form opens.",
    },
    "default_expr": expr_key("default_expr", "An expression evaluated when the form opens, e.g. today()."),
    "read_only": {
        "type": "boolean",
        "title": "read_only",
        "description": "Shows the value but does not let the officer change it.",
    },
    "min_length": int_key("min_length", "The fewest characters allowed."),
    "max_length": int_key(
        "max_length", "The most characters allowed (text 500, textarea 20000, email 254 by default).", 1
    ),
    "pattern": {
        "type": "string",
        "minLength": 1,
        "title": "pattern",
        "description": "A regular "
        "expression the whole answer must match (the part of the syntax that Python and "
        "JavaScript share).",
    },
    "pattern_message": text_key("pattern_message", "Shown when the answer does not match the pattern."),
    "rows": int_key("rows", "The height of the text box, in lines.", 1),
    "places": int_key("places", "The most decimal places allowed."),
    "yes_label": text_key("yes_label", "The label of the 'yes' option (default Yes)."),
    "no_label": text_key("no_label", "The label of the 'no' option (default No)."),
    "choices": {
        "type": ["string", "array"],
        "title": "choices",
        "minItems": 1,
        "pattern": LIST_NAME_PATTERN,
        "description": "The options: a list of choices, or the name of a shared list in lists/.",
        "items": {"$ref": "#/$defs/choice"},
    },
    "choice_filter": expr_key(
        "choice_filter",
        "Evaluated for each choice, with its columns under "
        "'choice.'; the choice is offered when true (cascading selects).",
    ),
    "appearance": {
        "enum": ["radio", "dropdown", "autocomplete"],
        "title": "appearance",
        "description": "How the options are shown.",
    },
    "min_selected": int_key("min_selected", "The fewest options that may be selected."),
    "max_selected": int_key("max_selected", "The most options that may be selected.", 1),
    "max_size": {
        "type": "string",
        "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*([KMG]?B|[kmg]b)\\s*$",
        "title": "max_size",
        "description": "The largest file allowed, e.g. 10MB (default 20MB).",
    },
    "accept": {
        "type": "array",
        "minItems": 1,
        "title": "accept",
        "description": "The MIME types allowed, e.g. application/pdf or image/*.",
        "items": {"type": "string", "pattern": "^[a-z0-9.+-]+/([a-z0-9.+-]+|\\*)$"},
    },
    "max_accuracy": {
        "type": "number",
        "exclusiveMinimum": 0,
        "title": "max_accuracy",
        "description": "In metres: a less accurate fix shows a warning.",
    },
    "value": expr_key("value", "The expression that computes this field; its type is the expression's type."),
    "fields": {
        "type": "array",
        "minItems": 1,
        "title": "fields",
        "description": "The items inside.",
        "items": {"$ref": "#/$defs/field"},
    },
    "item_label": {
        "type": "string",
        "title": "item_label",
        "description": "A template naming each item, e.g. '{{ exhibit_ref }}: {{ description }}'.",
    },
}

LITERAL = "a literal {what} ({fmt})"
BOUNDS: dict[FieldType, tuple[dict[str, Any], str]] = {
    FieldType.INTEGER: ({"type": "integer"}, "a whole number"),
    FieldType.DECIMAL: ({"type": "number"}, "a number"),
    FieldType.DATE: ({"type": "string"}, LITERAL.format(what="date", fmt="YYYY-MM-DD")),
    FieldType.TIME: ({"type": "string"}, LITERAL.format(what="time", fmt="HH:MM, in quotes")),
    FieldType.DATETIME: ({"type": "string"}, LITERAL.format(what="date and time", fmt="YYYY-MM-DDTHH:MM")),
}
