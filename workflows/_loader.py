"""``load_workflow``: from a workflow file's text to a checked, compiled :class:`Workflow`.

The order of work:

1. the YAML is read with positions (``dsl.load_yaml``) and checked against the definition-format
   schema; a problem outside the steps (a missing ``on:``, a bad step id) stops here, since the
   rest would only repeat it;
2. the header: the id matches the file name, the trigger form is a form of the department, the
   start step exists;
3. each step is read: its kind and the keys that go with it (:mod:`workflows._steps`);
4. the graph is checked (:mod:`workflows._graph`);
5. the steps are compiled in two passes against the forms and plugins (:mod:`workflows._compile`).

Every problem of steps 2 to 5 is collected, and all are raised together as one
:class:`~dsl.DefinitionError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from dsl import (
    DefinitionError,
    Diagnostics,
    YMap,
    YNode,
    YScalar,
    content_hash,
    did_you_mean,
    key_name,
    load_yaml,
)
from dsl._functions import FunctionLibrary
from dsl._paths import get
from dsl._types import ANY, RecordType, Scope, Symbol, Type
from forms import Department, Form
from workflows._compile import StepCompiler
from workflows._graph import check_graph
from workflows._model import Connection, Step, Workflow
from workflows._plugin_spec import PluginSpec
from workflows._schema import check_structure
from workflows._steps import StepSource, read_step

ConnectionLike = Connection | Mapping[str, Any]


def load_workflow(
    text: str,
    name: str,
    *,
    department: Department,
    forms: Mapping[str, Form],
    plugins: Mapping[str, PluginSpec],
    connections: Mapping[str, ConnectionLike] | None = None,
    library: FunctionLibrary | None = None,
) -> Workflow:
    """Load and check a workflow definition of ``department``.

    ``name`` is the file name the author sees in errors (``workflows/child_concern.yaml``); the
    workflow id must equal its stem. ``forms`` are the department's forms by id; ``plugins`` the
    installed plugins by name. ``connections`` are the department's connections by name, as
    :class:`Connection` objects or as their department.yaml mappings (``{plugin: http, base_url:
    ...}``); by default ``department.connections``. ``library`` is the expression function
    library (by default the built-in one).

    Raises :class:`~dsl.DefinitionError` holding every problem found, each positioned.
    """
    root = load_yaml(text, name)
    diags = Diagnostics()
    bad = check_structure(root, diags)
    if not isinstance(root, YMap) or any(len(path) < 2 or path[0] != "steps" for path in bad):
        diags.raise_if_errors()
    if not isinstance(root, YMap):  # pragma: no cover - the schema reports a non-mapping root
        raise DefinitionError.at(root.pos, "a workflow file must be a mapping")
    broken = {str(path[1]) for path in bad}
    header = _header(root, name, department, forms, diags)
    steps_node = get(root, "steps")
    step_keys = list(steps_node.items()) if isinstance(steps_node, YMap) else []
    ids = [key_name(key) for key, _ in step_keys]
    start = _start(root, ids, diags)
    sources: list[StepSource] = []
    for key, value in step_keys:
        step_id = key_name(key)
        if step_id in broken or not isinstance(value, YMap):
            continue
        source = read_step(step_id, value, key.pos.span(len(key.raw or step_id)), diags)
        if source is not None:
            sources.append(source)
    joins = check_graph({s.id: s.graph for s in sources}, start, ids, diags)
    trigger = forms.get(header["trigger"])
    if trigger is None:
        # Without the trigger form no name can be resolved; report what is known so far.
        diags.raise_if_errors()
        raise DefinitionError.at(root.pos, "the workflow has no trigger form")  # pragma: no cover
    compiler = StepCompiler(
        diags=diags,
        department=department,
        forms=forms,
        plugins=plugins,
        connections=_connections(connections, department),
        trigger=trigger,
        library=library,
    )
    base = compiler.case_base(sources)
    for key, value in step_keys:
        # A task step with a structural problem still names a result: keep the name (of any
        # type) so that expressions using it do not report it as unknown as well.
        if key_name(key) in broken and get(value, "task") is not None:
            base[key_name(key)] = Symbol(key_name(key), ANY, (key_name(key),))
    outs, out_symbols = compiler.outs(sources, base)
    scope = Scope.of(trigger.record_type, RecordType.of({**base, **out_symbols}))
    steps: dict[str, Step] = {}
    for source in sources:
        step = compiler.step(source, scope, outs.get(source.id))
        if step is not None:
            steps[source.id] = step
    diags.raise_if_errors()
    case_types: dict[str, Type] = {n: s.type for n, s in out_symbols.items()}
    return Workflow(
        id=header["id"],
        version=header["version"],
        title=header["title"],
        department=department.id,
        trigger_form=trigger.id,
        start=start,
        steps=MappingProxyType(steps),
        joins=MappingProxyType(joins),
        case_types=MappingProxyType(case_types),
        content_hash=content_hash(root),
        position=root.pos,
    )


def _header(
    root: YMap, name: str, department: Department, forms: Mapping[str, Form], diags: Diagnostics
) -> dict[str, Any]:
    id_node = get(root, "workflow")
    ident = _text(id_node)
    stem, suffix = PurePosixPath(name.replace("\\", "/")).stem, PurePosixPath(name).suffix
    if suffix in (".yaml", ".yml") and stem != ident and id_node is not None:
        diags.error(
            id_node.pos,
            f"the workflow id '{ident}' does not match the file name '{PurePosixPath(name).name}'",
            f"rename the file to '{ident}{suffix}', or change the id to '{stem}'",
            code="file-name",
        )
    on = get(root, "on")
    trigger_node = get(on, "submitted")
    trigger = _text(trigger_node)
    if trigger not in forms and trigger_node is not None:
        diags.error(
            trigger_node.pos,
            f"form '{trigger}' is not a form of department '{department.id}'",
            did_you_mean(trigger, forms)
            or ("its forms are: " + ", ".join(sorted(forms)) if forms else "the department has no forms"),
            code="unknown-form",
        )
    version = get(root, "version")
    return {
        "id": ident,
        "version": _text(version) or None,
        "title": _text(get(root, "title")),
        "trigger": trigger,
    }


def _start(root: YMap, ids: list[str], diags: Diagnostics) -> str:
    node = get(root, "start")
    if node is None:
        return ids[0] if ids else ""
    start = _text(node)
    if start not in ids:
        diags.error(
            node.pos,
            f"unknown step '{start}'",
            did_you_mean(start, ids)
            or "'start' names the first step; by default it is the first step written",
            code="unknown-step",
        )
    return start


def _connections(given: Mapping[str, ConnectionLike] | None, department: Department) -> dict[str, Connection]:
    source: Mapping[str, Any] = department.connections if given is None else given
    out: dict[str, Connection] = {}
    for name, value in source.items():
        if isinstance(value, Connection):
            out[name] = value
        elif isinstance(value, Mapping):
            out[name] = Connection.from_settings(name, value)
    return out


def _text(node: YNode | None) -> str:
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) else ""
