"""Checks of the shape of a workflow's graph of steps.

The graph is read from the definition before any expression is compiled, so these checks run even
when a condition has a type error. They are, in order:

1. every target (``next``, ``goto``, ``on_overdue``, a ``parallel`` branch, a ``join``) names a
   step, with a did-you-mean;
2. every ``join`` names a parallel step, and every parallel step has exactly one join;

and, once every target is known (an unknown one would make the rest report the same mistake
again):

3. every step can be reached from the start step;
4. every step that can be reached can also reach an end step;
5. no loop is made only of steps that take no time (decide, parallel, join): such a loop would
   spin for ever, while a loop back to a task (send the report back for more work) is fine;
6. every branch of a parallel step arrives at its join on every path, and never reaches an end
   step without passing the join (or the join would wait for ever).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dsl import Diagnostics, Position, did_you_mean
from workflows._model import StepKind

Target = tuple[str, Position]
_WAITING = frozenset({StepKind.TASK, StepKind.WAIT, StepKind.CALL})


@dataclass(slots=True)
class GraphNode:
    """A step as the graph checks see it: its kind and where it may lead."""

    id: str
    kind: StepKind
    position: Position
    routes: list[Target] = field(default_factory=list)
    branches: list[Target] = field(default_factory=list)
    join: Target | None = None
    overdue: Target | None = None

    def flow(self) -> Iterable[str]:
        """Where the workflow goes on from this step (routes and branches, not escalations)."""
        yield from (t for t, _ in self.routes)
        yield from (t for t, _ in self.branches)

    def edges(self) -> Iterable[str]:
        """Every step this one can start, escalations included."""
        yield from self.flow()
        if self.overdue is not None:
            yield self.overdue[0]


def check_graph(
    nodes: Mapping[str, GraphNode], start: str, all_ids: Iterable[str], diags: Diagnostics
) -> dict[str, str]:
    """Record every problem of the graph; return each parallel step's join step.

    ``nodes`` holds the steps that could be read; ``all_ids`` every step id written (a step that
    could not be read still exists as a target). The deeper checks run only when every step was
    read and every target exists.
    """
    ids = list(all_ids)
    known = set(ids)
    targets_ok = _check_targets(nodes, ids, diags)
    joins = _check_joins(nodes, diags)
    if not targets_ok or known != set(nodes) or start not in nodes:
        return joins
    reachable = _reach(nodes, [start], GraphNode.edges)
    for node in nodes.values():
        if node.id not in reachable:
            diags.error(
                node.position,
                f"step '{node.id}' is never reached",
                f"no route leads to it from the start step '{start}': route to it, or remove it",
                code="unreachable",
            )
    ending = _can_end(nodes)
    for node in nodes.values():
        if node.id in reachable and node.id not in ending:
            diags.error(
                node.position,
                f"step '{node.id}' can never reach an end step",
                "every path must finish at a step with 'end: true'; look for a loop with no way out",
                code="no-end",
            )
    _check_instant_loops(nodes, ids, diags)
    _check_branches(nodes, joins, diags)
    return joins


def _check_targets(nodes: Mapping[str, GraphNode], ids: list[str], diags: Diagnostics) -> bool:
    ok = True
    for node in nodes.values():
        named: list[tuple[str, Target]] = [("step", t) for t in node.routes + node.branches]
        if node.overdue is not None:
            named.append(("step", node.overdue))
        for _, (target, position) in named:
            if target not in ids:
                ok = False
                diags.error(
                    position,
                    f"unknown step '{target}'",
                    did_you_mean(target, ids) or "the steps are: " + ", ".join(ids),
                    code="unknown-step",
                )
        if node.join is not None and node.join[0] not in ids:
            diags.error(
                node.join[1],
                f"unknown step '{node.join[0]}'",
                did_you_mean(node.join[0], [n.id for n in nodes.values() if n.kind is StepKind.PARALLEL])
                or "'join' names the parallel step whose branches it waits for",
                code="unknown-step",
            )
    return ok


def _check_joins(nodes: Mapping[str, GraphNode], diags: Diagnostics) -> dict[str, str]:
    joins: dict[str, str] = {}
    for node in nodes.values():
        if node.join is None:
            continue
        target, position = node.join
        parallel = nodes.get(target)
        if parallel is None:
            continue
        if parallel.kind is not StepKind.PARALLEL:
            diags.error(
                position,
                f"'join: {target}' must name a parallel step, but '{target}' is a {parallel.kind.value} step",
                "a join waits for the branches of the parallel step it names",
                code="join",
            )
        elif target in joins:
            diags.error(
                position,
                f"parallel step '{target}' already has a join: '{joins[target]}'",
                "each parallel step has exactly one join step",
                code="join",
            )
        else:
            joins[target] = node.id
    for node in nodes.values():
        if node.kind is StepKind.PARALLEL and node.id not in joins:
            diags.error(
                node.position,
                f"parallel step '{node.id}' has no join",
                f"add a step with 'join: {node.id}' where its branches meet",
                code="join",
            )
    return joins


def _reach(
    nodes: Mapping[str, GraphNode],
    roots: Iterable[str],
    step_edges: Callable[[GraphNode], Iterable[str]],
    stop: str = "",
) -> set[str]:
    """The ids reachable from ``roots`` (roots included), not walking past ``stop``."""
    seen: set[str] = set()
    todo = [r for r in roots if r in nodes]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current == stop:
            continue
        todo.extend(t for t in step_edges(nodes[current]) if t in nodes and t not in seen)
    return seen


def _can_end(nodes: Mapping[str, GraphNode]) -> set[str]:
    """The ids from which some path of routes and branches reaches an end step."""
    back: dict[str, set[str]] = {n: set() for n in nodes}
    for node in nodes.values():
        for target in node.flow():
            if target in back:
                back[target].add(node.id)
    ends = [n.id for n in nodes.values() if n.kind is StepKind.END]
    seen: set[str] = set()
    todo = list(ends)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(back[current] - seen)
    return seen


def _check_instant_loops(nodes: Mapping[str, GraphNode], order: list[str], diags: Diagnostics) -> None:
    for component in _cycles(nodes):
        if any(nodes[i].kind in _WAITING for i in component):
            continue
        ordered = [i for i in order if i in component]
        names = " -> ".join(f"'{i}'" for i in [*ordered, ordered[0]])
        diags.error(
            nodes[ordered[0]].position,
            f"the steps {names} form a loop that never waits",
            "the loop would run for ever: put a task, wait or call step in it, or route out of it",
            code="instant-loop",
        )


def _cycles(nodes: Mapping[str, GraphNode]) -> list[set[str]]:
    """Strongly connected components that hold a cycle (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, [t for t in nodes[root].edges() if t in nodes]))
        while work:
            current, pending = work[-1]
            if pending:
                target = pending.pop()
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, [t for t in nodes[target].edges() if t in nodes]))
                elif target in on_stack:
                    low[current] = min(low[current], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == current:
                        break
                if len(component) > 1 or current in set(nodes[current].edges()):
                    found.append(component)
    return found


def _check_branches(nodes: Mapping[str, GraphNode], joins: Mapping[str, str], diags: Diagnostics) -> None:
    for parallel in nodes.values():
        join = joins.get(parallel.id)
        if join is None:
            continue
        for branch, position in parallel.branches:
            walked = _reach(nodes, [branch], GraphNode.flow, stop=join)
            ends = [i for i in walked if nodes[i].kind is StepKind.END]
            if join not in walked:
                diags.error(
                    position,
                    f"branch '{branch}' of parallel step '{parallel.id}' never reaches its join '{join}'",
                    f"every branch must lead to the step '{join}', which waits for all of them",
                    code="branch",
                )
            elif ends:
                diags.error(
                    position,
                    f"branch '{branch}' of parallel step '{parallel.id}' can finish at '{sorted(ends)[0]}' "
                    f"without reaching its join '{join}'",
                    "the join would wait for ever: every path of a branch must arrive at the join",
                    code="branch",
                )
