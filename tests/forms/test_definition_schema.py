"""The definition-format schemas: published files, kept in step with the code, documented for
editors (an $id, and a title and description on every property)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import forms
from forms import definition_schema

SCHEMAS = Path(forms.__file__).parent / "schemas"
KINDS = ("form", "department", "list")


@pytest.mark.parametrize("kind", KINDS)
def test_published_file_matches_the_code(kind: str) -> None:
    """forms/schemas/<kind>.schema.json is exactly what definition_schema(kind) returns
    (after changing the format, regenerate them: python -m tests.forms.test_definition_schema)."""
    published = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    assert published == definition_schema(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12_with_an_id(kind: str) -> None:
    """Each schema is valid against the meta-schema and has an $id and a title."""
    schema = definition_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:waypost:schema:{kind}:1"
    assert schema["title"]
    assert schema["description"]


def _properties(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "if":
                continue  # the type switch is not shown to authors
            if key == "properties" and isinstance(value, dict):
                found += [(f"{path}/{name}", sub) for name, sub in value.items()]
            found += _properties(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += _properties(value, f"{path}/{index}")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_title_and_description(kind: str) -> None:
    """Editors show a title and description for every key."""
    missing = [
        path
        for path, sub in _properties(definition_schema(kind))
        if not (sub.get("title") and sub.get("description"))
    ]
    assert missing == []


def test_definition_schema_copies_and_refuses_unknown_kinds() -> None:
    """Each call returns a fresh copy; an unknown kind is a ValueError."""
    first = definition_schema("form")
    first["title"] = "changed"
    assert definition_schema("form")["title"] == "Waypost form"
    with pytest.raises(ValueError, match="unknown definition kind 'workflow'"):
        definition_schema("workflow")


def test_every_field_type_has_its_own_definition() -> None:
    """Each field type has a definition listing exactly its keys."""
    defs = definition_schema("form")["$defs"]
    for ftype in forms.FieldType:
        own = defs[f"{ftype.value}_field"]
        assert own["additionalProperties"] is False
        assert own["properties"]["type"] == {
            "const": ftype.value,
            "title": "type",
            "description": "The kind of question.",
        }
    assert "label" in defs["text_field"]["required"]
    assert "label" not in defs["calculate_field"]["required"]
    assert set(defs["repeat_field"]["properties"]) == {
        "id",
        "type",
        "label",
        "hint",
        "relevant",
        "fields",
        "min",
        "max",
        "item_label",
    }


def write_schemas() -> None:
    """Write the published schema files from the code (a developer tool, not a test)."""
    for kind in KINDS:
        text = json.dumps(definition_schema(kind), indent=2, ensure_ascii=False) + "\n"
        (SCHEMAS / f"{kind}.schema.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_schemas()
