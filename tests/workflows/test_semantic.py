"""Semantic checks: step keys that go together, names of forms, roles, plugins, connections and data."""

from __future__ import annotations

import pytest

from workflows import Connection

from ._fixtures import HEADER, col_of, flow, load, messages, one, problems, where


def test_workflow_id_must_match_the_file_name() -> None:
    """The id is the file name without .yaml."""
    text = flow("a: {end: true}\n")
    diag = one(text, name="workflows/other_name.yaml")
    assert diag.message == "the workflow id 'test_flow' does not match the file name 'other_name.yaml'"
    assert diag.hint == "rename the file to 'test_flow.yaml', or change the id to 'other_name'"
    assert where(diag) == (1, 11)


def test_a_name_without_yaml_suffix_is_not_checked() -> None:
    """Text loaded from elsewhere (an API, a test) has no file name to match."""
    assert load(flow("a: {end: true}\n"), name="<api>").id == "test_flow"


def test_trigger_form_must_be_a_form_of_the_department() -> None:
    """on.submitted names a form of the department, with did-you-mean."""
    text = HEADER.replace("child_concern", "child_concen") + "  a: {end: true}\n"
    diag = one(text)
    assert diag.message == "form 'child_concen' is not a form of department 'public_protection'"
    assert diag.hint == "did you mean 'child_concern'?"
    assert where(diag) == col_of(text, "child_concen")


@pytest.mark.parametrize(
    ("step", "message", "hint"),
    [
        (
            "a: {call: log, task: {role: officer, form: supervisor_review}, next: b}",
            "step 'a' has both 'call' and 'task'",
            "a step does one thing: split it into two steps joined by 'next'",
        ),
        (
            "a: {next: b}",
            "step 'a' does nothing",
            "give it one of: call, task, decide, wait, parallel, join, end",
        ),
        (
            "a: {task: {role: officer, form: supervisor_review}, with: {x: 1}, next: b}",
            "'with' belongs to call steps, not to task step 'a'",
            None,
        ),
        (
            "a: {call: log, next: b, decide: [{goto: b}]}",
            "step 'a' has both 'next' and 'decide'",
            "use 'next' when the way on is always the same, 'decide' to choose between ways",
        ),
        (
            "a: {decide: [{goto: b}], next: b}",
            "step 'a' has both 'next' and 'decide'",
            "use 'next' when the way on is always the same, 'decide' to choose between ways",
        ),
        (
            "a: {call: log}",
            "step 'a' has no 'next' or 'decide'",
            "say where the workflow goes after it, e.g. 'next: done'",
        ),
        (
            "a: {call: log, next: b}\nc: {end: true, next: b}",
            "an end step has no 'next'",
            "the path finishes at an end step: remove this key, or remove 'end: true'",
        ),
        ("a: {wait: {}, next: b}", "a wait needs 'for' or 'until'", None),
        (
            "a: {wait: {for: 1h, until: incident_date}, next: b}",
            "a wait takes 'for' or 'until', not both",
            None,
        ),
        (
            "a: {task: {role: officer, form: supervisor_review, on_overdue: b}, next: b}",
            "'on_overdue' needs 'due'",
            "say when the task is overdue, e.g. 'due: 4h'",
        ),
        ("submission: {call: log, next: b}", "'submission' cannot be a step id: it is a reserved name", None),
    ],
)
def test_step_key_combinations(step: str, message: str, hint: str | None) -> None:
    """Keys of one step must fit together; each problem is a sentence with a hint."""
    text = flow(step + "\nb: {end: true}\n")
    found = [d for d in problems(text) if d.message == message]
    assert found, [d.message for d in problems(text)]
    if hint is not None:
        assert found[0].hint == hint


def test_parallel_step_has_no_next() -> None:
    """A parallel step goes on through its branches."""
    text = flow(
        "p: {parallel: [a, b], next: j}\na: {call: log, next: j}\nb: {call: log, next: j}\n"
        "j: {join: p, next: e}\ne: {end: true}\n"
    )
    diag = one(text)
    assert diag.message == "a parallel step has no 'next': its branches go on to the join"
    assert diag.hint == "put 'next' on the step with 'join: p'"
    assert where(diag) == col_of(text, "next: j}")


def test_task_role_must_be_a_role_of_the_department() -> None:
    """The role is checked against department.yaml, with did-you-mean."""
    text = flow("a: {task: {role: supervisr, form: supervisor_review}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "role 'supervisr' is not a role of department 'public_protection'"
    assert diag.hint == "did you mean 'supervisor'?"
    assert where(diag) == col_of(text, "supervisr")


def test_unknown_role_without_a_close_name_lists_the_roles() -> None:
    """With nothing close, the hint lists the department's roles."""
    diag = one(flow("a: {task: {role: chef, form: supervisor_review}, next: b}\nb: {end: true}\n"))
    assert diag.hint == "its roles are: duty_inspector, officer, supervisor"


def test_role_of_another_department_is_not_checked_here() -> None:
    """A task for another department's role cannot be checked against this department's roles."""
    text = flow(
        "a: {task: {role: analyst, department: intel, form: supervisor_review}, next: b}\nb: {end: true}\n"
    )
    task = load(text).step("a").task
    assert task is not None
    assert (task.role, task.department) == ("analyst", "intel")


def test_task_form_must_exist() -> None:
    """The task form is a form of the department."""
    text = flow("a: {task: {role: supervisor, form: supervisor_reviw}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "form 'supervisor_reviw' is not a form of department 'public_protection'"
    assert diag.hint == "did you mean 'supervisor_review'?"


def test_unknown_field_in_a_condition_is_reported_by_the_expression_checker() -> None:
    """Names in conditions are checked against the form's fields, at the exact column."""
    text = flow("a:\n  decide:\n    - {when: imediate_risk, goto: b}\n    - {goto: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "unknown name 'imediate_risk'"
    assert "immediate_risk" in (diag.hint or "")
    assert where(diag) == col_of(text, "imediate_risk")


def test_condition_must_be_boolean() -> None:
    """A 'when' must give true or false."""
    text = flow("a:\n  decide:\n    - {when: child_name, goto: b}\n    - {goto: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "expected a boolean, got text"


def test_until_must_be_a_date_or_datetime() -> None:
    """A wait's until gives a date or a datetime."""
    text = flow("a: {wait: {until: child_name}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "'until' must give a date or a datetime, not text"
    assert where(diag) == col_of(text, "child_name}")


def test_unknown_field_in_a_task_title() -> None:
    """Task titles are templates checked like any expression."""
    text = flow(
        'a: {task: {role: supervisor, form: supervisor_review, title: "For {{ chld_name }}"}, next: b}\n'
        "b: {end: true}\n"
    )
    assert messages(text) == ["unknown name 'chld_name'"]


def test_task_results_are_visible_to_later_expressions_by_step_id() -> None:
    """review.decision is a field of the task form; a wrong field name is reported."""
    text = flow(
        """
        review:
          task: {role: supervisor, form: supervisor_review}
          decide:
            - {when: "review.decisoin == 'refer'", goto: done}
            - {goto: done}
        done: {end: true}
        """
    )
    diag = one(text)
    assert "decisoin" in diag.message
    assert where(diag)[0] == col_of(text, "decisoin")[0]


def test_task_step_named_like_a_form_field() -> None:
    """A task's result is named after its step, so the step must not shadow a form field."""
    text = flow("child_name: {task: {role: supervisor, form: supervisor_review}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "task step 'child_name' has the same name as a field of form 'child_concern'"


def test_submission_record_is_in_scope() -> None:
    """submission.reference and friends can be used in mappings."""
    text = flow(
        'a: {call: log, with: {message: "Ref {{ submission.reference }}"}, next: b}\nb: {end: true}\n'
    )
    assert load(text).step("a").call is not None


def test_plugin_must_be_installed() -> None:
    """An unknown plugin name gets did-you-mean over installed plugins."""
    text = flow("a: {call: emial, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "plugin 'emial' is not installed"
    assert diag.hint == "did you mean 'email'?"
    assert where(diag) == col_of(text, "emial")


def test_plugin_without_a_close_name_lists_installed_plugins() -> None:
    """With nothing close, the hint lists installed plugins (or says there are none)."""
    text = flow("a: {call: teleport, next: b}\nb: {end: true}\n")
    assert one(text).hint == "installed plugins: email, http, log"
    assert one(text, plugins={}).hint == "no plugins are installed"


def test_connection_must_exist() -> None:
    """The connection is one of department.yaml's connections."""
    text = flow("a: {call: http, connection: mas, with: {method: GET, path: /x}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "unknown connection 'mas'"
    assert diag.hint == "did you mean 'mash'?"
    assert where(diag) == col_of(text, "mas,")


def test_connection_must_be_for_the_same_plugin() -> None:
    """A connection belongs to one plugin."""
    text = flow(
        "a: {call: http, connection: duty_mail, with: {method: GET, path: /x}, next: b}\nb: {end: true}\n"
    )
    assert messages(text) == ["connection 'duty_mail' is for plugin 'email', not 'http'"]


def test_plugin_that_needs_a_connection() -> None:
    """A plugin whose settings are required needs a connection."""
    text = flow("a: {call: http, with: {method: GET, path: /x}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "plugin 'http' needs a connection"
    assert diag.hint == "add 'connection: mash'"


def test_connection_settings_are_checked_against_the_plugin_config_schema() -> None:
    """Settings are validated; ${env:...} placeholders count as text."""
    text = flow(
        "a: {call: email, connection: broken_mail, with: {to: a@b.example, subject: s, body: b}, next: b}\n"
        "b: {end: true}\n"
    )
    found = messages(text)
    assert found == [
        "connection 'broken_mail' does not suit plugin 'email' at 'port': "
        "'${env:SMTP_PORT}' is not of type 'integer'",
        "connection 'broken_mail' does not suit plugin 'email': missing 'host'",
    ]


def test_connections_can_be_given_explicitly() -> None:
    """Connection objects (with a position in department.yaml) can be passed in."""
    text = flow(
        "a: {call: http, connection: other, with: {method: GET, path: /x}, next: b}\nb: {end: true}\n"
    )
    conn = Connection("other", "http", {"base_url": "https://x.example"})
    assert load(text, connections={"other": conn}).step("a").call is not None
    assert messages(text, connections={}) == ["unknown connection 'other'"]
    raw = {"other": {"plugin": "http", "base_url": "${env:URL}"}}
    assert load(text, connections=raw).step("a").call is not None


def test_connection_without_a_plugin() -> None:
    """A connection must name its plugin."""
    text = flow("a: {call: log, connection: bare, next: b}\nb: {end: true}\n")
    diag = one(text, connections={"bare": {"url": "x"}})
    assert diag.message == "connection 'bare' does not say which plugin it is for"
    assert diag.hint == "add 'plugin: log' to the connection in department.yaml"


def test_retry_max_delay_must_not_be_shorter_than_initial() -> None:
    """A retry policy whose cap is below its first wait is refused."""
    text = flow("a: {call: log, retry: {initial: 10m, max_delay: 1m}, next: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "'max_delay' (1m) must not be shorter than 'initial' (10m)"
    assert where(diag) == col_of(text, "{initial")


def test_problems_of_all_kinds_are_collected_together() -> None:
    """Graph, name and plugin problems of one file come back in one error, in file order."""
    text = flow(
        """
        a: {call: emial, next: b}
        b:
          task: {role: supervisr, form: supervisor_review}
          next: c
        c:
          decide:
            - {when: imediate_risk, goto: d}
        d: {end: true}
        orphan: {call: log, next: d}
        """
    )
    assert messages(text) == [
        "plugin 'emial' is not installed",
        "role 'supervisr' is not a role of department 'public_protection'",
        "the decide of step 'c' has no default route",
        "unknown name 'imediate_risk'",
        "step 'orphan' is never reached",
    ]
