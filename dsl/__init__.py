"""The Waypost definition language: positioned YAML, typed expressions, diagnostics."""

from dsl._errors import DefinitionError, Diagnostic, Diagnostics, Severity, did_you_mean
from dsl._source import Position, Source
from dsl._yaml import YMap, YNode, YScalar, YSeq, load_yaml, node_at

__all__ = [
    "DefinitionError",
    "Diagnostic",
    "Diagnostics",
    "Position",
    "Severity",
    "Source",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "did_you_mean",
    "load_yaml",
    "node_at",
]
