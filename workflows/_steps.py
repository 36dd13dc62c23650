"""Reading one step of a workflow file: its kind, the keys that go with it, and where it leads.

The definition-format schema has already checked each key's own shape; this module checks how the
keys of one step fit together (a step does exactly one thing; ``next`` or ``decide`` follows a
call, task, wait or join; a decide ends with one default route) and records the step's edges for
the graph checks. Nothing is compiled here.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl import Diagnostics, Position, YMap, YNode, YScalar, YSeq
from dsl._paths import get, key_position, value_position
from workflows._graph import GraphNode, Target
from workflows._model import StepKind

KIND_KEYS = ("call", "task", "wait", "parallel", "join", "end")
CALL_KEYS = ("connection", "with", "out", "timeout", "retry")
RESERVED_IDS = frozenset({"and", "or", "not", "in", "true", "false", "null", "submission", "result"})
_FOLLOWED = frozenset({StepKind.CALL, StepKind.TASK, StepKind.WAIT, StepKind.JOIN})


@dataclass(frozen=True, slots=True)
class StepSource:
    """A step that was read: its id, kind, YAML node and graph node."""

    id: str
    kind: StepKind
    node: YMap
    position: Position
    graph: GraphNode


def read_step(step_id: str, node: YMap, position: Position, diags: Diagnostics) -> StepSource | None:
    """Read one step and record its problems; None when its kind cannot be told.

    A step with other problems is still returned, so that its expressions are checked and the
    graph checks see its edges; the workflow is not built while any problem is recorded.
    """
    if step_id in RESERVED_IDS:
        diags.error(
            position,
            f"'{step_id}' cannot be a step id: it is a reserved name",
            "task results are named after their step, so step ids must not clash with words of "
            "the expression language or with 'submission' and 'result'",
            code="step",
        )
    kind = _kind(step_id, node, position, diags)
    if kind is None:
        return None
    _check_keys(step_id, kind, node, position, diags)
    graph = GraphNode(step_id, kind, position)
    _read_routes(step_id, node, graph, diags)
    if kind is StepKind.PARALLEL:
        graph.branches = _branches(step_id, node, diags)
    elif kind is StepKind.JOIN:
        graph.join = _target(get(node, "join"))
    elif kind is StepKind.TASK:
        _read_task(node, graph, diags)
    elif kind is StepKind.WAIT:
        _read_wait(node, diags)
    return StepSource(step_id, kind, node, position, graph)


def _kind(step_id: str, node: YMap, position: Position, diags: Diagnostics) -> StepKind | None:
    present = [k for k in KIND_KEYS if get(node, k) is not None]
    if len(present) > 1:
        diags.error(
            key_position(node, present[1]),
            f"step '{step_id}' has both '{present[0]}' and '{present[1]}'",
            "a step does one thing: split it into two steps joined by 'next'",
            code="step",
        )
        return None
    if present:
        return StepKind(present[0])
    if get(node, "decide") is not None:
        return StepKind.DECIDE
    diags.error(
        position,
        f"step '{step_id}' does nothing",
        "give it one of: call, task, decide, wait, parallel, join, end",
        code="step",
    )
    return None


def _check_keys(step_id: str, kind: StepKind, node: YMap, position: Position, diags: Diagnostics) -> None:
    for key in CALL_KEYS:
        if kind is not StepKind.CALL and get(node, key) is not None:
            diags.error(
                key_position(node, key),
                f"'{key}' belongs to call steps, not to {kind.value} step '{step_id}'",
                code="step",
            )
    has_next = get(node, "next") is not None
    has_decide = get(node, "decide") is not None and kind is not StepKind.DECIDE
    if kind is StepKind.DECIDE and has_next:
        diags.error(
            key_position(node, "next"),
            f"step '{step_id}' has both 'next' and 'decide'",
            "use 'next' when the way on is always the same, 'decide' to choose between ways",
            code="step",
        )
    elif has_next and has_decide:
        diags.error(
            key_position(node, "decide"),
            f"step '{step_id}' has both 'next' and 'decide'",
            "use 'next' when the way on is always the same, 'decide' to choose between ways",
            code="step",
        )
    for key in ("next", "decide"):
        if get(node, key) is None:
            continue
        if kind is StepKind.END:
            diags.error(
                key_position(node, key),
                f"an end step has no '{key}'",
                "the path finishes at an end step: remove this key, or remove 'end: true'",
                code="step",
            )
        elif kind is StepKind.PARALLEL:
            diags.error(
                key_position(node, key),
                f"a parallel step has no '{key}': its branches go on to the join",
                f"put '{key}' on the step with 'join: {step_id}'",
                code="step",
            )
    if kind in _FOLLOWED and not (has_next or has_decide):
        diags.error(
            position,
            f"step '{step_id}' has no 'next' or 'decide'",
            "say where the workflow goes after it, e.g. 'next: done'",
            code="step",
        )


def _target(node: YNode | None) -> Target | None:
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return node.value, node.pos.span(len(node.raw or node.value))
    return None


def _read_routes(step_id: str, node: YMap, graph: GraphNode, diags: Diagnostics) -> None:
    nxt = _target(get(node, "next"))
    if nxt is not None:
        graph.routes.append(nxt)
    decide = get(node, "decide")
    if not isinstance(decide, YSeq):
        return
    defaults: list[YMap] = []
    for route in decide.items:
        if not isinstance(route, YMap):
            continue
        goto = _target(get(route, "goto"))
        if goto is not None:
            graph.routes.append(goto)
        if get(route, "when") is None:
            defaults.append(route)
    if not defaults:
        diags.error(
            key_position(node, "decide"),
            f"the decide of step '{step_id}' has no default route",
            "add a last route without 'when', e.g. '- {goto: done}': it is taken when no condition is true",
            code="decide",
        )
    elif len(defaults) > 1:
        diags.error(
            defaults[1].pos,
            f"only one route of step '{step_id}' may leave out 'when'",
            "every route but the last needs a condition",
            code="decide",
        )
    elif defaults[0] is not decide.items[-1]:
        diags.error(
            defaults[0].pos,
            f"the default route (without 'when') must be the last route of step '{step_id}'",
            "routes are tried in order, so routes after the default would never be taken",
            code="decide",
        )


def _branches(step_id: str, node: YMap, diags: Diagnostics) -> list[Target]:
    out: list[Target] = []
    seq = get(node, "parallel")
    for item in seq.items if isinstance(seq, YSeq) else ():
        target = _target(item)
        if target is None:
            continue
        if any(t == target[0] for t, _ in out):
            diags.error(
                target[1],
                f"branch '{target[0]}' is listed twice in parallel step '{step_id}'",
                code="branch",
            )
            continue
        out.append(target)
    return out


def _read_task(node: YMap, graph: GraphNode, diags: Diagnostics) -> None:
    task = get(node, "task")
    graph.overdue = _target(get(task, "on_overdue"))
    if graph.overdue is not None and get(task, "due") is None:
        diags.error(
            key_position(task, "on_overdue") if task is not None else graph.position,
            "'on_overdue' needs 'due'",
            "say when the task is overdue, e.g. 'due: 4h'",
            code="task",
        )


def _read_wait(node: YMap, diags: Diagnostics) -> None:
    wait = get(node, "wait")
    keys = [k for k in ("for", "until") if get(wait, k) is not None]
    if not keys:
        diags.error(
            value_position(node, "wait"),
            "a wait needs 'for' or 'until'",
            "wait for a duration, {for: 24h}, or until a date or time, "
            '{until: "add_days(incident_date, 28)"}',
            code="wait",
        )
    elif len(keys) == 2 and wait is not None:
        diags.error(
            key_position(wait, "until"),
            "a wait takes 'for' or 'until', not both",
            "use two wait steps one after the other if you need both",
            code="wait",
        )
