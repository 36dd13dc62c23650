"""The workflow model: frozen value objects built once from a checked definition.

A :class:`Workflow` is a graph of :class:`Step` objects keyed by id. Each step has exactly one
:class:`StepKind`; the kind says which of its optional parts is set (``call`` for a call step,
``task`` for a task step, ...). Every expression and template is already compiled, and every
object keeps the :class:`~dsl.Position` it was written at, so the engine can point at the line of
a step when it reports an incident.

Routes are uniform: a step that says ``next: x`` has one route without a condition, a step that
says ``decide: [...]`` has one route per entry, tried in order. :meth:`Step.choose` picks the
route to follow, so the engine has one code path for both.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dsl import Position
from dsl._types import Type
from workflows._plugin_spec import RetryPolicy

if TYPE_CHECKING:
    from dsl import CompiledExpression, CompiledTemplate, Env
    from workflows._mapping import DataMapping


@dataclass(frozen=True, slots=True)
class Connection:
    """A named connection to a back-end system, from ``connections:`` in department.yaml.

    ``config`` holds the settings the plugin's ``config_schema`` describes; values may hold
    ``${env:NAME}`` placeholders, which the engine fills in from the environment at run time (a
    definition never holds a secret). ``position`` is where the connection was defined, if known.
    """

    name: str
    plugin: str
    config: Mapping[str, Any]
    position: Position | None = None

    @staticmethod
    def from_settings(name: str, settings: Mapping[str, Any], position: Position | None = None) -> Connection:
        """A connection from its department.yaml mapping: ``plugin`` plus the plugin's settings."""
        plugin = settings.get("plugin")
        config = MappingProxyType({k: v for k, v in settings.items() if k != "plugin"})
        return Connection(name, plugin if isinstance(plugin, str) else "", config, position)


class StepKind(enum.Enum):
    """What a step does. A step is exactly one kind."""

    CALL = "call"
    """Run a plugin (an email, an HTTP request to a back-end system)."""
    TASK = "task"
    """Give a person with a role a form to fill in, and wait for it."""
    DECIDE = "decide"
    """Choose the next step by conditions; takes no time."""
    WAIT = "wait"
    """Wait for a duration or until a date or time."""
    PARALLEL = "parallel"
    """Start several branches at once."""
    JOIN = "join"
    """Wait until every branch of a parallel step has arrived."""
    END = "end"
    """Finish this path of the workflow."""


@dataclass(frozen=True, slots=True)
class Route:
    """A way out of a step: go to ``goto`` when ``when`` is true, or always when ``when`` is None."""

    when: CompiledExpression | None
    goto: str
    position: Position

    def matches(self, env: Env) -> bool:
        """Whether this route is taken in ``env`` (a null condition counts as false)."""
        return self.when is None or self.when(env) is True


@dataclass(frozen=True, slots=True)
class CallSpec:
    """The plugin call of a call step.

    ``inputs`` is the compiled ``with`` mapping, ``outputs`` the compiled ``out`` mapping (None when
    the step keeps nothing). ``timeout`` is in seconds; ``retry`` is the effective policy: the
    plugin's default with the step's ``retry`` keys applied over it.
    """

    plugin: str
    connection: str | None
    inputs: DataMapping
    outputs: DataMapping | None
    timeout: float
    retry: RetryPolicy
    position: Position


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """The human task of a task step.

    ``department`` is the department whose people with ``role`` see the task; ``form`` is a form of
    the workflow's department. ``due`` is in seconds from when the task opens (None: no deadline);
    ``on_overdue`` names a step started, in parallel, when the task is overdue (the task stays open).
    ``title`` is None when the task is titled after its form.
    """

    role: str
    department: str
    form: str
    title: CompiledTemplate | None
    due: float | None
    on_overdue: str | None
    position: Position


@dataclass(frozen=True, slots=True)
class WaitSpec:
    """The pause of a wait step: exactly one of ``seconds`` and ``until`` is set.

    ``until`` is an expression of type date or datetime; a date means midnight at the start of that
    day, UK time. A null result means no wait.
    """

    seconds: float | None
    until: CompiledExpression | None
    position: Position


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a workflow.

    ``routes`` are tried in order by :meth:`choose`; ``decides`` tells whether they came from
    ``decide`` (else from ``next``). ``branches`` are the steps a parallel step starts; ``join`` is
    the parallel step a join step waits for.
    """

    id: str
    kind: StepKind
    position: Position
    routes: tuple[Route, ...] = ()
    decides: bool = False
    call: CallSpec | None = None
    task: TaskSpec | None = None
    wait: WaitSpec | None = None
    branches: tuple[str, ...] = ()
    join: str | None = None

    @property
    def next(self) -> str | None:
        """The step that always follows, for a step written with ``next``; else None."""
        if self.decides or not self.routes:
            return None
        return self.routes[0].goto

    def choose(self, env: Env) -> str | None:
        """The id of the step to go to next, or None for a step that has no routes.

        A checked workflow always has a default route last, so some route always matches.
        """
        for route in self.routes:
            if route.matches(env):
                return route.goto
        return None

    def targets(self) -> tuple[str, ...]:
        """Every step this step can lead to: routes, branches and the overdue step, in order."""
        out = [route.goto for route in self.routes]
        out.extend(self.branches)
        if self.task is not None and self.task.on_overdue is not None:
            out.append(self.task.on_overdue)
        return tuple(dict.fromkeys(out))


class EdgeKind(enum.Enum):
    """The kinds of edge in a workflow graph."""

    NEXT = "next"
    ROUTE = "route"
    BRANCH = "branch"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge of the graph, for coverage reports and diagrams.

    ``id`` is stable and readable: ``refer_to_mash#next``, ``triage#1`` (routes count from 1, in
    the order written), ``fan_out#branch:notify_a``, ``supervisor_review#overdue``. ``when`` is the
    condition's source text for a conditional route; ``index`` is the route's 0-based index.
    """

    id: str
    step: str
    goto: str
    kind: EdgeKind
    index: int | None
    when: str | None
    position: Position

    @property
    def is_default(self) -> bool:
        """True for the unconditional last route of a decide."""
        return self.kind is EdgeKind.ROUTE and self.when is None


@dataclass(frozen=True, slots=True)
class Workflow:
    """A checked, compiled workflow definition (immutable; pinned by ``content_hash``).

    ``trigger_form`` is the form whose submission starts it; ``department`` the department it
    belongs to. ``case_types`` maps each ``out`` name to the static type of its value, which tells
    the engine how to read case data back from JSON. ``joins`` maps each parallel step to its join.

    Expressions are evaluated in an :class:`~dsl.Env` of two frames: frame 0 the trigger form's
    answers (as ``Form.validate`` normalises them), frame 1 the case data: every ``out`` name set
    so far, every completed task's answers under its step id, and ``submission`` (``id``,
    ``reference``, ``submitted_at``, ``submitted_by``). A call's ``out`` mapping is evaluated with
    one more frame, ``{"result": outputs}``: ``env.push({"result": outputs})``.
    """

    id: str
    version: str | None
    title: str
    department: str
    trigger_form: str
    start: str
    steps: Mapping[str, Step]
    joins: Mapping[str, str]
    case_types: Mapping[str, Type]
    content_hash: str
    position: Position

    def step(self, step_id: str) -> Step:
        """The step called ``step_id`` (KeyError when there is none)."""
        return self.steps[step_id]

    def routes(self) -> tuple[Edge, ...]:
        """Every edge of the graph, step by step in the order written, with stable ids.

        A scenario-test runner records the edge ids each test takes and reports the rest as
        routes no test covered.
        """
        edges: list[Edge] = []
        for step in self.steps.values():
            for index, route in enumerate(step.routes):
                if step.decides:
                    when = route.when.source if route.when is not None else None
                    edges.append(
                        Edge(
                            f"{step.id}#{index + 1}",
                            step.id,
                            route.goto,
                            EdgeKind.ROUTE,
                            index,
                            when,
                            route.position,
                        )
                    )
                else:
                    edges.append(
                        Edge(
                            f"{step.id}#next", step.id, route.goto, EdgeKind.NEXT, None, None, route.position
                        )
                    )
            edges.extend(
                Edge(f"{step.id}#branch:{b}", step.id, b, EdgeKind.BRANCH, None, None, step.position)
                for b in step.branches
            )
            if step.task is not None and step.task.on_overdue is not None:
                edges.append(
                    Edge(
                        f"{step.id}#overdue",
                        step.id,
                        step.task.on_overdue,
                        EdgeKind.OVERDUE,
                        None,
                        None,
                        step.task.position,
                    )
                )
        return tuple(edges)

    def to_dot(self) -> str:
        """The workflow as Graphviz DOT text (render with ``dot -Tsvg``)."""
        from workflows._diagram import to_dot

        return to_dot(self)

    def to_mermaid(self) -> str:
        """The workflow as a Mermaid ``flowchart TD`` (renders in GitHub and many wikis)."""
        from workflows._diagram import to_mermaid

        return to_mermaid(self)
