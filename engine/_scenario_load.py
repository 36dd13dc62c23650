"""Reading scenario test files (``tests/<name>.yaml`` in a department folder).

The format is documented in docs/workflows.md ("Testing workflows"). A file is read with
positions; every problem (an unknown key, a step the workflow does not have, a duration that is
not one) is reported at its line, all at once, as a :class:`~dsl.DefinitionError`.

The mock plugins that answer a scenario's calls are here too (:class:`MockPlugin`): they keep each
installed plugin's input and output schemas, so the executor checks every mapped input and every
scripted reply against them, and answer each call of a step as the scenario's ``steps:`` says.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl import DefinitionError, Diagnostics, Position, YMap, YNode, YScalar, YSeq, did_you_mean, load_yaml
from engine._step_errors import PermanentError, RetryableError
from engine.plugins import StepContext
from workflows import PluginSpec, parse_duration

__all__ = [
    "Action",
    "Expectation",
    "MockPlugin",
    "Scenario",
    "StepScript",
    "example",
    "load_scenario",
    "plain",
]

_TOP = ("title", "workflow", "form", "now", "answers", "steps", "tasks", "actions", "expect")
_STEP = ("reply", "replies", "fail", "error")
_EXPECT = ("route", "inputs", "case", "state", "open_tasks", "incidents")
_ACTIONS = ("advance", "complete", "retry")


@dataclass(frozen=True, slots=True)
class StepScript:
    """What the mocked plugin of one call step does, call by call.

    The first ``failures`` calls fail (``permanent``: the first failure is permanent, which
    raises an incident at once; ``failures == -1``: every call fails); the others return
    ``replies`` in turn, the last one repeating (none: an example of the output schema).
    """

    replies: tuple[Any, ...]
    failures: int
    permanent: bool
    error: str
    position: Position


@dataclass(frozen=True, slots=True)
class Action:
    """One thing done after the instance has settled: ``advance`` the clock, ``complete`` a
    task, or ``retry`` an incident."""

    kind: str
    position: Position
    seconds: float = 0.0
    step: str = ""
    answers: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    """What must be true at the end; a part that is None is not checked."""

    route: tuple[str, ...] | None = None
    inputs: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    case: Mapping[str, Any] | None = None
    state: str | None = None
    open_tasks: tuple[str, ...] | None = None
    incidents: tuple[str, ...] | None = None
    positions: Mapping[str, Position] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario test file."""

    name: str
    title: str
    workflow: str | None
    form: str | None
    now: dt.datetime | None
    answers: Mapping[str, Any]
    steps: Mapping[str, StepScript]
    tasks: Mapping[str, tuple[Mapping[str, Any], ...]]
    actions: tuple[Action, ...]
    expect: Expectation
    position: Position
    step_positions: Mapping[str, Position] = field(default_factory=dict)


def plain(node: YNode) -> Any:
    """A YAML node as JSON-like data: dates and times as ISO text, keys as written."""
    if isinstance(node, YMap):
        return {_key(k): plain(v) for k, v in node.items()}
    if isinstance(node, YSeq):
        return [plain(item) for item in node.items]
    value = node.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def _key(key: YScalar) -> str:
    return key.value if isinstance(key.value, str) else (key.raw or str(key.value))


class _Reader:
    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags

    def keys(self, node: YMap, allowed: tuple[str, ...], what: str) -> dict[str, YNode]:
        found: dict[str, YNode] = {}
        for key, value in node.items():
            name = _key(key)
            if name not in allowed:
                self.diags.error(
                    key.pos,
                    f"unknown key '{name}' in {what}",
                    did_you_mean(name, allowed) or "allowed keys: " + ", ".join(allowed),
                    code="scenario",
                )
                continue
            found[name] = value
        return found

    def text(self, node: YNode | None, what: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value:
            return node.value
        self.diags.error(node.pos, f"{what} must be text", code="scenario")
        return None

    def mapping(self, node: YNode | None, what: str) -> YMap | None:
        if node is None:
            return None
        if isinstance(node, YMap):
            return node
        self.diags.error(node.pos, f"{what} must be a mapping", code="scenario")
        return None

    def names(self, node: YNode | None, what: str) -> tuple[str, ...] | None:
        if node is None:
            return None
        items = node.items if isinstance(node, YSeq) else None
        if items is None or not all(isinstance(i, YScalar) and isinstance(i.value, str) for i in items):
            self.diags.error(node.pos, f"{what} must be a list of step names", code="scenario")
            return None
        return tuple(str(i.value) for i in items if isinstance(i, YScalar))

    def duration(self, node: YNode) -> float:
        try:
            return float(parse_duration(node.value if isinstance(node, YScalar) else None, node.pos))
        except DefinitionError as error:
            self.diags.absorb(error)
            return 0.0


def load_scenario(text: str, name: str, stem: str) -> Scenario:
    """Read one scenario file; raises DefinitionError with every problem found."""
    root = load_yaml(text, name)
    diags = Diagnostics()
    read = _Reader(diags)
    if not isinstance(root, YMap):
        raise DefinitionError.at(root.pos, "a scenario test must be a mapping", code="scenario")
    top = read.keys(root, _TOP, "a scenario test")
    now = _now(top.get("now"), diags)
    answers = read.mapping(top.get("answers"), "'answers'")
    scenario = Scenario(
        name=stem,
        title=read.text(top.get("title"), "'title'") or stem,
        workflow=read.text(top.get("workflow"), "'workflow'"),
        form=read.text(top.get("form"), "'form'"),
        now=now,
        answers=plain(answers) if answers is not None else {},
        steps=_steps(read, top.get("steps")),
        tasks=_tasks(read, top.get("tasks")),
        actions=_actions(read, top.get("actions")),
        expect=_expect(read, top.get("expect"), root.pos),
        position=root.pos,
        step_positions=_step_positions(top),
    )
    diags.raise_if_errors()
    return scenario


def _now(node: YNode | None, diags: Diagnostics) -> dt.datetime | None:
    if node is None:
        return None
    value = node.value if isinstance(node, YScalar) else None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    diags.error(node.pos, "'now' must be a date and time, like 2025-06-02T09:00:00Z", code="scenario")
    return None


def _steps(read: _Reader, node: YNode | None) -> dict[str, StepScript]:
    out: dict[str, StepScript] = {}
    steps = read.mapping(node, "'steps'")
    for key, value in steps.items() if steps is not None else ():
        spec = read.mapping(value, f"step '{_key(key)}'")
        if spec is None:
            continue
        parts = read.keys(spec, _STEP, f"step '{_key(key)}'")
        replies: tuple[Any, ...] = ()
        if "reply" in parts:
            replies = (plain(parts["reply"]),)
        if "replies" in parts:
            listed = parts["replies"]
            if isinstance(listed, YSeq):
                replies += tuple(plain(item) for item in listed.items)
            else:
                read.diags.error(listed.pos, "'replies' must be a list, one reply per call", code="scenario")
        failures, permanent = _failures(read, parts.get("fail"))
        error = read.text(parts.get("error"), "'error'") or "mocked failure"
        out[_key(key)] = StepScript(replies, failures, permanent, error, key.pos)
    return out


def _failures(read: _Reader, node: YNode | None) -> tuple[int, bool]:
    if node is None:
        return 0, False
    value = node.value if isinstance(node, YScalar) else None
    if value == "permanent":
        return 1, True
    if value == "always":
        return -1, False
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, False
    read.diags.error(
        node.pos,
        "'fail' must be a number of failing calls, 'always' or 'permanent'",
        "for example: fail: 2 (two retryable failures, then the reply)",
        code="scenario",
    )
    return 0, False


def _tasks(read: _Reader, node: YNode | None) -> dict[str, tuple[Mapping[str, Any], ...]]:
    out: dict[str, tuple[Mapping[str, Any], ...]] = {}
    tasks = read.mapping(node, "'tasks'")
    for key, value in tasks.items() if tasks is not None else ():
        if isinstance(value, YMap):
            out[_key(key)] = (plain(value),)
        elif isinstance(value, YSeq) and all(isinstance(i, YMap) for i in value.items):
            out[_key(key)] = tuple(plain(i) for i in value.items)
        else:
            read.diags.error(
                value.pos,
                f"the answers of task '{_key(key)}' must be a mapping, or a list of them",
                code="scenario",
            )
    return out


def _actions(read: _Reader, node: YNode | None) -> tuple[Action, ...]:
    if node is None:
        return ()
    if not isinstance(node, YSeq):
        read.diags.error(node.pos, "'actions' must be a list", code="scenario")
        return ()
    out: list[Action] = []
    for item in node.items:
        spec = read.mapping(item, "an action")
        if spec is None:
            continue
        parts = read.keys(spec, (*_ACTIONS, "answers"), "an action")
        kinds = [k for k in _ACTIONS if k in parts]
        if len(kinds) != 1:
            read.diags.error(item.pos, "an action is one of: advance, complete, retry", code="scenario")
            continue
        kind = kinds[0]
        if kind == "advance":
            out.append(Action(kind, item.pos, seconds=read.duration(parts[kind])))
            continue
        step = read.text(parts[kind], f"'{kind}'") or ""
        answers = read.mapping(parts.get("answers"), "'answers'")
        out.append(Action(kind, item.pos, step=step, answers=plain(answers) if answers is not None else None))
    return tuple(out)


def _expect(read: _Reader, node: YNode | None, where: Position) -> Expectation:
    spec = read.mapping(node, "'expect'")
    if spec is None:
        read.diags.error(
            where, "a scenario test needs 'expect:' (route, inputs, case, state...)", code="scenario"
        )
        return Expectation()
    parts = read.keys(spec, _EXPECT, "'expect'")
    inputs: dict[str, tuple[Mapping[str, Any], ...]] = {}
    given = read.mapping(parts.get("inputs"), "'inputs'")
    for key, value in given.items() if given is not None else ():
        data = plain(value)
        if isinstance(data, dict):
            inputs[_key(key)] = (data,)
        elif isinstance(data, list) and all(isinstance(d, dict) for d in data):
            inputs[_key(key)] = tuple(data)
        else:
            read.diags.error(value.pos, "expected inputs are a mapping, or a list of them (one per call)")
    case = read.mapping(parts.get("case"), "'case'")
    state = read.text(parts.get("state"), "'state'")
    if state is not None and state not in ("running", "completed"):
        read.diags.error(parts["state"].pos, "'state' is 'running' or 'completed'", code="scenario")
    return Expectation(
        route=read.names(parts.get("route"), "'route'"),
        inputs=inputs,
        case=plain(case) if case is not None else None,
        state=state,
        open_tasks=read.names(parts.get("open_tasks"), "'open_tasks'"),
        incidents=read.names(parts.get("incidents"), "'incidents'"),
        positions={name: value.pos for name, value in parts.items()},
    )


def _step_positions(top: Mapping[str, YNode]) -> dict[str, Position]:
    return {name: node.pos for name, node in top.items()}


# Mock plugins -----------------------------------------------------------------------------------


class MockPlugin:
    """A stand-in for the plugin ``spec`` describes (connection settings are not checked)."""

    def __init__(self, spec: PluginSpec, scripts: Mapping[str, StepScript], calls: Counter[str]) -> None:
        self.name = spec.name
        # Connections hold ${env:...} secrets that a test does not have: their settings were
        # checked against the real schema when the definitions loaded.
        self.config_schema: dict[str, Any] = {}
        self.input_schema = spec.input_schema
        self.output_schema = spec.output_schema
        self.idempotent = spec.idempotent
        self.retry = spec.retry
        self._scripts = scripts
        self._calls = calls

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Answer one call of step ``ctx.step`` as scripted."""
        done = self._calls[ctx.step]
        self._calls[ctx.step] += 1
        script = self._scripts.get(ctx.step)
        if script is None:
            return _object(example(self.output_schema))
        if script.failures == -1 or done < script.failures:
            if script.permanent:
                raise PermanentError(script.error)
            raise RetryableError(script.error)
        if not script.replies:
            return _object(example(self.output_schema))
        index = min(done - script.failures, len(script.replies) - 1)
        reply: dict[str, Any] = script.replies[index]  # not always a mapping: the executor says so
        return reply


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def example(schema: Any) -> Any:
    """The smallest value ``schema`` describes: required properties only, empty or zero values.

    Understands ``const``, ``default``, ``enum``, ``type`` and ``properties``/``required``;
    anything else gives None.
    """
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        return {name: example(properties.get(name, {})) for name in required if isinstance(name, str)}
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(str(kind))
