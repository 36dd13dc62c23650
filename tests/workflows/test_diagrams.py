"""Diagram text: Graphviz DOT and Mermaid, with author text escaped; the edge list for coverage."""

from __future__ import annotations

import re

import pytest

from workflows import EdgeKind, Workflow
from workflows._diagram import dot_text, mermaid_text

from ._fixtures import flow, load

FLOW = flow(
    """
    triage:
      decide:
        - {when: "immediate_risk and child_name != \\"O'Neil & <Sons>\\"", goto: alert}
        - {goto: review}
    alert:
      call: email
      connection: duty_mail
      with: {to: duty@wessex.example, subject: Urgent, body: Act.}
      next: fan_out
    review:
      task: {role: supervisor, form: supervisor_review, due: 4h, on_overdue: alert}
      next: cool_off
    cool_off: {wait: {for: 1d}, next: fan_out}
    fan_out: {parallel: [a, b]}
    a: {call: log, next: merge}
    b: {call: log, next: merge}
    merge: {join: fan_out, next: end}
    end: {end: true}
    """
)


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    """A workflow with every kind of step and a condition full of special characters."""
    return load(FLOW)


def test_routes_enumerate_every_edge_with_stable_ids(workflow: Workflow) -> None:
    """Every route, next, branch and escalation is an edge with a readable id."""
    edges = {edge.id: (edge.goto, edge.kind) for edge in workflow.routes()}
    assert edges == {
        "triage#1": ("alert", EdgeKind.ROUTE),
        "triage#2": ("review", EdgeKind.ROUTE),
        "alert#next": ("fan_out", EdgeKind.NEXT),
        "review#next": ("cool_off", EdgeKind.NEXT),
        "review#overdue": ("alert", EdgeKind.OVERDUE),
        "cool_off#next": ("fan_out", EdgeKind.NEXT),
        "fan_out#branch:a": ("a", EdgeKind.BRANCH),
        "fan_out#branch:b": ("b", EdgeKind.BRANCH),
        "a#next": ("merge", EdgeKind.NEXT),
        "b#next": ("merge", EdgeKind.NEXT),
        "merge#next": ("end", EdgeKind.NEXT),
    }


def test_route_edges_carry_condition_source_and_default_flag(workflow: Workflow) -> None:
    """A decide's edges carry the condition text; the last is the default."""
    first, second = [e for e in workflow.routes() if e.step == "triage"]
    assert first.when is not None
    assert first.when.startswith("immediate_risk and")
    assert (first.index, second.index) == (0, 1)
    assert not first.is_default
    assert second.is_default
    assert second.when is None
    assert (
        first.position.line
        == FLOW.splitlines().index(next(line for line in FLOW.splitlines() if "goto: alert}" in line)) + 1
    )


def test_dot_structure(workflow: Workflow) -> None:
    """DOT has one node per step shaped by kind, a start marker and one edge per route."""
    dot = workflow.to_dot()
    assert dot.startswith('digraph "test_flow" {')
    assert dot.rstrip().endswith("}")
    assert '"triage" [shape=diamond, label="triage"];' in dot
    assert (
        '"review" [shape=box, style="rounded,filled", fillcolor="#e8f0fe", '
        'label="review\\ntask for supervisor' in dot
    )
    assert 'label="alert\\ncall email via duty_mail"' in dot
    assert 'label="cool_off\\nwait 1d"' in dot
    assert '"end" [shape=doublecircle, label="end"];' in dot
    assert '"fan_out" [shape=invtrapezium' in dot
    assert '"merge" [shape=trapezium, label="merge\\njoin fan_out"];' in dot
    assert '"__start__" -> "triage";' in dot
    assert '"triage" -> "review" [label="otherwise"];' in dot
    assert '"review" -> "alert" [label="overdue", style=dashed];' in dot
    assert '"fan_out" -> "a";' in dot
    assert len(re.findall(r"^  \"\w+\" -> ", dot, flags=re.MULTILINE)) == len(workflow.routes()) + 1


def test_dot_escapes_quotes_and_markup_in_conditions(workflow: Workflow) -> None:
    """Quotes are backslash-escaped and & < > written as entities, so the label cannot break out."""
    dot = workflow.to_dot()
    line = next(line for line in dot.splitlines() if '"triage" -> "alert"' in line)
    assert line == (
        '  "triage" -> "alert" [label="immediate_risk and child_name != \\"O\'Neil &amp; &lt;Sons&gt;\\""];'
    )
    assert dot_text('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def test_mermaid_structure(workflow: Workflow) -> None:
    """Mermaid is a flowchart TD with prefixed ids (a step called 'end' is not a keyword)."""
    text = workflow.to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  s_triage{"triage"}' in lines
    assert '  s_end(("end"))' in lines
    assert '  s_review("review<br/>task for supervisor<br/>form supervisor_review<br/>due 4h")' in lines
    assert "  start__ --> s_triage" in lines
    assert '  s_triage -->|"otherwise"| s_review' in lines
    assert '  s_review -.->|"overdue"| s_alert' in lines
    assert "  s_merge --> s_end" in lines


def test_mermaid_escapes_quotes_and_markup(workflow: Workflow) -> None:
    """Quotes, #, &, < and > become Mermaid entity codes inside labels."""
    text = workflow.to_mermaid()
    line = next(line for line in text.splitlines() if "s_triage -->|" in line and "s_alert" in line)
    assert line == (
        '  s_triage -->|"immediate_risk and child_name != #quot;O\'Neil #amp; #lt;Sons#gt;#quot;"| s_alert'
    )
    assert mermaid_text("a|b#c") == "a#124;b#35;c"
