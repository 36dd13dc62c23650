"""Compiling the steps of a workflow: tasks, calls, waits and routes, against the department,
its forms and the installed plugins.

Names are resolved in two passes, because a step may use case data that a later-written step
produces:

1. every task step's result (a record of its form's fields) and every ``out`` name are
   collected. An ``out`` mapping sees the trigger form's answers, the task results, the
   ``submission`` record and ``result`` (the plugin's output), but not other ``out`` names:
   that keeps each name's type independent of the order steps are written in.
2. everything else (``with``, ``when``, ``until``, task titles) is compiled with the whole case
   data in scope: frame 0 the form's answers, frame 1 the case data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dsl import (
    DefinitionError,
    Diagnostics,
    Position,
    YMap,
    YNode,
    YScalar,
    YSeq,
    compile_expression,
    compile_template,
    did_you_mean,
)
from dsl._functions import FunctionLibrary
from dsl._paths import get, key_position, value_position
from dsl._types import ANY, BOOLEAN, DATETIME, TEXT, Kind, RecordType, Scope, Symbol, Type, record
from forms import Department, Form
from workflows._durations import format_duration, parse_duration
from workflows._mapping import DataMapping, MappingCompiler, build_mapping
from workflows._model import CallSpec, Connection, Route, Step, StepKind, TaskSpec, WaitSpec
from workflows._plugin_check import InputChecker, config_errors, needs_connection, schema_type
from workflows._plugin_spec import PluginSpec, RetryPolicy
from workflows._steps import StepSource

DEFAULT_TIMEOUT = 60.0
SUBMISSION = record(
    RecordType.of(
        {
            "id": Symbol("id", TEXT, ("id",)),
            "reference": Symbol("reference", TEXT, ("reference",)),
            "submitted_at": Symbol("submitted_at", DATETIME, ("submitted_at",)),
            "submitted_by": Symbol("submitted_by", TEXT, ("submitted_by",)),
        }
    )
)
"""The ``submission`` record every workflow expression can use."""


class StepCompiler:
    """Compiles the steps of one workflow, recording every problem in ``diags``."""

    def __init__(
        self,
        *,
        diags: Diagnostics,
        department: Department,
        forms: Mapping[str, Form],
        plugins: Mapping[str, PluginSpec],
        connections: Mapping[str, Connection],
        trigger: Form,
        library: FunctionLibrary | None,
    ) -> None:
        self.diags = diags
        self.department = department
        self.forms = forms
        self.plugins = plugins
        self.connections = connections
        self.trigger = trigger
        self.library = library
        self.frame0 = trigger.record_type
        self._checked_connections: set[str] = set()

    # -- pass 1 -------------------------------------------------------------------------------

    def case_base(self, sources: list[StepSource]) -> dict[str, Symbol]:
        """The case data known before any ``out``: task results and the submission record."""
        symbols = {"submission": Symbol("submission", SUBMISSION, ("submission",))}
        for source in sources:
            if source.kind is not StepKind.TASK:
                continue
            form = self.forms.get(_text(get(get(source.node, "task"), "form")))
            rtype = record(form.record_type) if form is not None else ANY
            if self.frame0.get(source.id) is not None:
                self.diags.error(
                    source.position,
                    f"task step '{source.id}' has the same name as a field of form '{self.trigger.id}'",
                    "a task's result is named after its step, so rename the step",
                    code="name-clash",
                )
            symbols[source.id] = Symbol(source.id, rtype, (source.id,), source.position)
        return symbols

    def outs(
        self, sources: list[StepSource], base: dict[str, Symbol]
    ) -> tuple[dict[str, DataMapping], dict[str, Symbol]]:
        """Compile every ``out`` mapping; return them by step and the symbols they define."""
        compiled: dict[str, DataMapping] = {}
        names: dict[str, tuple[Symbol, str]] = {}
        for source in sources:
            node = get(source.node, "out")
            if source.kind is not StepKind.CALL or not isinstance(node, YMap):
                continue
            spec = self.plugins.get(_text(get(source.node, "call")))
            result = schema_type(spec.output_schema) if spec is not None else ANY
            frame = RecordType.of({"result": Symbol("result", result, ("result",))})
            scope = Scope.of(self.frame0, RecordType.of(base)).push(frame, "result")
            entries = MappingCompiler(scope, self.diags, self.library).entries(node)
            for name, position, value in entries:
                # A value that failed still names case data (of any type), so that steps using
                # the name do not also report it as unknown.
                self._out_name(source.id, name, value.shape() if value else ANY, position, base, names)
            mapping = build_mapping(node, entries)
            if mapping is not None:
                compiled[source.id] = mapping
        return compiled, {name: symbol for name, (symbol, _) in names.items()}

    def _out_name(
        self,
        step: str,
        name: str,
        vtype: Type,
        position: Position,
        base: Mapping[str, Symbol],
        names: dict[str, tuple[Symbol, str]],
    ) -> None:
        if self.frame0.get(name) is not None:
            self.diags.error(
                position,
                f"out name '{name}' is already a field of form '{self.trigger.id}'",
                "case data and the form's answers share one set of names: choose another name",
                code="name-clash",
            )
        elif name in base:
            what = "the submission record" if name == "submission" else f"the result of task step '{name}'"
            self.diags.error(position, f"out name '{name}' is already {what}", code="name-clash")
        elif name in names and names[name][0].type != vtype:
            first, where = names[name]
            self.diags.error(
                position,
                f"out name '{name}' is {vtype} here but {first.type} in step '{where}'",
                "give each value its own name, or make both the same type",
                code="name-clash",
            )
        elif name not in names:
            names[name] = (Symbol(name, vtype, (name,), position), step)

    # -- pass 2 -------------------------------------------------------------------------------

    def step(self, source: StepSource, scope: Scope, outputs: DataMapping | None) -> Step | None:
        """Compile one step in ``scope`` (form answers and case data); None when it failed."""
        before = len(self.diags)
        node = source.node
        routes = self._routes(source, scope)
        decides = get(node, "decide") is not None
        call = task = wait = None
        if source.kind is StepKind.CALL:
            call = self._call(source, scope, outputs)
        elif source.kind is StepKind.TASK:
            task = self._task(source, scope)
        elif source.kind is StepKind.WAIT:
            wait = self._wait(source, scope)
        branches = tuple(_text(b) for b in _items(get(node, "parallel")))
        join = _text(get(node, "join")) or None
        if len(self.diags) > before:
            return None
        return Step(
            source.id, source.kind, source.position, routes, decides, call, task, wait, branches, join
        )

    def _routes(self, source: StepSource, scope: Scope) -> tuple[Route, ...]:
        nxt = get(source.node, "next")
        if isinstance(nxt, YScalar):
            return (Route(None, _text(nxt), nxt.pos),)
        out: list[Route] = []
        for item in _items(get(source.node, "decide")):
            when_node = get(item, "when")
            when = None
            if isinstance(when_node, YScalar):
                when = self._expression(when_node, scope, expect=BOOLEAN)
            out.append(Route(when, _text(get(item, "goto")), item.pos))
        return tuple(out)

    def _expression(self, node: YScalar, scope: Scope, expect: Type | None = None) -> Any:
        try:
            return compile_expression(str(node.value), scope, node=node, expect=expect, library=self.library)
        except DefinitionError as error:
            self.diags.absorb(error)
            return None

    def _task(self, source: StepSource, scope: Scope) -> TaskSpec | None:
        task = get(source.node, "task")
        role_node, form_node = get(task, "role"), get(task, "form")
        role, form = _text(role_node), _text(form_node)
        dept = _text(get(task, "department")) or self.department.id
        if dept == self.department.id and role not in self.department.roles:
            roles = sorted(self.department.roles)
            self.diags.error(
                _pos(role_node, source.position),
                f"role '{role}' is not a role of department '{dept}'",
                did_you_mean(role, roles) or "its roles are: " + ", ".join(roles),
                code="unknown-role",
            )
        if form not in self.forms:
            self.diags.error(
                _pos(form_node, source.position),
                f"form '{form}' is not a form of department '{self.department.id}'",
                did_you_mean(form, self.forms)
                or _listing("its forms are", self.forms, "the department has no forms"),
                code="unknown-form",
            )
        title = None
        title_node = get(task, "title")
        if isinstance(title_node, YScalar):
            try:
                title = compile_template(str(title_node.value), scope, node=title_node, library=self.library)
            except DefinitionError as error:
                self.diags.absorb(error)
        due = self._duration(get(task, "due"))
        overdue = _text(get(task, "on_overdue")) or None
        return TaskSpec(role, dept, form, title, due, overdue, _pos(task, source.position))

    def _wait(self, source: StepSource, scope: Scope) -> WaitSpec | None:
        wait = get(source.node, "wait")
        seconds = self._duration(get(wait, "for"))
        until = None
        until_node = get(wait, "until")
        if isinstance(until_node, YScalar):
            until = self._expression(until_node, scope)
            if until is not None and until.type.kind not in (Kind.DATE, Kind.DATETIME, Kind.NULL, Kind.ANY):
                self.diags.error(
                    until_node.pos,
                    f"'until' must give a date or a datetime, not {until.type}",
                    "for example: until: add_days(incident_date, 28)",
                    code="wait",
                )
        return WaitSpec(seconds, until, _pos(wait, source.position))

    def _duration(self, node: YNode | None) -> float | None:
        if not isinstance(node, YScalar):
            return None
        try:
            return float(parse_duration(node.value, node.pos))
        except DefinitionError as error:
            self.diags.absorb(error)
            return None

    def _call(self, source: StepSource, scope: Scope, outputs: DataMapping | None) -> CallSpec | None:
        node = source.node
        call_node = get(node, "call")
        plugin = _text(call_node)
        spec = self.plugins.get(plugin)
        if spec is None:
            self.diags.error(
                _pos(call_node, source.position),
                f"plugin '{plugin}' is not installed",
                did_you_mean(plugin, self.plugins)
                or _listing("installed plugins", self.plugins, "no plugins are installed"),
                code="unknown-plugin",
            )
        connection = self._connection(source, plugin, spec)
        with_node = get(node, "with")
        inputs: DataMapping | None = DataMapping(MappingProxyType({}), source.position, MappingProxyType({}))
        if isinstance(with_node, YMap):
            inputs = MappingCompiler(scope, self.diags, self.library).mapping(with_node)
        if spec is not None and inputs is not None:
            missing_at = key_position(node, "with" if with_node is not None else "call")
            InputChecker(plugin, spec.input_schema, self.diags).check(inputs, missing_at)
        timeout = self._duration(get(node, "timeout")) or DEFAULT_TIMEOUT
        retry = self._retry(source, spec.retry if spec is not None else RetryPolicy())
        if inputs is None or retry is None:
            return None
        return CallSpec(plugin, connection, inputs, outputs, timeout, retry, _pos(call_node, source.position))

    def _connection(self, source: StepSource, plugin: str, spec: PluginSpec | None) -> str | None:
        node = get(source.node, "connection")
        name = _text(node) or None
        if name is None:
            if spec is not None and needs_connection(spec.config_schema):
                usable = sorted(n for n, c in self.connections.items() if c.plugin == plugin)
                self.diags.error(
                    key_position(source.node, "call"),
                    f"plugin '{plugin}' needs a connection",
                    f"add 'connection: {usable[0]}'"
                    if usable
                    else f"define a connection for '{plugin}' under 'connections:' in department.yaml",
                    code="connection",
                )
            return None
        where = _pos(node, source.position)
        connection = self.connections.get(name)
        if connection is None:
            self.diags.error(
                where,
                f"unknown connection '{name}'",
                did_you_mean(name, self.connections)
                or _listing(
                    "connections in department.yaml",
                    self.connections,
                    "department.yaml defines no connections: add them under 'connections:'",
                ),
                code="connection",
            )
        elif spec is not None and not connection.plugin:
            self.diags.error(
                connection.position or where,
                f"connection '{name}' does not say which plugin it is for",
                f"add 'plugin: {plugin}' to the connection in department.yaml",
                code="connection",
            )
        elif spec is not None and connection.plugin != plugin:
            self.diags.error(
                where,
                f"connection '{name}' is for plugin '{connection.plugin}', not '{plugin}'",
                code="connection",
            )
        elif spec is not None and name not in self._checked_connections:
            self._checked_connections.add(name)
            for path, message in config_errors(connection.config, spec.config_schema):
                at = f" at '{path}'" if path else ""
                self.diags.error(
                    connection.position or where,
                    f"connection '{name}' does not suit plugin '{plugin}'{at}: {message}",
                    "fix the connection's settings in department.yaml",
                    code="connection",
                )
        return name

    def _retry(self, source: StepSource, base: RetryPolicy) -> RetryPolicy | None:
        node = get(source.node, "retry")
        if not isinstance(node, YMap):
            return base
        changes: dict[str, Any] = {}
        for key in ("attempts", "backoff", "jitter"):
            value = get(node, key)
            if isinstance(value, YScalar):
                changes[key] = value.value
        for key in ("initial", "max_delay"):
            seconds = self._duration(get(node, key))
            if seconds is not None:
                changes[key] = seconds
        initial = changes.get("initial", base.initial)
        longest = changes.get("max_delay", base.max_delay)
        if longest < initial:
            self.diags.error(
                value_position(source.node, "retry"),
                f"'max_delay' ({format_duration(longest)}) must not be shorter than "
                f"'initial' ({format_duration(initial)})",
                "max_delay caps the wait between attempts, so it must be at least the first wait",
                code="retry",
            )
            return None
        try:
            return dataclasses.replace(base, **changes)
        except (TypeError, ValueError) as error:  # the schema rules these out; kept for safety
            self.diags.error(
                value_position(source.node, "retry"), f"invalid retry policy: {error}", code="retry"
            )
            return None


def _text(node: YNode | None) -> str:
    if isinstance(node, YScalar) and isinstance(node.value, str):
        return node.value
    return ""


def _items(node: YNode | None) -> tuple[YNode, ...]:
    return node.items if isinstance(node, YSeq) else ()


def _pos(node: YNode | None, default: Position) -> Position:
    return node.pos if node is not None else default


def _listing(label: str, names: Mapping[str, Any], empty: str) -> str:
    """``label: a, b, c``, or ``empty`` when there are no names."""
    return f"{label}: " + ", ".join(sorted(names)) if names else empty
