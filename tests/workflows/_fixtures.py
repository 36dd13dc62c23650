"""A small department, its forms and two fake plugins (email- and http-shaped) for workflow tests.

Nothing here depends on the engine: plugins are plain ``PluginSpec`` values.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from dsl import DefinitionError, Diagnostic
from forms import Department, Form, load_department, load_form
from workflows import PluginSpec, RetryPolicy, Workflow, load_workflow

DEPARTMENT_YAML = """\
department: public_protection
title: Public Protection Unit
roles:
  officer: {title: Police officer}
  supervisor: {title: Sergeant or above}
  duty_inspector: {title: Duty inspector}
connections:
  duty_mail: {plugin: email, host: "${env:SMTP_HOST}", port: 587}
  mash: {plugin: http, base_url: "${env:MASH_URL}", headers: {X-Force: wessex}}
  broken_mail: {plugin: email, port: "${env:SMTP_PORT}"}
"""

CHILD_CONCERN_FORM = """\
form: child_concern
version: "1.0"
title: Child protection concern
pages:
  - id: child
    title: The child
    fields:
      - {id: child_name, type: text, label: Child's full name, required: true}
      - {id: child_dob, type: date, label: Date of birth}
      - {id: age, type: calculate, value: "years_between(child_dob, today())"}
      - {id: incident_date, type: date, label: Date of the incident}
      - {id: concern_types, type: select_many, label: Kinds of concern,
         choices: [neglect, physical, emotional, sexual]}
  - id: risk
    title: Risk
    fields:
      - {id: immediate_risk, type: yesno, label: "Is the child at immediate risk of harm?"}
      - {id: action_taken, type: textarea, label: "What action have you taken?"}
      - {id: referrer_email, type: email, label: Your email}
      - id: address
        type: group
        label: Where the child lives
        fields:
          - {id: street, type: text, label: Street}
          - {id: postcode, type: uk_postcode, label: Postcode}
"""

SUPERVISOR_REVIEW_FORM = """\
form: supervisor_review
title: Supervisor review
pages:
  - id: review
    title: Review
    fields:
      - {id: decision, type: select_one, label: Decision, choices: [refer, close, more_info]}
      - {id: risk, type: select_one, label: Risk, choices: [low, medium, high]}
      - {id: notes, type: textarea, label: Notes}
      - {id: review_by, type: date, label: Review by}
"""

EMAIL = PluginSpec(
    name="email",
    config_schema={
        "type": "object",
        "required": ["host"],
        "additionalProperties": False,
        "properties": {
            "host": {"type": "string"},
            "port": {"type": "integer"},
            "sender": {"type": "string"},
        },
    },
    input_schema={
        "type": "object",
        "required": ["to", "subject", "body"],
        "additionalProperties": False,
        "properties": {
            "to": {"type": "string", "format": "email"},
            "cc": {"type": "array", "items": {"type": "string"}},
            "subject": {"type": "string", "maxLength": 200},
            "body": {"type": "string"},
            "priority": {"enum": ["normal", "urgent"]},
        },
    },
    output_schema={"type": "object", "properties": {"message_id": {"type": "string"}}},
    idempotent=False,
    retry=RetryPolicy(attempts=3, initial=2.0, max_delay=60.0),
)

HTTP = PluginSpec(
    name="http",
    config_schema={
        "type": "object",
        "required": ["base_url"],
        "properties": {
            "base_url": {"type": "string"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    input_schema={
        "type": "object",
        "required": ["method", "path"],
        "additionalProperties": False,
        "properties": {
            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "path": {"type": "string", "pattern": "^/"},
            "query": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {},
            "timeout_seconds": {"type": "number"},
            "when": {"$ref": "#/$defs/day"},
        },
        "$defs": {"day": {"type": "string", "format": "date"}},
    },
    output_schema={
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "headers": {"type": "object"},
            "body": {},
            "tags": {"type": "array", "items": {"type": "string"}},
            "received": {
                "type": "object",
                "properties": {"at": {"type": "string"}, "ok": {"type": "boolean"}},
            },
        },
    },
    idempotent=True,
    retry=RetryPolicy(),
)

LOG = PluginSpec(
    name="log",
    config_schema={},
    input_schema={"type": "object", "properties": {"message": {"type": "string"}}},
    output_schema={},
    idempotent=True,
    retry=RetryPolicy(attempts=1),
)

PLUGINS: Mapping[str, PluginSpec] = {"email": EMAIL, "http": HTTP, "log": LOG}


@cache
def department() -> Department:
    """The test department (roles and connections)."""
    return load_department(DEPARTMENT_YAML, "department.yaml")


@cache
def forms() -> dict[str, Form]:
    """The department's forms by id."""
    return {
        "child_concern": load_form(CHILD_CONCERN_FORM, "forms/child_concern.yaml"),
        "supervisor_review": load_form(SUPERVISOR_REVIEW_FORM, "forms/supervisor_review.yaml"),
    }


def wf(text: str) -> str:
    """Dedent a workflow written inside a test."""
    return textwrap.dedent(text).lstrip("\n")


HEADER = """\
workflow: test_flow
title: A test workflow
on: {submitted: child_concern}
steps:
"""


def flow(steps: str) -> str:
    """A workflow file with the standard header and ``steps`` (YAML indented under steps:)."""
    return HEADER + textwrap.indent(wf(steps), "  ")


def load(text: str, name: str = "workflows/test_flow.yaml", **kwargs: Any) -> Workflow:
    """Load ``text`` with the test department, forms and plugins."""
    options: dict[str, Any] = {"department": department(), "forms": forms(), "plugins": PLUGINS}
    options.update(kwargs)
    return load_workflow(text, name, **options)


def problems(text: str, name: str = "workflows/test_flow.yaml", **kwargs: Any) -> list[Diagnostic]:
    """The diagnostics of a workflow that must fail to load."""
    with pytest.raises(DefinitionError) as caught:
        load(text, name, **kwargs)
    return list(caught.value.diagnostics)


def messages(text: str, **kwargs: Any) -> list[str]:
    """Just the messages of :func:`problems`."""
    return [d.message for d in problems(text, **kwargs)]


def one(text: str, **kwargs: Any) -> Diagnostic:
    """The single diagnostic of a workflow that must fail with exactly one problem."""
    found = problems(text, **kwargs)
    assert len(found) == 1, "\n".join(d.format() for d in found)
    return found[0]


def where(diag: Diagnostic) -> tuple[int, int]:
    """(line, column) of a diagnostic."""
    assert diag.position is not None
    return diag.position.line, diag.position.column


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def col_of(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """(line, column) of ``needle`` in ``text`` (1-based), the ``occurrence``-th time."""
    lines = text.splitlines()
    seen = 0
    for number, line in enumerate(lines, start=1):
        start = 0
        while (found := line.find(needle, start)) >= 0:
            if seen == occurrence:
                return number, found + 1
            seen += 1
            start = found + 1
    raise AssertionError(f"{needle!r} not in text")
