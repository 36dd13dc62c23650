"""Checking a call step against its plugin: inputs against ``input_schema``, connections against
``config_schema``, and the type of ``result`` from ``output_schema``.

A mapping is compared with the schema statically, node by node. Where a whole sub-tree is literal
(no expression in it) its value is validated with ``jsonschema`` itself, so enums, patterns and
ranges are checked too. Where a value comes from an expression only its static type can be
checked, by this table (``null`` and ``any`` fit everywhere, since an answer may be missing):

=========== =======================================================
expression  fits a schema of type
=========== =======================================================
text        string
number      number or integer
boolean     boolean
date        string (with no format, or format date)
time        string (with no format, or format time)
datetime    string (with no format, or format date-time)
list        array (and its items are checked against ``items``)
record      object (attachments and geopoints are records too)
=========== =======================================================

Only local ``$ref``s (``#/...``) are followed; the registry validates plugin schemas when a
plugin registers, so anything else is treated as "any value".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from dsl import Diagnostics, Position, did_you_mean
from dsl._types import ANY, BOOLEAN, NUMBER, TEXT, Kind, RecordType, Symbol, Type, list_of, record
from workflows._mapping import (
    DataMapping,
    ExpressionValue,
    ListValue,
    LiteralValue,
    MappingNode,
    TemplateValue,
    is_literal,
    to_json_value,
)

Schema = Mapping[str, Any]
_MAX_DEPTH = 32  # schemas may be recursive through $ref; deeper than this counts as "any"

_ARTICLE = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
# Keywords about a container as a whole, not checked member by member.
_WHOLE_KEYWORDS = frozenset(
    {"minItems", "maxItems", "uniqueItems", "contains", "minProperties", "maxProperties"}
    | {"dependentRequired", "dependentSchemas", "propertyNames", "const", "enum", "not"}
)
_FORMATS = {Kind.DATE: "date", Kind.TIME: "time", Kind.DATETIME: "date-time"}


class InputChecker:
    """Checks compiled ``with`` mappings against one plugin's input schema."""

    def __init__(self, plugin: str, schema: Schema, diags: Diagnostics) -> None:
        self.plugin = plugin
        self.root = schema
        self.diags = diags
        self.validator = Draft202012Validator(dict(schema))

    def check(self, mapping: DataMapping, missing_at: Position) -> None:
        """Record every way ``mapping`` does not fit the schema."""
        self._node(mapping, self.root, (), missing_at)

    # -- walking ------------------------------------------------------------------------------

    def _resolve(self, schema: Any, depth: int = 0) -> Schema | None:
        """Follow local ``$ref``s; None means "anything goes" (true, unknown ref, too deep)."""
        while isinstance(schema, Mapping) and "$ref" in schema and depth < _MAX_DEPTH:
            schema = resolve_ref(self.root, schema["$ref"])
            depth += 1
        if not isinstance(schema, Mapping) or depth >= _MAX_DEPTH:
            return None
        return schema

    def _node(self, node: MappingNode, schema: Any, path: tuple[str, ...], at: Position) -> None:
        resolved = self._resolve(schema)
        if resolved is None:
            if schema is False:
                self._error(node.position, f"plugin '{self.plugin}' takes no input '{_dotted(path)}'")
            return
        if isinstance(node, LiteralValue | TemplateValue) and is_literal(node):
            self._literal(node, resolved, path)
            return
        alternatives = [*resolved.get("anyOf", ()), *resolved.get("oneOf", ())]
        if alternatives and not any(self._fits(node, alt) for alt in alternatives):
            self._error(
                node.position,
                f"input '{_dotted(path)}' of plugin '{self.plugin}' matches none of the shapes it allows",
            )
            return
        for part in resolved.get("allOf", ()):
            self._node(node, part, path, at)
        if not self._type_ok(node, resolved, path):
            return
        if isinstance(node, DataMapping):
            self._object(node, resolved, path, at)
        elif isinstance(node, ListValue):
            self._array(node, resolved, path)
        elif isinstance(node, ExpressionValue) and node.expression.type.kind is Kind.LIST:
            self._list_type(node, node.expression.type, resolved, path)
        if isinstance(node, DataMapping | ListValue) and is_literal(node):
            # Members were checked one by one above; what is left are rules about the whole
            # container (minItems, uniqueItems, ...), which only a fixed container can be held to.
            self._literal(node, resolved, path, whole_only=True)

    def _fits(self, node: MappingNode, schema: Any) -> bool:
        """Whether ``node`` fits ``schema`` (used for anyOf/oneOf), without recording anything."""
        probe = InputChecker(self.plugin, self.root, Diagnostics())
        probe._node(node, schema, (), node.position)
        return not probe.diags.has_errors

    def _type_ok(self, node: MappingNode, schema: Schema, path: tuple[str, ...]) -> bool:
        wanted = _types(schema)
        if wanted is None:
            return True
        have = node.shape()
        if type_fits(have, wanted, schema.get("format")):
            return True
        self._error(
            node.position,
            f"input '{_dotted(path)}' of plugin '{self.plugin}' must be {_wanted_words(wanted)}, "
            f"but the mapping gives {_have_words(have)}",
            _type_hint(have, wanted),
        )
        return False

    def _object(self, node: DataMapping, schema: Schema, path: tuple[str, ...], at: Position) -> None:
        """Check a mapping's keys; a missing key is reported at ``at`` (the key that holds it)."""
        properties: Mapping[str, Any] = schema.get("properties", {})
        patterns: Mapping[str, Any] = schema.get("patternProperties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in node.entries.items():
            sub = (*path, key)
            if key in properties:
                self._node(value, properties[key], sub, node.key_positions.get(key, value.position))
                continue
            matched = [s for p, s in patterns.items() if _search(p, key)]
            if matched:
                for sub_schema in matched:
                    self._node(value, sub_schema, sub, node.key_positions.get(key, value.position))
            elif extra is False:
                names = sorted(properties)
                hint = did_you_mean(key, names) or (
                    f"its inputs here are: {', '.join(names)}" if names else None
                )
                where = node.key_positions.get(key, value.position)
                self._error(where, f"plugin '{self.plugin}' has no input '{_dotted(sub)}'", hint)
            elif isinstance(extra, Mapping):
                self._node(value, extra, sub, node.key_positions.get(key, value.position))
        for key in schema.get("required", ()):
            if key not in node.entries:
                self._error(
                    at,
                    f"missing input '{_dotted((*path, key))}' required by plugin '{self.plugin}'",
                    f"add '{key}: ...' to the mapping",
                )

    def _array(self, node: ListValue, schema: Schema, path: tuple[str, ...]) -> None:
        prefix = schema.get("prefixItems", ())
        items = schema.get("items", True)
        for index, item in enumerate(node.items):
            sub = (*path, f"[{index}]")
            self._node(item, prefix[index] if index < len(prefix) else items, sub, item.position)

    def _list_type(self, node: ExpressionValue, have: Type, schema: Schema, path: tuple[str, ...]) -> None:
        items = self._resolve(schema.get("items", True))
        wanted = _types(items) if items is not None else None
        if have.item is None or wanted is None or items is None:
            return
        if not type_fits(have.item, wanted, items.get("format")):
            self._error(
                node.position,
                f"input '{_dotted(path)}' of plugin '{self.plugin}' must be a list of "
                f"{_wanted_words(wanted, article=False)}, but the mapping gives {have}",
            )

    def _literal(
        self, node: MappingNode, schema: Schema, path: tuple[str, ...], *, whole_only: bool = False
    ) -> None:
        value = to_json_value(literal_value(node))
        for error in self.validator.evolve(schema=dict(schema)).iter_errors(value):
            if whole_only and (error.absolute_path or error.validator not in _WHOLE_KEYWORDS):
                continue
            where = _node_at(node, tuple(error.absolute_path))
            sub = _dotted((*path, *(str(p) if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)))
            self._error(
                where,
                f"input '{sub}' of plugin '{self.plugin}': {_message(error)}",
                _literal_hint(error),
            )

    def _error(self, position: Position, message: str, hint: str | None = None) -> None:
        self.diags.error(position, message, hint, code="plugin-input")


def literal_value(node: MappingNode) -> Any:
    """The Python value of an all-literal node."""
    if isinstance(node, LiteralValue):
        return node.value
    if isinstance(node, TemplateValue):
        return node.template.source
    if isinstance(node, ListValue):
        return [literal_value(item) for item in node.items]
    if isinstance(node, DataMapping):
        return {key: literal_value(item) for key, item in node.entries.items()}
    return None


def type_fits(have: Type, wanted: frozenset[str], fmt: object = None) -> bool:
    """Whether a value of static type ``have`` fits a schema whose ``type`` allows ``wanted``."""
    kind = have.kind
    if kind in (Kind.NULL, Kind.ANY):
        return True
    if kind is Kind.TEXT:
        return "string" in wanted
    if kind is Kind.NUMBER:
        return bool(wanted & {"number", "integer"})
    if kind is Kind.BOOLEAN:
        return "boolean" in wanted
    if kind in _FORMATS:
        return "string" in wanted and fmt in (None, _FORMATS[kind])
    if kind is Kind.LIST:
        return "array" in wanted
    return "object" in wanted  # records, attachments, geopoints


def resolve_ref(root: Schema, ref: object) -> Any:
    """The sub-schema a local ``$ref`` such as ``#/$defs/address`` points at (True if unknown)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return True
    node: Any = root
    for raw in (p for p in ref[1:].split("/") if p):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return True
    return node


def schema_type(schema: Any, root: Schema | None = None, depth: int = 0) -> Type:
    """The expression type of a value described by ``schema`` (a plugin's output schema).

    object with properties -> record of them; string -> text; number/integer -> number; boolean ->
    boolean; array -> list of the item type; anything else (an object without properties, a
    union, no type) -> any.
    """
    base = root if root is not None else schema
    while isinstance(schema, Mapping) and "$ref" in schema and depth < _MAX_DEPTH:
        schema = resolve_ref(base, schema["$ref"])
        depth += 1
    if not isinstance(schema, Mapping) or depth >= _MAX_DEPTH:
        return ANY
    wanted = (_types(schema) or frozenset()) - {"null"}
    if len(wanted) != 1:
        return NUMBER if wanted == {"number", "integer"} else ANY
    kind = next(iter(wanted))
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return ANY
        symbols = {
            str(name): Symbol(str(name), schema_type(sub, base, depth + 1), (str(name),))
            for name, sub in properties.items()
        }
        return record(RecordType.of(symbols))
    if kind == "array":
        return list_of(schema_type(schema.get("items", True), base, depth + 1))
    simple = {"string": TEXT, "number": NUMBER, "integer": NUMBER, "boolean": BOOLEAN}
    return simple.get(kind, ANY)


def config_errors(config: Mapping[str, Any], schema: Schema) -> Iterator[tuple[str, str]]:
    """(where, message) for every way a connection's settings do not fit ``config_schema``.

    ``${env:NAME}`` placeholders are plain text here: the engine replaces them at run time with
    the environment variable's text.
    """
    validator = Draft202012Validator(dict(schema))
    for error in sorted(validator.iter_errors(to_json_value(dict(config))), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.absolute_path)
        yield where, _message(error)


def needs_connection(schema: Schema) -> bool:
    """True when a plugin cannot run without connection settings (``{}`` does not fit)."""
    return any(True for _ in Draft202012Validator(dict(schema)).iter_errors({}))


def _types(schema: Schema) -> frozenset[str] | None:
    wanted = schema.get("type")
    if isinstance(wanted, str):
        return frozenset({wanted})
    if isinstance(wanted, list):
        return frozenset(str(t) for t in wanted)
    return None


def _search(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[", "[")


def _node_at(node: MappingNode, path: tuple[Any, ...]) -> Position:
    for step in path:
        if isinstance(node, DataMapping) and step in node.entries:
            node = node.entries[step]
        elif isinstance(node, ListValue) and isinstance(step, int) and step < len(node.items):
            node = node.items[step]
        else:
            break
    return node.position


def _message(error: ValidationError) -> str:
    if error.validator == "required" and isinstance(error.instance, dict):
        wanted = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in wanted if k not in error.instance]
        return "missing " + ", ".join(f"'{k}'" for k in missing)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(k for k in error.instance if k not in known)
        return "unknown " + ", ".join(f"'{k}'" for k in extra)
    return error.message


def _literal_hint(error: ValidationError) -> str | None:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        return did_you_mean(str(error.instance), [str(v) for v in error.validator_value])
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        extra = [k for k in error.instance if k not in known]
        return did_you_mean(extra[0], known) if extra else None
    return None


def _wanted_words(wanted: frozenset[str], *, article: bool = True) -> str:
    words = [(_ARTICLE.get(t, t) if article else t) for t in sorted(wanted)]
    return " or ".join(words)


def _have_words(have: Type) -> str:
    word = str(have)
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _type_hint(have: Type, wanted: frozenset[str]) -> str | None:
    if "string" in wanted and have.kind is not Kind.TEXT:
        return 'to pass it as text write "{{ text(...) }}" around the expression'
    if have.kind is Kind.TEXT and wanted & {"number", "integer"}:
        return 'a template gives text: use "{{ number(...) }}" or a single hole over a number'
    return None
