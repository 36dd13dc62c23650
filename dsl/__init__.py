"""The Waypost definition language: positioned YAML, typed expressions, diagnostics."""

from dsl._canonical import canonical_json, content_hash, key_name, scalar_json, scalar_text, to_json
from dsl._env import Env
from dsl._errors import DefinitionError, Diagnostic, Diagnostics, Severity, did_you_mean
from dsl._expression import CompiledExpression, compile_expression
from dsl._library import default_library
from dsl._parser import parse_expression
from dsl._source import Position, Source
from dsl._template import CompiledTemplate, compile_template
from dsl._yaml import YMap, YNode, YScalar, YSeq, load_yaml, node_at

__all__ = [
    "CompiledExpression",
    "CompiledTemplate",
    "DefinitionError",
    "Diagnostic",
    "Diagnostics",
    "Env",
    "Position",
    "Severity",
    "Source",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "canonical_json",
    "compile_expression",
    "compile_template",
    "content_hash",
    "default_library",
    "did_you_mean",
    "key_name",
    "load_yaml",
    "node_at",
    "parse_expression",
    "scalar_json",
    "scalar_text",
    "to_json",
]
