"""A full, realistic child protection workflow: loads, routes as an author expects, and draws."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dsl import DefinitionError, Env
from workflows import StepKind, Workflow

from ._fixtures import forms, load, wf

CHILD_CONCERN = wf(
    """
    workflow: child_concern
    version: "1.0"
    title: Child protection concern
    description: Routes a concern to the duty inspector or a supervisor, then to the MASH.
    on: {submitted: child_concern}
    start: triage
    steps:
      triage:
        decide:
          - {when: immediate_risk, goto: alert_duty_inspector}
          - {when: "age < 2 and 'neglect' in concern_types", goto: alert_duty_inspector}
          - {goto: supervisor_review}
      alert_duty_inspector:
        call: email
        connection: duty_mail
        with:
          to: duty.inspector@wessex.example
          subject: "URGENT: child concern for {{ child_name }}"
          body: |
            Child: {{ child_name }} (born {{ format_date(child_dob, 'D MMMM YYYY') }})
            Reference: {{ submission.reference }}
            Action taken: {{ action_taken ?? 'none recorded' }}
          priority: urgent
        next: refer_to_mash
        timeout: 30s
        retry: {attempts: 8, backoff: exponential, initial: 5s, max_delay: 10m}
      supervisor_review:
        task:
          role: supervisor
          form: supervisor_review
          title: "Review concern for {{ child_name }}"
          due: 4h
          on_overdue: escalate
        decide:
          - {when: "supervisor_review.decision == 'refer'", goto: refer_to_mash}
          - {when: "supervisor_review.decision == 'more_info'", goto: ask_officer}
          - {goto: cool_off}
      escalate:
        call: email
        connection: duty_mail
        with:
          to: duty.inspector@wessex.example
          subject: "Overdue review: {{ child_name }}"
          body: Please chase.
        next: done
      ask_officer:
        call: log
        with: {message: "More information needed for {{ submission.reference }}"}
        next: supervisor_review
      refer_to_mash:
        call: http
        connection: mash
        with:
          method: POST
          path: /referrals
          body:
            child: {name: "{{ child_name }}", dob: "{{ child_dob }}"}
            risk: "{{ supervisor_review.risk ?? 'high' }}"
            kinds: "{{ concern_types }}"
            postcode: "{{ address.postcode }}"
        out: {mash_reference: "{{ result.received.at }}", mash_status: "{{ result.status }}"}
        next: notify
      notify:
        parallel: [tell_officer, tell_school]
      tell_officer:
        call: log
        with: {message: "MASH reference {{ mash_reference }}"}
        next: merge
      tell_school:
        call: log
        with: {message: "Notify school for {{ child_name }}"}
        next: merge
      merge: {join: notify, next: done}
      cool_off:
        wait: {until: "add_days(incident_date, 28)"}
        next: done
      done: {end: true}
    """
)

NOW = dt.datetime(2024, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
SUBMISSION = {"id": "s-1", "reference": "PP-2024-0001", "submitted_at": NOW, "submitted_by": "pc123"}


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    """The child concern workflow, loaded once."""
    return load(CHILD_CONCERN, "workflows/child_concern.yaml")


def walk(workflow: Workflow, answers: dict[str, Any], replies: dict[str, dict[str, Any]]) -> list[str]:
    """Follow the workflow from its start, as the engine would, with task results and plugin replies.

    ``replies`` maps a step id to a task's answers or a call's result; a parallel step's branches
    are walked in order up to the join. Returns the steps visited.
    """
    case: dict[str, Any] = {"submission": SUBMISSION}
    visited: list[str] = []
    current: str | None = workflow.start
    while current is not None and len(visited) < 50:
        step = workflow.step(current)
        visited.append(current)
        env = Env.of(answers, case, now=NOW)
        if step.kind is StepKind.TASK:
            case[current] = replies[current]
        elif step.call is not None and step.call.outputs is not None:
            case.update(step.call.outputs.evaluate(env.push({"result": replies[current]})))
        if step.kind is StepKind.PARALLEL:
            for branch in step.branches:
                visited.append(branch)
            current = workflow.step(step.branches[-1]).next
            continue
        current = step.choose(Env.of(answers, case, now=NOW))
    return visited


RAW = {
    "child_name": "Sam Smith",
    "child_dob": "2015-06-01",
    "incident_date": "2024-02-20",
    "concern_types": ["neglect"],
    "address": {"street": "1 High St", "postcode": "so23 8uj"},
}


def answers(**changes: Any) -> dict[str, Any]:
    """Answers as the engine has them: validated and normalised by the form, calculations filled."""
    result = forms()["child_concern"].validate({**RAW, **changes}, now=NOW)
    assert result.ok, result.errors
    return dict(result.answers)


CHILD = answers(immediate_risk=False)
MASH_REPLY = {"status": 201, "body": {"reference": "MASH-77"}, "received": {"at": "MASH-77"}}


def test_loads_with_all_parts(workflow: Workflow) -> None:
    """The workflow loads; its header, joins and case data types are as written."""
    assert (workflow.id, workflow.version, workflow.trigger_form) == ("child_concern", "1.0", "child_concern")
    assert workflow.joins == {"notify": "merge"}
    assert {k: str(v) for k, v in workflow.case_types.items()} == {
        "mash_reference": "text",
        "mash_status": "number",
    }
    assert len(workflow.routes()) == 17


def test_immediate_risk_goes_to_the_duty_inspector_then_mash(workflow: Workflow) -> None:
    """An officer reporting immediate risk alerts the inspector and refers to the MASH."""
    path = walk(workflow, answers(immediate_risk=True), {"refer_to_mash": MASH_REPLY})
    assert path == [
        "triage",
        "alert_duty_inspector",
        "refer_to_mash",
        "notify",
        "tell_officer",
        "tell_school",
        "merge",
        "done",
    ]


def test_a_baby_with_neglect_goes_to_the_duty_inspector(workflow: Workflow) -> None:
    """The second condition: under two and neglect."""
    baby = answers(child_dob="2023-06-01", immediate_risk=False)
    assert baby["age"] == 0
    assert walk(workflow, baby, {"refer_to_mash": MASH_REPLY})[1] == "alert_duty_inspector"
    toddler = answers(child_dob="2021-06-01", immediate_risk=False)
    assert walk(workflow, toddler, {"supervisor_review": {"decision": "close"}})[1] == "supervisor_review"


def test_supervisor_more_info_loops_back_then_closes(workflow: Workflow) -> None:
    """'more_info' loops to the officer and back to the review; 'close' waits 28 days then ends."""
    review = workflow.step("supervisor_review")
    env = Env.of(CHILD, {"supervisor_review": {"decision": "more_info"}}, now=NOW)
    assert review.choose(env) == "ask_officer"
    path = walk(workflow, CHILD, {"supervisor_review": {"decision": "close"}})
    assert path == ["triage", "supervisor_review", "cool_off", "done"]
    wait = workflow.step("cool_off").wait
    assert wait is not None
    assert wait.until is not None
    assert wait.until(Env.of(CHILD, {}, now=NOW)) == dt.date(2024, 3, 19)


def test_mash_inputs_are_typed_and_rendered(workflow: Workflow) -> None:
    """The referral body keeps a date's type and a list's type; JSON inputs are ISO text."""
    call = workflow.step("refer_to_mash").call
    assert call is not None
    env = Env.of(CHILD, {"submission": SUBMISSION}, now=NOW)
    assert call.inputs.evaluate(env)["body"]["child"]["dob"] == dt.date(2015, 6, 1)
    assert call.inputs.evaluate_json(env) == {
        "method": "POST",
        "path": "/referrals",
        "body": {
            "child": {"name": "Sam Smith", "dob": "2015-06-01"},
            "risk": "high",
            "kinds": ["neglect"],
            "postcode": "SO23 8UJ",
        },
    }


def test_alert_email_is_rendered(workflow: Workflow) -> None:
    """The alert's subject and multi-line body render from the answers and the submission."""
    call = workflow.step("alert_duty_inspector").call
    assert call is not None
    env = Env.of(CHILD, {"submission": SUBMISSION}, now=NOW)
    inputs = call.inputs.evaluate_json(env)
    assert inputs["subject"] == "URGENT: child concern for Sam Smith"
    assert inputs["body"] == (
        "Child: Sam Smith (born 1 June 2015)\nReference: PP-2024-0001\nAction taken: none recorded\n"
    )
    assert call.retry.attempts == 8
    assert call.timeout == 30.0


def test_the_task_is_titled_and_escalates(workflow: Workflow) -> None:
    """The review task has a title, a 4h deadline and an escalation step."""
    task = workflow.step("supervisor_review").task
    assert task is not None
    assert task.title is not None
    assert task.title(Env.of(CHILD, {}, now=NOW)) == "Review concern for Sam Smith"
    assert (task.due, task.on_overdue) == (14_400.0, "escalate")


def test_diagrams_have_every_step(workflow: Workflow) -> None:
    """Both diagrams draw every step."""
    dot, mermaid = workflow.to_dot(), workflow.to_mermaid()
    for step_id in workflow.steps:
        assert f'"{step_id}" [' in dot
        assert f"  s_{step_id}" in mermaid


def test_a_typo_anywhere_is_reported_with_its_line() -> None:
    """Breaking the realistic workflow in three places gives three positioned errors."""
    broken = (
        CHILD_CONCERN.replace("goto: refer_to_mash}", "goto: refer_to_mesh}")
        .replace("role: supervisor", "role: supervisors")
        .replace("{{ result.status }}", "{{ result.statut }}")
    )
    with pytest.raises(DefinitionError) as caught:
        load(broken, "workflows/child_concern.yaml")
    found = [(d.message, d.position.line if d.position else 0) for d in caught.value.diagnostics]
    lines = broken.splitlines()
    assert [m for m, _ in found][:2] == [
        "role 'supervisors' is not a role of department 'public_protection'",
        "unknown step 'refer_to_mesh'",
    ]
    assert "statut" in found[2][0]
    for message, line in found:
        assert line > 0, message
        assert any(word in lines[line - 1] for word in ("supervisors", "refer_to_mesh", "statut"))
