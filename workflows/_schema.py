"""The definition-format schema of a workflow file, and structural checks with author-friendly errors.

``workflows/schemas/workflow.schema.json`` (JSON Schema draft 2020-12, with a description on every
key so that editors can autocomplete) is the single statement of a workflow file's structure. It
is checked first; each ``jsonschema`` error is turned into a sentence and placed on the YAML line it
came from (:func:`locate` follows the error path, like ``dsl.node_at`` but comparing keys by the
text written). The meaning of a definition (do the steps exist, do the types agree) is checked
afterwards, in :mod:`workflows._loader`.

The schema sees the canonical JSON of the document. YAML 1.1 (what PyYAML reads) turns some plain
scalars into values an author did not mean: the key ``on:`` becomes the boolean True,
``2024-01-31`` a date and ``10:30`` the number 630. The canonical form keeps the author's own
characters for those, exactly as the forms package does, so a workflow's ``on: {submitted: ...}``
is the key ``"on"``, and the content hash never depends on PyYAML's guesses. Formatting, comments,
quoting and key order do not change the hash.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from dsl import (
    Diagnostics,
    Position,
    YNode,
    did_you_mean,
    to_json,
)
from dsl._paths import key_position, locate
from workflows._durations import DURATION_HINT, parse_duration

Path = tuple[str | int, ...]

_TYPE_WORDS = {
    "string": "text",
    "object": "a mapping",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}
_ID_HINT = "use lower case letters, digits and _, starting with a letter"


# -- canonical JSON and locating nodes by key text --------------------------------------------


# -- the schema ---------------------------------------------------------------------------------


@functools.cache
def _schema_text() -> str:
    return resources.files("workflows").joinpath("schemas/workflow.schema.json").read_text("utf-8")


@functools.cache
def _validator() -> Draft202012Validator:
    # Built once; validators hold no per-call state, and the schema dict is never handed out.
    return Draft202012Validator(json.loads(_schema_text()))


def workflow_schema() -> dict[str, Any]:
    """The definition-format JSON Schema of a workflow file (a fresh copy each call)."""
    return copy.deepcopy(_validator().schema)  # type: ignore[arg-type]


def check_structure(root: YNode, diags: Diagnostics) -> set[Path]:
    """Check ``root`` against the schema; record every problem; return the paths that had one."""
    bad: set[Path] = set()
    for error in _validator().iter_errors(to_json(root)):
        path: Path = tuple(error.absolute_path)
        for position, message, hint in _explain(root, error, path):
            diags.error(position, message, hint, code="schema")
        bad.add(path)
    return bad


def describe(path: Path) -> str:
    """Where ``path`` is, in words: ``the workflow``, ``step 'triage'``, ``'due' of step 'review'``."""
    if not path:
        return "the workflow"
    if path[0] == "steps" and len(path) >= 2:
        step = f"step '{path[1]}'"
        rest = path[2:]
        if not rest:
            return step
        return f"{_tail(rest)} of {step}"
    return _tail(path)


def _tail(path: Path) -> str:
    """The last key of ``path``, with the list item it is in: ``'when' of route 2``."""
    last = path[-1]
    if isinstance(last, int):
        return _item(path[:-1], last)
    if len(path) >= 2 and isinstance(path[-2], int):
        return f"'{last}' of {_item(path[:-2], path[-2])}"
    return f"'{last}'"


def _item(owner_path: Path, index: int) -> str:
    owner = owner_path[-1] if owner_path else ""
    if owner == "decide":
        return f"route {index + 1}"
    return f"item {index + 1} of '{owner}'"


def _position(root: YNode, path: Path) -> Position:
    return locate(root, path).pos


def _key_position(root: YNode, path: Path, key: str) -> Position:
    return key_position(locate(root, path), key)


def _explain(root: YNode, error: ValidationError, path: Path) -> Iterable[tuple[Position, str, str | None]]:
    """One or more (position, message, hint) for a jsonschema error."""
    kind = str(error.validator)
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = describe(path)
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            hint = did_you_mean(key, allowed) or "allowed keys here: " + ", ".join(allowed)
            yield _key_position(root, path, key), f"unknown key '{key}' in {describe(path)}", hint
        return
    if kind == "required" and isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        for key in error.validator_value:
            if key not in error.instance:
                yield _position(root, path), f"{where} is missing '{key}'", _required_hint(path, key)
        return
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        noun = "step id" if path == ("steps",) else "name"
        return_pos = _key_position(root, path, error.instance)
        yield return_pos, f"'{error.instance}' is not a valid {noun}", _ID_HINT
        return
    yield _position(root, path), *_sentence(kind, schema, error, where)


def _required_hint(path: Path, key: str) -> str | None:
    if not path:
        examples = {
            "workflow": "start the file with 'workflow: <id>', the same as the file name",
            "title": "add 'title: ...', a short description of what the workflow is for",
            "on": "add 'on: {submitted: <form id>}' to say which form starts it",
            "steps": "add 'steps:' with at least one step",
        }
        return examples.get(key)
    if key == "goto":
        return "each route needs 'goto: <step id>'"
    return None


def _sentence(
    kind: str, schema: dict[str, Any], error: ValidationError, where: str
) -> tuple[str, str | None]:
    shown = error.instance
    if kind == "type":
        wanted = schema.get("type")
        names = [str(t) for t in (wanted if isinstance(wanted, list) else [wanted])]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in names)
        if where == "the workflow":
            return "a workflow file must be a mapping of keys such as 'workflow:', 'on:' and 'steps:'", None
        hint = None
        if wanted == "string" and isinstance(shown, int | float) and not isinstance(shown, bool):
            hint = f'put it in quotes: "{shown}"'
        elif wanted == "string" and isinstance(shown, bool):
            hint = "true/false/yes/no are read as true or false by YAML: put the text in quotes"
        return f"{where} must be {words}", hint
    if kind == "pattern":
        title = schema.get("title")
        if title == "duration":
            return f"'{shown}' is not a duration ({where})", _duration_hint(shown)
        return f"'{shown}' is not a valid {title or 'value'} ({where})", _ID_HINT
    if kind == "const":
        return (
            f"{where} must be {json.dumps(schema.get('const'))}",
            "leave the key out for a step that is not an end",
        )
    if kind == "enum":
        options = ", ".join(str(v) for v in schema.get("enum", []))
        return f"{where} must be one of: {options}, not '{shown}'", did_you_mean(
            str(shown), map(str, schema.get("enum", []))
        )
    if kind == "minItems":
        count = schema.get("minItems")
        if where.startswith("'parallel'"):
            return (
                f"{where} needs at least {count} branches",
                "a parallel step starts two or more steps at once",
            )
        if where.startswith("'decide'"):
            return f"{where} needs at least one route", "write routes as - {when: ..., goto: ...}"
        return f"{where} needs at least {count} item(s)", None
    if kind == "minProperties":
        return f"{where} needs at least one entry", None
    if kind == "minLength":
        return f"{where} must not be empty", None
    if kind in ("minimum", "maximum"):
        bound = schema.get(kind)
        word = "at least" if kind == "minimum" else "at most"
        return f"{where} must be {word} {bound}, not {shown}", None
    return f"{where}: {error.message}", None


def _duration_hint(value: object) -> str:
    try:
        parse_duration(value)
    except ValueError as exc:
        diagnostics = getattr(exc, "diagnostics", ())
        if diagnostics and diagnostics[0].hint:
            return str(diagnostics[0].hint)
    return DURATION_HINT
