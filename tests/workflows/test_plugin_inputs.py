"""Inputs mapped in ``with`` are checked against the plugin's input schema when the workflow loads."""

from __future__ import annotations

from typing import Any

import pytest

from dsl._types import Kind
from workflows import schema_type

from ._fixtures import col_of, flow, load, messages, one, where


def email_step(with_yaml: str) -> str:
    """A workflow whose first step calls the email plugin with ``with_yaml``."""
    return flow(
        f"a:\n  call: email\n  connection: duty_mail\n  with: {with_yaml}\n  next: b\nb: {{end: true}}\n"
    )


def http_step(with_yaml: str) -> str:
    """A workflow whose first step calls the http plugin with ``with_yaml``."""
    return flow(f"a:\n  call: http\n  connection: mash\n  with: {with_yaml}\n  next: b\nb: {{end: true}}\n")


def test_matching_inputs_load() -> None:
    """Text fields into strings, a list into an array, a date into a date-format string."""
    load(
        email_step('{to: "{{ referrer_email }}", subject: "Concern: {{ child_name }}", body: x, cc: [a@b.c]}')
    )
    load(http_step('{method: POST, path: /x, when: "{{ incident_date }}", timeout_seconds: "{{ age }}"}'))
    load(email_step('{to: a@b.c, subject: s, body: x, cc: "{{ concern_types }}"}'))


def test_unknown_input_with_did_you_mean() -> None:
    """additionalProperties false: an unknown input is reported at its key."""
    text = email_step("{to: a@b.c, subject: s, body: x, sbject: y}")
    diag = one(text)
    assert diag.message == "plugin 'email' has no input 'sbject'"
    assert diag.hint == "did you mean 'subject'?"
    assert where(diag) == col_of(text, "sbject")


def test_unknown_input_in_a_mapping_with_expressions() -> None:
    """The same check runs when other values are expressions (static path)."""
    text = email_step('{to: "{{ referrer_email }}", subject: "{{ child_name }}", body: x, too: y}')
    diag = one(text)
    assert diag.message == "plugin 'email' has no input 'too'"
    assert diag.hint == "did you mean 'to'?"


def test_missing_required_input() -> None:
    """A required input that is not mapped is named, at the `with` key."""
    text = email_step('{to: "{{ referrer_email }}", body: x}')
    diag = one(text)
    assert diag.message == "missing input 'subject' required by plugin 'email'"
    assert diag.hint == "add 'subject: ...' to the mapping"
    assert where(diag) == col_of(text, "with:")


def test_missing_with_altogether() -> None:
    """A call without 'with' misses every required input."""
    text = flow("a: {call: email, connection: duty_mail, next: b}\nb: {end: true}\n")
    assert messages(text) == [
        "missing input 'body' required by plugin 'email'",
        "missing input 'subject' required by plugin 'email'",
        "missing input 'to' required by plugin 'email'",
    ]


@pytest.mark.parametrize(
    ("mapping", "message", "hint"),
    [
        (
            '{to: "{{ age }}", subject: s, body: x}',
            "input 'to' of plugin 'email' must be a string, but the mapping gives a number",
            'to pass it as text write "{{ text(...) }}" around the expression',
        ),
        (
            '{to: a@b.c, subject: "{{ immediate_risk }}", body: x}',
            "input 'subject' of plugin 'email' must be a string, but the mapping gives a boolean",
            None,
        ),
        (
            '{to: a@b.c, subject: s, body: x, cc: "{{ child_name }}"}',
            "input 'cc' of plugin 'email' must be an array, but the mapping gives a text",
            None,
        ),
        (
            '{to: a@b.c, subject: s, body: {a: "{{ age }}"}}',
            "input 'body' of plugin 'email' must be a string, but the mapping gives a record",
            None,
        ),
        (
            '{to: a@b.c, subject: s, body: x, cc: "{{ [age] }}"}',
            "input 'cc' of plugin 'email' must be a list of string, but the mapping gives list of number",
            None,
        ),
    ],
)
def test_static_type_incompatibility(mapping: str, message: str, hint: str | None) -> None:
    """An expression whose type cannot fit the schema's type is reported at its value."""
    text = email_step(mapping)
    diag = one(text)
    assert diag.message == message
    if hint is not None:
        assert diag.hint == hint


def test_date_into_a_string_with_another_format() -> None:
    """A date fits a string only without a format or with format date."""
    text = email_step('{to: "{{ child_dob }}", subject: s, body: x}')
    assert messages(text) == ["input 'to' of plugin 'email' must be a string, but the mapping gives a date"]


def test_text_into_a_number_suggests_number() -> None:
    """A template gives text; the hint says how to give a number."""
    text = http_step('{method: GET, path: /x, timeout_seconds: "{{ age }}s"}')
    diag = one(text)
    assert (
        diag.message
        == "input 'timeout_seconds' of plugin 'http' must be a number, but the mapping gives a text"
    )
    assert diag.hint is not None
    assert "number(" in diag.hint


def test_ref_schemas_are_followed() -> None:
    """A local $ref in the input schema is resolved for the type check."""
    text = http_step('{method: GET, path: /x, when: "{{ child_name }}x"}')
    load(text)
    bad = http_step('{method: GET, path: /x, when: "{{ age }}"}')
    assert messages(bad) == ["input 'when' of plugin 'http' must be a string, but the mapping gives a number"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{method: PUSH, path: /x}", "input 'method' of plugin 'http': 'PUSH' is not one of"),
        ("{method: GET, path: x}", "input 'path' of plugin 'http': 'x' does not match '^/'"),
        (
            "{method: GET, path: /x, query: {a: 1}}",
            "input 'query.a' of plugin 'http': 1 is not of type 'string'",
        ),
    ],
)
def test_literal_values_are_validated_with_json_schema(mapping: str, message: str) -> None:
    """Fixed values are validated fully: enums, patterns and nested types."""
    text = http_step(mapping)
    diag = one(text)
    assert diag.message.startswith(message)


def test_literal_enum_gets_did_you_mean() -> None:
    """A misspelt fixed choice gets did-you-mean."""
    diag = one(email_step("{to: a@b.c, subject: s, body: x, priority: urgnet}"))
    assert diag.hint == "did you mean 'urgent'?"
    assert diag.message == "input 'priority' of plugin 'email': 'urgnet' is not one of ['normal', 'urgent']"


def test_literal_value_position_is_the_value() -> None:
    """A literal's error points at the value."""
    text = http_step("{method: GET, path: /x, query: {a: 1}}")
    assert where(one(text)) == col_of(text, "1}")


def test_anything_goes_into_an_untyped_input() -> None:
    """A schema without a type (http body) accepts any shape."""
    load(http_step('{method: POST, path: /x, body: {a: "{{ child_dob }}", b: ["{{ age }}", 2]}}'))


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "text"),
        ({"type": "integer"}, "number"),
        ({"type": "number"}, "number"),
        ({"type": "boolean"}, "boolean"),
        ({"type": "array", "items": {"type": "integer"}}, "list of number"),
        ({"type": "array"}, "list of any"),
        ({"type": "object"}, "any"),
        ({}, "any"),
        ({"type": ["string", "null"]}, "text"),
        ({"type": ["string", "number"]}, "any"),
        ({"$ref": "#/$defs/x", "$defs": {"x": {"type": "boolean"}}}, "boolean"),
        ({"$ref": "#/$defs/missing"}, "any"),
    ],
)
def test_schema_type_of_output_schemas(schema: dict[str, Any], expected: str) -> None:
    """Output schemas map to expression types as the contract says."""
    assert str(schema_type(schema)) == expected


def test_schema_type_of_an_object_is_a_record_of_its_properties() -> None:
    """object with properties -> record; recursive $refs stop at a safe depth."""
    rtype = schema_type({"type": "object", "properties": {"a": {"type": "string"}, "me": {"$ref": "#"}}})
    assert rtype.kind is Kind.RECORD
    assert rtype.record is not None
    member = rtype.record.get("a")
    assert member is not None
    assert member.type.kind is Kind.TEXT
