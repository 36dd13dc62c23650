"""Each step kind loads into the model with its parts compiled and positioned."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dsl import Env
from dsl._types import Kind
from workflows import RetryPolicy, StepKind, Workflow

from ._fixtures import flow, load

NOW = dt.datetime(2024, 3, 1, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def env(answers: dict[str, object] | None = None, case: dict[str, object] | None = None) -> Env:
    """An evaluation environment: frame 0 the answers, frame 1 the case data."""
    return Env.of(answers or {}, case or {}, now=NOW)


ALL_KINDS = flow(
    """
    triage:
      decide:
        - {when: immediate_risk, goto: alert}
        - {goto: review}
    alert:
      call: email
      connection: duty_mail
      with: {to: duty@wessex.example, subject: "URGENT: {{ child_name }}", body: Please act.}
      timeout: 30s
      retry: {attempts: 8, backoff: fixed, initial: 5s, max_delay: 10m}
      next: fan_out
    review:
      task:
        role: supervisor
        form: supervisor_review
        title: "Review concern for {{ child_name }}"
        due: 4h
        on_overdue: alert
      decide:
        - {when: "review.decision == 'refer'", goto: fan_out}
        - {goto: cool_off}
    cool_off:
      wait: {for: 1d12h}
      next: done
    fan_out:
      parallel: [notify_a, notify_b]
    notify_a: {call: log, with: {message: a}, next: merge}
    notify_b:
      wait: {until: "add_days(incident_date, 28)"}
      next: merge
    merge: {join: fan_out, next: done}
    done: {end: true}
    """
)


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    """A workflow with one step of every kind."""
    return load(ALL_KINDS)


def test_header_fields(workflow: Workflow) -> None:
    """Id, title, trigger form, department, start (the first step) and joins are set."""
    assert workflow.id == "test_flow"
    assert workflow.title == "A test workflow"
    assert workflow.trigger_form == "child_concern"
    assert workflow.department == "public_protection"
    assert workflow.start == "triage"
    assert workflow.version is None
    assert dict(workflow.joins) == {"fan_out": "merge"}
    assert list(workflow.steps) == [
        "triage",
        "alert",
        "review",
        "cool_off",
        "fan_out",
        "notify_a",
        "notify_b",
        "merge",
        "done",
    ]


def test_every_kind_is_recognised(workflow: Workflow) -> None:
    """Each step's kind follows from its kind key (decide alone makes a decide step)."""
    kinds = {sid: step.kind for sid, step in workflow.steps.items()}
    assert kinds == {
        "triage": StepKind.DECIDE,
        "alert": StepKind.CALL,
        "review": StepKind.TASK,
        "cool_off": StepKind.WAIT,
        "fan_out": StepKind.PARALLEL,
        "notify_a": StepKind.CALL,
        "notify_b": StepKind.WAIT,
        "merge": StepKind.JOIN,
        "done": StepKind.END,
    }


def test_decide_routes_are_tried_in_order(workflow: Workflow) -> None:
    """The first route whose condition is true wins; the default catches the rest."""
    triage = workflow.step("triage")
    assert triage.decides
    assert triage.next is None
    assert triage.choose(env({"immediate_risk": True})) == "alert"
    assert triage.choose(env({"immediate_risk": False})) == "review"
    assert triage.choose(env({})) == "review"  # a missing answer is null, and null is false


def test_call_step_parts(workflow: Workflow) -> None:
    """A call keeps its plugin, connection, compiled inputs, timeout and merged retry policy."""
    alert = workflow.step("alert")
    assert alert.call is not None
    assert alert.call.plugin == "email"
    assert alert.call.connection == "duty_mail"
    assert alert.call.timeout == 30.0
    assert alert.call.retry == RetryPolicy(
        attempts=8, backoff="fixed", initial=5.0, max_delay=600.0, jitter=0.2
    )
    assert alert.call.outputs is None
    assert alert.next == "fan_out"
    inputs = alert.call.inputs.evaluate_json(env({"child_name": "Sam Smith"}))
    assert inputs == {"to": "duty@wessex.example", "subject": "URGENT: Sam Smith", "body": "Please act."}


def test_call_without_overrides_uses_plugin_defaults(workflow: Workflow) -> None:
    """Without timeout or retry a call takes 60s and the plugin's own retry policy."""
    notify = workflow.step("notify_a")
    assert notify.call is not None
    assert notify.call.timeout == 60.0
    assert notify.call.retry == RetryPolicy(attempts=1)
    assert notify.call.connection is None


def test_task_step_parts(workflow: Workflow) -> None:
    """A task keeps role, department (defaulted), form, title template, due seconds, escalation."""
    review = workflow.step("review")
    task = review.task
    assert task is not None
    assert (task.role, task.department, task.form) == ("supervisor", "public_protection", "supervisor_review")
    assert task.due == 4 * 3600
    assert task.on_overdue == "alert"
    assert task.title is not None
    assert task.title(env({"child_name": "Sam"})) == "Review concern for Sam"
    assert review.targets() == ("fan_out", "cool_off", "alert")


def test_task_result_is_a_record_of_the_task_form(workflow: Workflow) -> None:
    """A task's result is named after its step and typed by its form: review.decision is text."""
    review = workflow.step("review")
    when = review.routes[0].when
    assert when is not None
    assert when.type.kind is Kind.BOOLEAN
    assert review.choose(env(case={"review": {"decision": "refer"}})) == "fan_out"
    assert review.choose(env(case={"review": {"decision": "close"}})) == "cool_off"


def test_wait_steps(workflow: Workflow) -> None:
    """A wait has either seconds or an until expression of a date type."""
    cool_off = workflow.step("cool_off").wait
    assert cool_off is not None
    assert (cool_off.seconds, cool_off.until) == (129_600.0, None)
    until = workflow.step("notify_b").wait
    assert until is not None
    assert until.seconds is None
    assert until.until is not None
    assert until.until(env({"incident_date": dt.date(2024, 1, 1)})) == dt.date(2024, 1, 29)


def test_parallel_join_and_end(workflow: Workflow) -> None:
    """A parallel step lists its branches, a join names its parallel step, an end has no routes."""
    assert workflow.step("fan_out").branches == ("notify_a", "notify_b")
    assert workflow.step("fan_out").routes == ()
    assert workflow.step("merge").join == "fan_out"
    assert workflow.step("merge").next == "done"
    assert workflow.step("done").routes == ()
    assert workflow.step("done").choose(env()) is None


def test_positions_point_at_step_ids(workflow: Workflow) -> None:
    """Each step's position is where its id was written."""
    lines = ALL_KINDS.splitlines()
    for step in workflow.steps.values():
        assert lines[step.position.line - 1].strip().startswith(step.id + ":")
        assert step.position.column == 3


def test_start_can_be_named() -> None:
    """'start' picks the first step; by default it is the first written."""
    text = flow("a: {call: log, next: b}\nb: {end: true}\n").replace("steps:", "start: a\nsteps:")
    assert load(text).start == "a"


def test_content_hash_ignores_formatting_but_not_meaning() -> None:
    """Comments, quoting and key order do not change the hash; a changed value does."""
    plain = flow("a: {call: log, next: b}\nb: {end: true}\n")
    styled = flow("# first\na:\n  next: 'b'\n  call: log\nb:\n  end: true\n")
    other = flow("a: {call: log, with: {message: hi}, next: b}\nb: {end: true}\n")
    assert load(plain).content_hash == load(styled).content_hash
    assert load(plain).content_hash != load(other).content_hash
    assert len(load(plain).content_hash) == 64


def test_version_label_is_kept() -> None:
    """A quoted version label is kept as text."""
    text = flow("a: {end: true}\n").replace("title:", 'version: "2.1"\ntitle:')
    assert load(text).version == "2.1"
