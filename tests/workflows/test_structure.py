"""Structural checks: the definition-format schema, with positioned, plain-English errors."""

from __future__ import annotations

import json

import jsonschema
import pytest

from dsl import DefinitionError
from workflows import workflow_schema

from ._fixtures import HEADER, col_of, flow, load, messages, one, problems, where


def test_schema_is_a_valid_draft_2020_12_schema_with_descriptions() -> None:
    """The shipped schema is valid, and every step key has a description for editors."""
    schema = workflow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    step = schema["$defs"]["step"]["properties"]
    assert set(step) >= {"call", "task", "decide", "wait", "parallel", "join", "end", "next", "with", "out"}
    assert all(prop.get("description") for prop in step.values())


def test_schema_copies_are_independent() -> None:
    """Changing a returned schema does not change the next one (nothing mutable is shared)."""
    first = workflow_schema()
    first["properties"].clear()
    assert workflow_schema()["properties"]


def test_unknown_key_in_a_step_with_did_you_mean() -> None:
    """A misspelt key is reported at the key, with the key it probably meant."""
    text = flow("a: {call: log, nxt: b}\nb: {end: true}\n")
    found = problems(text)
    unknown = [d for d in found if d.message == "unknown key 'nxt' in step 'a'"]
    assert len(unknown) == 1
    assert where(unknown[0]) == col_of(text, "nxt")
    assert unknown[0].hint == "did you mean 'next'?"


def test_unknown_top_level_key_stops_before_semantic_checks() -> None:
    """A problem outside the steps is reported alone: later checks would only repeat it."""
    text = HEADER.replace("title:", "titel: x\ntitle:") + "  a: {next: nowhere}\n"
    diag = one(text)
    assert diag.message == "unknown key 'titel' in the workflow"
    assert diag.hint == "did you mean 'title'?"
    assert where(diag) == (2, 1)


@pytest.mark.parametrize(
    ("missing", "message", "hint"),
    [
        ("workflow", "the workflow is missing 'workflow'", "start the file with 'workflow: <id>'"),
        ("title", "the workflow is missing 'title'", "add 'title: ...'"),
        ("on", "the workflow is missing 'on'", "add 'on: {submitted: <form id>}'"),
    ],
)
def test_missing_top_level_keys(missing: str, message: str, hint: str) -> None:
    """Each required top-level key is named when missing, with a hint showing how to write it."""
    lines = [line for line in flow("a: {end: true}\n").splitlines() if not line.startswith(missing + ":")]
    diag = one("\n".join(lines) + "\n")
    assert diag.message == message
    assert diag.hint is not None
    assert diag.hint.startswith(hint)
    assert where(diag) == (1, 1)


def test_on_is_read_as_a_key_not_a_yaml_boolean() -> None:
    """YAML 1.1 reads the key `on` as true; the loader still understands `on: {submitted: ...}`."""
    assert load(flow("a: {end: true}\n")).trigger_form == "child_concern"


def test_a_route_without_goto() -> None:
    """A decide route must say where to go."""
    text = flow("a:\n  decide:\n    - {when: immediate_risk}\n    - {goto: b}\nb: {end: true}\n")
    found = [d for d in problems(text) if "goto" in d.message]
    assert [d.message for d in found] == ["route 1 of step 'a' is missing 'goto'"]
    assert where(found[0]) == col_of(text, "{when")


@pytest.mark.parametrize(
    ("step", "needle", "message", "hint"),
    [
        (
            "a: {task: {role: supervisor, form: supervisor_review, due: 4 hours}, next: b}",
            "4 hours",
            "'4 hours' is not a duration ('due' of step 'a')",
            "write it as '4h'",
        ),
        (
            "a: {call: log, timeout: 30, next: b}",
            "30,",
            "'timeout' of step 'a' must be text",
            'put it in quotes: "30"',
        ),
        (
            "a: {end: false}",
            "false",
            "'end' of step 'a' must be true",
            "leave the key out for a step that is not an end",
        ),
        (
            "a: {call: log, retry: {backoff: linear}, next: b}",
            "linear",
            "'backoff' of step 'a' must be one of: exponential, fixed, not 'linear'",
            None,
        ),
        (
            "a: {call: log, retry: {attempts: 0}, next: b}",
            "0}",
            "'attempts' of step 'a' must be at least 1, not 0",
            None,
        ),
        (
            "a: {parallel: [b]}",
            "[b]",
            "'parallel' of step 'a' needs at least 2 branches",
            "a parallel step starts two or more steps at once",
        ),
        (
            "a: {decide: []}",
            "[]",
            "'decide' of step 'a' needs at least one route",
            "write routes as - {when: ..., goto: ...}",
        ),
        (
            "a: {call: log, next: B}",
            "B}",
            "'B' is not a valid id ('next' of step 'a')",
            "use lower case letters, digits and _, starting with a letter",
        ),
        (
            "a: {wait: {for: 1h, until: x, then: y}, next: b}",
            "then",
            "unknown key 'then' in 'wait' of step 'a'",
            "allowed keys here: for, until",
        ),
        ("a: {call: log, with: [1, 2], next: b}", "[1, 2]", "'with' of step 'a' must be a mapping", None),
        (
            "a: {decide: [{when: true, goto: b}]}",
            "true",
            "'when' of route 1 of step 'a' must be text",
            "true/false/yes/no are read as true or false by YAML: put the text in quotes",
        ),
    ],
)
def test_structural_errors_are_positioned_sentences(
    step: str, needle: str, message: str, hint: str | None
) -> None:
    """Each kind of schema error becomes one sentence at the offending value, with a hint."""
    text = flow(step + "\nb: {end: true}\n")
    found = [d for d in problems(text) if d.message == message]
    assert found, [d.message for d in problems(text)]
    assert where(found[0]) == col_of(text, needle)
    assert found[0].hint == hint or (hint is not None and (found[0].hint or "").startswith(hint))


def test_bad_step_id_is_reported_at_the_key() -> None:
    """Step ids are lower case: an id that is not is reported where it is written."""
    text = flow("Triage: {end: true}\n")
    diag = one(text)
    assert diag.message == "'Triage' is not a valid step id"
    assert where(diag) == col_of(text, "Triage")


def test_steps_must_not_be_empty() -> None:
    """A workflow needs at least one step."""
    diag = one(HEADER.replace("steps:", "steps: {}"))
    assert diag.message == "'steps' needs at least one entry"


def test_a_file_that_is_not_a_mapping() -> None:
    """A YAML list is not a workflow."""
    diag = one("- workflow: x\n")
    assert diag.message.startswith("a workflow file must be a mapping")


def test_invalid_yaml_and_duplicate_keys_are_positioned() -> None:
    """YAML errors come from the positioned loader, duplicate keys included."""
    text = flow("a: {end: true}\na: {end: true}\n")
    diag = one(text)
    assert diag.message.startswith("duplicate key 'a'")
    assert where(diag) == col_of(text, "a:", 1)
    with pytest.raises(DefinitionError, match="invalid YAML"):
        load("workflow: [x\n")


def test_several_structural_errors_are_reported_together() -> None:
    """Problems in different steps are all collected into one error, sorted by position."""
    text = flow(
        """
        a: {call: log, nxt: b, next: b}
        b: {task: {role: supervisor, form: supervisor_review, due: soon}, next: c}
        c: {end: "yes"}
        """
    )
    found = messages(text)
    assert found == [
        "unknown key 'nxt' in step 'a'",
        "'soon' is not a duration ('due' of step 'b')",
        "'end' of step 'c' must be true",
    ]


def test_schema_matches_the_documented_step_keys() -> None:
    """The schema file parses as JSON and names every step kind of the contract."""
    kinds = {"call", "task", "decide", "wait", "parallel", "join", "end"}
    text = json.dumps(workflow_schema())
    assert all(f'"{kind}"' in text for kind in kinds)
