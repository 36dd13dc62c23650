"""Mappings (with/out): the template rule, nested data, static shapes and out names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dsl import Env
from dsl._types import Kind
from workflows import DataMapping, ExpressionValue, ListValue, LiteralValue, TemplateValue, to_json_value
from workflows._mapping import single_hole

from ._fixtures import col_of, flow, load, messages, one, where

NOW = dt.datetime(2024, 3, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))
ANSWERS = {
    "child_name": "Sam Smith",
    "child_dob": dt.date(2015, 6, 1),
    "age": 8,
    "concern_types": ["neglect", "physical"],
    "immediate_risk": True,
    "address": {"street": "1 High St", "postcode": "SO23 8UJ"},
}


def inputs_of(with_yaml: str) -> DataMapping:
    """The compiled ``with`` of a log call step written with ``with_yaml``."""
    text = flow(f"a:\n  call: http\n  connection: mash\n  with: {with_yaml}\n  next: b\nb: {{end: true}}\n")
    call = load(text).step("a").call
    assert call is not None
    return call.inputs


def test_single_hole_keeps_the_expression_type() -> None:
    """ "{{ child_dob }}" is a date, not text; "{{ concern_types }}" a list."""
    mapping = inputs_of(
        "{method: POST, path: /x, "
        'body: {dob: "{{ child_dob }}", kinds: "{{ concern_types }}", n: "{{ age }}"}}'
    )
    body = mapping.entries["body"]
    assert isinstance(body, DataMapping)
    dob = body.entries["dob"]
    assert isinstance(dob, ExpressionValue)
    assert dob.shape().kind is Kind.DATE
    assert body.entries["kinds"].shape().kind is Kind.LIST
    assert body.entries["n"].shape().kind is Kind.NUMBER
    value = mapping.evaluate(Env.of(ANSWERS, {}, now=NOW))
    assert value["body"]["dob"] == dt.date(2015, 6, 1)
    assert value["body"]["kinds"] == ["neglect", "physical"]
    assert value["body"]["n"] == 8


def test_multi_part_text_is_rendered() -> None:
    """Text around a hole, or two holes, render to text."""
    mapping = inputs_of(
        '{method: POST, path: "/children/{{ child_name }}", body: "{{ age }} {{ child_dob }}"}'
    )
    assert isinstance(mapping.entries["path"], TemplateValue)
    assert mapping.entries["body"].shape().kind is Kind.TEXT
    value = mapping.evaluate(Env.of(ANSWERS, {}, now=NOW))
    assert value["path"] == "/children/Sam Smith"
    assert value["body"] == "8 2015-06-01"


def test_plain_text_and_literals() -> None:
    """Text without holes is itself; numbers, booleans, null and YAML dates are literals."""
    mapping = inputs_of("{method: GET, path: /x, body: {n: 3, f: 2.5, yes: true, none: null, d: 2024-01-31}}")
    body = mapping.entries["body"]
    assert isinstance(body, DataMapping)
    assert all(isinstance(v, LiteralValue) for v in body.entries.values())
    assert set(body.entries) == {"n", "f", "yes", "none", "d"}  # `yes:` stays a text key
    assert mapping.evaluate_json(Env.of({}, {}, now=NOW)) == {
        "method": "GET",
        "path": "/x",
        "body": {"n": 3, "f": 2.5, "yes": True, "none": None, "d": "2024-01-31"},
    }


def test_nested_lists_and_mappings() -> None:
    """Lists and mappings nest to any depth; each leaf keeps its own rule."""
    mapping = inputs_of(
        "{method: POST, path: /x, "
        'body: {people: [{name: "{{ child_name }}", tags: [a, "{{ address.postcode }}"]}]}}'
    )
    body = mapping.entries["body"]
    assert isinstance(body, DataMapping)
    people = body.entries["people"]
    assert isinstance(people, ListValue)
    assert people.shape().kind is Kind.LIST
    assert mapping.evaluate_json(Env.of(ANSWERS, {}, now=NOW))["body"] == {
        "people": [{"name": "Sam Smith", "tags": ["a", "SO23 8UJ"]}]
    }


def test_shape_of_a_mapping_is_a_record() -> None:
    """The static shape of a mapping is a record whose members are the keys' types."""
    mapping = inputs_of('{method: GET, path: /x, body: {when: "{{ child_dob }}", list: [1, 2]}}')
    shape = mapping.shape()
    assert shape.kind is Kind.RECORD
    assert shape.record is not None
    body = shape.record.get("body")
    assert body is not None
    assert body.type.record is not None
    when = body.type.record.get("when")
    lst = body.type.record.get("list")
    assert when is not None
    assert lst is not None
    assert when.type.kind is Kind.DATE
    assert str(lst.type) == "list of number"


def test_mixed_list_shape_is_list_of_any() -> None:
    """A list of different types is a list of any."""
    mapping = inputs_of("{method: GET, path: /x, body: [1, a, true]}")
    assert str(mapping.entries["body"].shape()) == "list of any"


def test_unknown_name_in_a_mapping_is_positioned_inside_the_hole() -> None:
    """An unknown field in a hole is reported at its column."""
    text = flow('a: {call: log, with: {message: "Hello {{ chld_name }}"}, next: b}\nb: {end: true}\n')
    diag = one(text)
    assert diag.message == "unknown name 'chld_name'"
    assert where(diag) == col_of(text, "chld_name")


def test_unknown_name_in_a_single_hole_is_positioned_inside_the_hole() -> None:
    """In a one-hole string the column is still the name's own."""
    text = flow('a: {call: log, with: {message: "{{ chld_name }}"}, next: b}\nb: {end: true}\n')
    diag = one(text)
    assert where(diag) == col_of(text, "chld_name")


@pytest.mark.parametrize(
    ("text", "hole"),
    [
        ("{{ a }}", (2, 5)),
        ("{{ 'x}}y' }}", (2, 10)),
        ('{{ "a\\"}}" }}', (2, 11)),
        ("{{ a }} {{ b }}", None),
        ("x {{ a }}", None),
        ("{{ a }}x", None),
        ("{{ a", None),
        ("{{ a }}}", None),
        ("plain", None),
    ],
)
def test_single_hole_detection(text: str, hole: tuple[int, int] | None) -> None:
    """Only a string that is exactly one hole keeps its type; quotes inside the hole are skipped."""
    assert single_hole(text) == hole


def test_to_json_value_converts_dates_times_and_nesting() -> None:
    """Dates, times and datetimes become ISO text all the way down."""
    value = {
        "d": dt.date(2024, 1, 31),
        "t": dt.time(10, 30),
        "ts": dt.time(10, 30, 15),
        "dt": dt.datetime(2024, 1, 31, 10, 30, tzinfo=dt.UTC),
        "l": (dt.date(2024, 2, 1),),
    }
    assert to_json_value(value) == {
        "d": "2024-01-31",
        "t": "10:30",
        "ts": "10:30:15",
        "dt": "2024-01-31T10:30:00+00:00",
        "l": ["2024-02-01"],
    }


OUT_FLOW = """
refer:
  call: http
  connection: mash
  with: {method: POST, path: /referrals}
  out:
    mash_reference: "{{ result.received.at }}"
    raw_body: "{{ result.body }}"
    status: "{{ result.status }}"
    tags: "{{ result.tags }}"
    received_ok: "{{ result.received.ok }}"
    summary: "Status {{ result.status }}"
  next: notify
notify:
  call: log
  with: {message: "Referred as {{ mash_reference }} ({{ status }})"}
  decide:
    - {when: "status >= 400 or not received_ok", goto: done}
    - {goto: done}
done: {end: true}
"""


def test_out_names_take_the_types_of_their_expressions() -> None:
    """result is typed from the plugin's output schema; each out name gets its expression's type."""
    workflow = load(flow(OUT_FLOW))
    types = {name: str(t) for name, t in workflow.case_types.items()}
    assert types == {
        "mash_reference": "text",
        "raw_body": "any",
        "status": "number",
        "tags": "list of text",
        "received_ok": "boolean",
        "summary": "text",
    }
    call = workflow.step("refer").call
    assert call is not None
    assert call.outputs is not None
    result = {"status": 201, "body": {"reference": "M-1"}, "tags": [], "received": {"ok": True, "at": "M-1"}}
    env = Env.of(ANSWERS, {}, {"result": result}, now=NOW)
    assert call.outputs.evaluate(env) == {
        "mash_reference": "M-1",
        "raw_body": {"reference": "M-1"},
        "status": 201,
        "tags": [],
        "received_ok": True,
        "summary": "Status 201",
    }


def test_out_names_are_visible_to_every_step() -> None:
    """A later step uses out names as case data (frame 1)."""
    workflow = load(flow(OUT_FLOW))
    notify = workflow.step("notify")
    assert notify.call is not None
    env = Env.of(ANSWERS, {"mash_reference": "M-1", "status": 201, "received_ok": True}, now=NOW)
    assert notify.call.inputs.evaluate(env) == {"message": "Referred as M-1 (201)"}
    assert notify.choose(env) == "done"


def test_result_is_only_visible_in_out() -> None:
    """result belongs to a call's own out mapping."""
    text = flow(OUT_FLOW.replace("Referred as {{ mash_reference }}", "Referred as {{ result.status }}"))
    assert messages(text) == ["unknown name 'result'"]


def test_unknown_member_of_result() -> None:
    """result's members come from the output schema."""
    text = flow(OUT_FLOW.replace('result.status }}"\n    tags', 'result.stauts }}"\n    tags'))
    found = messages(text)
    assert len(found) == 1
    assert "stauts" in found[0]


def test_out_name_colliding_with_a_form_field() -> None:
    """Case data and form answers share one set of names."""
    text = flow(OUT_FLOW.replace("    summary:", "    child_name:"))
    diag = one(text)
    assert diag.message == "out name 'child_name' is already a field of form 'child_concern'"
    assert where(diag) == col_of(text, "child_name:")


def test_out_name_colliding_with_a_task_result_or_submission() -> None:
    """An out name cannot reuse a task step's id or 'submission'."""
    text = flow(
        OUT_FLOW.replace("    summary:", "    review:")
        .replace(
            "done: {end: true}",
            "review: {task: {role: supervisor, form: supervisor_review}, next: done}\ndone: {end: true}",
        )
        .replace("- {goto: done}", "- {goto: review}")
    )
    assert "out name 'review' is already the result of task step 'review'" in messages(text)
    sub = flow(OUT_FLOW.replace("    summary:", "    submission:"))
    assert messages(sub) == ["out name 'submission' is already the submission record"]


def test_out_name_set_twice_with_different_types() -> None:
    """Two steps may set one name only with the same type."""
    text = flow(
        OUT_FLOW.replace(
            "notify:\n  call: log\n",
            'notify:\n  call: http\n  connection: mash\n  out: {status: "{{ result.tags }}"}\n',
        )
        .replace(
            'with: {message: "Referred as {{ mash_reference }} ({{ status }})"}',
            "with: {method: GET, path: /}",
        )
        .replace('"status >= 400 or not received_ok"', "received_ok")
    )
    diag = one(text)
    assert diag.message == "out name 'status' is list of text here but number in step 'refer'"


def test_out_name_set_twice_with_the_same_type_is_fine() -> None:
    """Two branches may each set the same name."""
    text = flow(
        """
        a:
          decide:
            - {when: immediate_risk, goto: x}
            - {goto: y}
        x: {call: http, connection: mash, with: {method: GET, path: /a}, out: {code: "{{ result.status }}"},
            next: z}
        y: {call: http, connection: mash, with: {method: GET, path: /b}, out: {code: "{{ result.status }}"},
            next: z}
        z: {end: true}
        """
    )
    assert str(load(text).case_types["code"]) == "number"


def test_out_sees_task_results_but_not_other_out_names() -> None:
    """Out expressions see form answers, task results, submission and result only."""
    text = flow(
        """
        review: {task: {role: supervisor, form: supervisor_review}, next: a}
        a: {call: log, out: {first: "{{ review.decision }}"}, next: b}
        b: {call: log, out: {second: "{{ first }}"}, next: c}
        c: {end: true}
        """
    )
    assert messages(text) == ["unknown name 'first'"]
