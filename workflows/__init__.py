"""Waypost workflows: the workflow model, its static checks and diagrams, and plugin descriptions.

``load_workflow`` turns a workflow file (docs/workflows.md) into a checked, compiled
:class:`Workflow`, or raises :class:`dsl.DefinitionError` with every problem found. Plugins are
known here only by their :class:`PluginSpec`; running them is the engine's business. Pure: no
I/O, no database, no web framework.
"""

from workflows._durations import format_duration, parse_duration
from workflows._loader import load_workflow
from workflows._mapping import (
    DataMapping,
    ExpressionValue,
    ListValue,
    LiteralValue,
    MappingNode,
    TemplateValue,
    to_json_value,
)
from workflows._model import (
    CallSpec,
    Connection,
    Edge,
    EdgeKind,
    Route,
    Step,
    StepKind,
    TaskSpec,
    WaitSpec,
    Workflow,
)
from workflows._plugin_check import schema_type
from workflows._plugin_spec import PluginSpec, RetryPolicy
from workflows._schema import workflow_schema

__all__ = [
    "CallSpec",
    "Connection",
    "DataMapping",
    "Edge",
    "EdgeKind",
    "ExpressionValue",
    "ListValue",
    "LiteralValue",
    "MappingNode",
    "PluginSpec",
    "RetryPolicy",
    "Route",
    "Step",
    "StepKind",
    "TaskSpec",
    "TemplateValue",
    "WaitSpec",
    "Workflow",
    "format_duration",
    "load_workflow",
    "parse_duration",
    "schema_type",
    "to_json_value",
    "workflow_schema",
]
