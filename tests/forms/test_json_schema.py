"""Form.json_schema(): the draft 2020-12 schema of a form's normalised JSON answers."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

from dsl._regex import check_portable_regex
from forms import form_json_schema
from tests.forms.helpers import make_form
from tests.forms.test_model import _load
from tests.forms.test_validate_rules import CONCERN

SHA = "b" * 64


def _patterns(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for v in schema.values() for p in _patterns(v)]
    if isinstance(schema, list):
        return [p for v in schema for p in _patterns(v)]
    return []


def test_every_type_schema_is_valid_and_portable() -> None:
    """The schema of a form with every type is valid draft 2020-12, and every pattern in it is
    one that Python and JavaScript read the same way."""
    schema = _load().json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Every type"
    assert schema["additionalProperties"] is False
    patterns = _patterns(schema)
    assert len(patterns) >= 8
    for pattern in patterns:
        assert check_portable_regex(pattern) is None, pattern
        re.compile(pattern)


def test_field_schemas() -> None:
    """Types, bounds, lengths, patterns, formats, enums and attachments are described."""
    props = _load().json_schema()["properties"]
    assert props["name"]["type"] == "string"
    assert props["name"]["maxLength"] == 80
    assert props["name"]["minLength"] == 2
    assert props["name"]["pattern"].startswith("^(?:[A-Za-z ]+)$")
    assert props["name"]["title"] == "Name"
    assert props["name"]["description"] == "Full name"
    assert props["count"] == {"title": "Count", "type": ["integer", "null"], "minimum": 0, "maximum": 9}
    assert props["amount"]["type"] == ["number", "null"]
    assert props["day"]["format"] == "date"
    assert props["at"]["format"] == "time"
    assert props["stamp"]["format"] == "date-time"
    assert props["ok"]["type"] == ["boolean", "null"]
    assert props["colour"]["anyOf"] == [{"enum": ["", None]}, {"enum": ["red", "green"]}]
    assert "enum" not in props["tags"]["items"]  # a choice_filter decides, not the schema
    assert props["tags"]["uniqueItems"] is True
    assert props["tags"]["maxItems"] == 2
    assert props["pics"]["maxItems"] == 5
    attachment = props["pics"]["items"]
    assert attachment["required"] == ["sha256", "filename", "content_type", "size"]
    assert attachment["properties"]["size"]["maximum"] == 5 * 1024 * 1024
    assert attachment["additionalProperties"] is False
    assert props["where"]["required"] == ["lat", "lon"]
    assert props["total"]["readOnly"] is True
    assert props["total"]["type"] == ["number", "null"]
    assert "intro" not in props


def test_required_only_when_unconditional() -> None:
    """Required appears for required fields with no relevance on them, their group or page."""
    schema = make_form(CONCERN).json_schema()
    assert schema["required"] == ["child_name", "child_dob"]
    every = _load().json_schema()
    assert every["required"] == ["name"]  # sig is required by an expression, on a conditional page


def test_groups_and_repeats() -> None:
    """Groups are objects, repeats arrays of objects, both closed to unknown keys."""
    form = make_form("""\
    - id: address
      type: group
      fields:
        - {id: street, type: text, label: Street, required: true}
    - id: exhibits
      type: repeat
      label: Exhibits
      min: 1
      max: 4
      fields:
        - {id: ref, type: text, label: Ref, required: true}
    """)
    schema = form.json_schema()
    assert schema["required"] == ["address", "exhibits"]
    address = schema["properties"]["address"]
    assert address["type"] == "object"
    assert address["required"] == ["street"]
    assert address["additionalProperties"] is False
    exhibits = schema["properties"]["exhibits"]
    assert (exhibits["type"], exhibits["minItems"], exhibits["maxItems"]) == ("array", 1, 4)
    assert exhibits["items"]["required"] == ["ref"]
    assert exhibits["items"]["additionalProperties"] is False


def test_normalised_answers_match_the_schema() -> None:
    """What validation gives back as JSON validates against the schema."""
    form = _load()
    answers = {
        "name": "Ann Smith",
        "story": "x",
        "count": 3,
        "amount": 2.5,
        "day": "2024-01-02",
        "at": "09:15",
        "stamp": "2024-05-01T10:00",
        "ok": "yes",
        "colour": "green",
        "tags": ["a"],
        "mail": "a@b.co",
        "phone": "07700 900123",
        "postcode": "sw1a 1aa",
        "pics": [{"sha256": SHA, "filename": "p.jpg", "content_type": "image/png", "size": 10}],
        "docs": [{"sha256": SHA, "filename": "d.pdf", "content_type": "application/pdf", "size": 10}],
        "sig": {"sha256": SHA, "filename": "s.png", "content_type": "image/png", "size": 10},
        "where": {"lat": 51.5, "lon": -0.1},
        "address": {"street": "High St"},
        "items": [{"item_name": "knife", "qty": "2"}],
    }
    result = form.validate(answers)
    assert result.ok, result.errors
    validator = Draft202012Validator(form.json_schema())
    assert list(validator.iter_errors(result.to_json())) == []
    assert form_json_schema(form) == form.json_schema()


def _example_forms() -> list[tuple[str, Any]]:
    """The forms of these tests, and every form under examples/ (with its department's lists)."""
    from pathlib import Path

    from forms import load_form, load_list
    from tests.forms.test_validate_rules import CONCERN as CONCERN_FIELDS

    found: list[tuple[str, Any]] = [("every_type", _load()), ("child_concern", make_form(CONCERN_FIELDS))]
    root = Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(root.glob("**/forms/*.yaml")):
        lists_dir = path.parent.parent / "lists"
        lists = {}
        for list_path in sorted(lists_dir.glob("*")) if lists_dir.is_dir() else []:
            if list_path.suffix in (".csv", ".yaml", ".yml"):
                loaded = load_list(list_path.read_text(encoding="utf-8"), list_path.name)
                lists[loaded.name] = loaded
        found.append((str(path), load_form(path.read_text(encoding="utf-8"), str(path), lists=lists)))
    return found


def test_every_example_form_schema_is_valid_draft_2020_12() -> None:
    """The exported schema of every example form passes the draft 2020-12 meta-schema."""
    forms = _example_forms()
    assert len(forms) >= 2
    for name, form in forms:
        schema = form.json_schema()
        Draft202012Validator.check_schema(schema)
        assert schema["$id"].startswith(f"urn:waypost:form:{form.id}:"), name
