"""Less common shapes: JSON Schema combinators in plugin inputs, odd YAML values, odd keys."""

from __future__ import annotations

from typing import Any

import pytest

from dsl import Env
from workflows import PluginSpec, RetryPolicy

from ._fixtures import PLUGINS, col_of, flow, load, messages, one, where


def shaped(
    input_schema: dict[str, Any], config_schema: dict[str, Any] | None = None
) -> dict[str, PluginSpec]:
    """The test plugins plus 'shaped', whose input schema is ``input_schema``."""
    spec = PluginSpec(
        name="shaped",
        config_schema=config_schema or {},
        input_schema=input_schema,
        output_schema={},
        idempotent=True,
        retry=RetryPolicy(),
    )
    return {**PLUGINS, "shaped": spec}


def step(with_yaml: str) -> str:
    """A workflow calling 'shaped' with ``with_yaml``."""
    return flow(f"a:\n  call: shaped\n  with: {with_yaml}\n  next: b\nb: {{end: true}}\n")


ANY_OF = {"type": "object", "properties": {"v": {"anyOf": [{"type": "number"}, {"type": "boolean"}]}}}


def test_any_of_accepts_an_expression_matching_one_alternative() -> None:
    """anyOf: a number fits the number alternative."""
    load(step('{v: "{{ age }}"}'), plugins=shaped(ANY_OF))


def test_any_of_refuses_an_expression_matching_none() -> None:
    """anyOf: text fits neither alternative."""
    text = step('{v: "{{ child_name }}"}')
    diag = one(text, plugins=shaped(ANY_OF))
    assert diag.message == "input 'v' of plugin 'shaped' matches none of the shapes it allows"
    assert where(diag) == col_of(text, '"{{ child_name }}"')


def test_any_of_literal_is_validated_by_json_schema() -> None:
    """A literal against anyOf is validated in full."""
    assert messages(step("{v: text}"), plugins=shaped(ANY_OF)) == [
        "input 'v' of plugin 'shaped': 'text' is not valid under any of the given schemas"
    ]


def test_all_of_parts_are_each_checked() -> None:
    """allOf: every part applies."""
    schema = {"type": "object", "properties": {"v": {"allOf": [{"type": "string"}, {"maxLength": 3}]}}}
    assert messages(step('{v: "{{ age }}"}'), plugins=shaped(schema)) == [
        "input 'v' of plugin 'shaped' must be a string, but the mapping gives a number"
    ]


def test_pattern_properties_and_additional_property_schemas() -> None:
    """Keys matching patternProperties use that schema; other keys the additionalProperties schema."""
    schema = {
        "type": "object",
        "patternProperties": {"^n_": {"type": "number"}},
        "additionalProperties": {"type": "boolean"},
    }
    plugins = shaped(schema)
    load(step('{n_age: "{{ age }}", flag: "{{ immediate_risk }}"}'), plugins=plugins)
    assert messages(step('{n_age: "{{ child_name }}", flag: "{{ age }}"}'), plugins=plugins) == [
        "input 'n_age' of plugin 'shaped' must be a number, but the mapping gives a text",
        "input 'flag' of plugin 'shaped' must be a boolean, but the mapping gives a number",
    ]


def test_prefix_items_check_list_positions() -> None:
    """prefixItems give each list position its own schema."""
    schema = {
        "type": "object",
        "properties": {"pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]}},
    }
    plugins = shaped(schema)
    load(step('{pair: ["{{ child_name }}", "{{ age }}"]}'), plugins=plugins)
    assert messages(step('{pair: ["{{ age }}", "{{ age }}"]}'), plugins=plugins) == [
        "input 'pair[0]' of plugin 'shaped' must be a string, but the mapping gives a number"
    ]


def test_whole_container_rules_apply_to_fixed_lists() -> None:
    """minItems and uniqueItems are checked on a list written out in full."""
    schema = {"type": "object", "properties": {"l": {"type": "array", "minItems": 2, "uniqueItems": True}}}
    plugins = shaped(schema)
    assert messages(step("{l: [a]}"), plugins=plugins) == ["input 'l' of plugin 'shaped': ['a'] is too short"]
    assert messages(step("{l: [a, a]}"), plugins=plugins) == [
        "input 'l' of plugin 'shaped': ['a', 'a'] has non-unique elements"
    ]


def test_a_false_property_schema_takes_no_input() -> None:
    """A property whose schema is false cannot be given."""
    schema = {"type": "object", "properties": {"gone": False}}
    assert messages(step('{gone: "{{ age }}"}'), plugins=shaped(schema)) == [
        "plugin 'shaped' takes no input 'gone'"
    ]


def test_plugin_needing_a_connection_when_none_is_defined() -> None:
    """The hint says where to define a connection when the department has none for the plugin."""
    plugins = shaped({}, config_schema={"type": "object", "required": ["url"]})
    diag = one(step("{}"), plugins=plugins)
    assert diag.message == "plugin 'shaped' needs a connection"
    assert diag.hint == "define a connection for 'shaped' under 'connections:' in department.yaml"


def test_binary_yaml_values_are_refused_in_mappings() -> None:
    """YAML's !!binary has no place in a mapping."""
    text = flow("a: {call: log, with: {message: !!binary aGVsbG8=}, next: b}\nb: {end: true}\n")
    assert "binary values are not allowed in a mapping" in messages(text)


def test_yaml_sexagesimal_and_odd_keys_keep_the_authors_text() -> None:
    """10:30 stays the text '10:30' (not 630) and a key 'on' stays 'on'."""
    text = flow(
        "a: {call: http, connection: mash, with: {method: GET, path: /x, body: {on: 10:30}}, next: b}\n"
        "b: {end: true}\n"
    )
    call = load(text).step("a").call
    assert call is not None
    body = call.inputs.entries["body"]
    assert body.shape().record is not None
    assert call.inputs.evaluate_json(Env.of({}, {}))["body"] == {"on": "10:30"}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ('a: {call: log, out: {Bad: "{{ result }}"}, next: b}', "'Bad' is not a valid name"),
        ("a: {end: true}\nb: {}", "step 'b' does nothing"),
    ],
)
def test_odd_keys_and_empty_steps(steps: str, message: str) -> None:
    """Out names are ids; an empty step is reported."""
    assert message in messages(flow(steps + "\nzz: {end: true}\n"))


def test_empty_title() -> None:
    """A title must not be empty."""
    text = flow("a: {end: true}\n").replace("title: A test workflow", 'title: ""')
    assert messages(text) == ["'title' must not be empty"]


def test_yml_suffix_is_a_file_name_too() -> None:
    """.yml files are checked against the id as well."""
    assert messages(flow("a: {end: true}\n"), name="wrong.yml") == [
        "the workflow id 'test_flow' does not match the file name 'wrong.yml'"
    ]
