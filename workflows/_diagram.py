"""Diagrams of a workflow as text: Graphviz DOT and Mermaid flowcharts.

Pure text, so that a reviewer can see a workflow's shape in a merge request (Mermaid renders in
GitHub and most wikis) and the engine can draw an SVG with ``dot -Tsvg`` where Graphviz is
installed. Both show the same graph: steps shaped by kind (a task shows its role, a call its
plugin, a decide is a diamond), routes labelled with their condition's source text, the default
route of a decide labelled ``otherwise`` and an escalation (``on_overdue``) dashed.

Everything an author wrote (ids are safe, but conditions and titles are not) is escaped for the
target format: in DOT, ``\\`` and ``"`` are backslash-escaped and ``&``, ``<``, ``>`` written as
entities (Graphviz reads entities in every label); in Mermaid, node ids are prefixed so that a
step named ``end`` is not a keyword, and ``"``, ``#``, ``&``, ``<``, ``>`` and ``|`` are written
as Mermaid entity codes (``#quot;``).
"""

from __future__ import annotations

from workflows._durations import format_duration
from workflows._model import Edge, EdgeKind, Step, StepKind, Workflow

_DOT_SHAPES = {
    StepKind.CALL: 'shape=box, style="rounded"',
    StepKind.TASK: 'shape=box, style="rounded,filled", fillcolor="#e8f0fe"',
    StepKind.DECIDE: "shape=diamond",
    StepKind.WAIT: 'shape=box, style="dashed"',
    StepKind.PARALLEL: "shape=invtrapezium",
    StepKind.JOIN: "shape=trapezium",
    StepKind.END: "shape=doublecircle",
}
_MERMAID_SHAPES = {
    StepKind.CALL: ('["', '"]'),
    StepKind.TASK: ('("', '")'),
    StepKind.DECIDE: ('{"', '"}'),
    StepKind.WAIT: ('[/"', '"/]'),
    StepKind.PARALLEL: ('[["', '"]]'),
    StepKind.JOIN: ('[["', '"]]'),
    StepKind.END: ('(("', '"))'),
}
_MERMAID_CODES = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "|": "#124;"}


def describe_step(step: Step) -> list[str]:
    """The lines of a step's label: its id, then what it does."""
    lines = [step.id]
    if step.task is not None:
        lines.append(f"task for {step.task.role}")
        lines.append(f"form {step.task.form}")
        if step.task.due is not None:
            lines.append(f"due {format_duration(step.task.due)}")
    elif step.call is not None:
        via = f" via {step.call.connection}" if step.call.connection else ""
        lines.append(f"call {step.call.plugin}{via}")
    elif step.wait is not None:
        if step.wait.seconds is not None:
            lines.append(f"wait {format_duration(step.wait.seconds)}")
        elif step.wait.until is not None:
            lines.append(f"wait until {step.wait.until.source}")
    elif step.kind is StepKind.JOIN:
        lines.append(f"join {step.join}")
    elif step.kind is StepKind.PARALLEL:
        lines.append("parallel")
    elif step.kind is StepKind.END:
        lines = [step.id]
    return lines


def edge_label(edge: Edge) -> str:
    """The text on an edge: the condition, ``otherwise``, ``overdue``, or nothing."""
    if edge.kind is EdgeKind.ROUTE:
        return edge.when if edge.when is not None else "otherwise"
    if edge.kind is EdgeKind.OVERDUE:
        return "overdue"
    return ""


def dot_text(text: str) -> str:
    """``text`` as the inside of a DOT double-quoted string (lines joined with ``\\n``)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out.replace("\r\n", "\n").replace("\n", "\\n")


def mermaid_text(text: str) -> str:
    """``text`` safe inside a Mermaid quoted label."""
    out = "".join(_MERMAID_CODES.get(char, char) for char in text)
    return out.replace("\r\n", "\n").replace("\n", "<br/>")


def to_dot(workflow: Workflow) -> str:
    """The workflow as a Graphviz ``digraph``."""
    lines = [
        f'digraph "{dot_text(workflow.id)}" {{',
        f'  label="{dot_text(workflow.title)}";',
        "  labelloc=t;",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "__start__" [shape=circle, label="", width=0.25, style=filled, fillcolor=black];',
    ]
    for step in workflow.steps.values():
        label = "\\n".join(dot_text(line) for line in describe_step(step))
        lines.append(f'  "{step.id}" [{_DOT_SHAPES[step.kind]}, label="{label}"];')
    lines.append(f'  "__start__" -> "{workflow.start}";')
    for edge in workflow.routes():
        attrs = [f'label="{dot_text(text)}"'] if (text := edge_label(edge)) else []
        if edge.kind is EdgeKind.OVERDUE:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f'  "{edge.step}" -> "{edge.goto}"{suffix};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(workflow: Workflow) -> str:
    """The workflow as a Mermaid ``flowchart TD``."""
    lines = ["flowchart TD", "  start__((start))"]
    for step in workflow.steps.values():
        left, right = _MERMAID_SHAPES[step.kind]
        label = "<br/>".join(mermaid_text(line) for line in describe_step(step))
        lines.append(f"  {_mermaid_id(step.id)}{left}{label}{right}")
    lines.append(f"  start__ --> {_mermaid_id(workflow.start)}")
    for edge in workflow.routes():
        arrow = "-.->" if edge.kind is EdgeKind.OVERDUE else "-->"
        text = edge_label(edge)
        label = f'|"{mermaid_text(text)}"|' if text else ""
        lines.append(f"  {_mermaid_id(edge.step)} {arrow}{label} {_mermaid_id(edge.goto)}")
    return "\n".join(lines) + "\n"


def _mermaid_id(step_id: str) -> str:
    # Ids are [a-z][a-z0-9_]*, but words such as `end` and `graph` are Mermaid keywords.
    return f"s_{step_id}"
