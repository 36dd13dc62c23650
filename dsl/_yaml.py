"""YAML loading that keeps the line and column of every key and value.

Values are built with ``yaml.safe_load`` semantics (PyYAML's SafeLoader resolves and constructs
each scalar), but on top of the composer's nodes, so every mapping, sequence and scalar knows
where it was written. Two things differ from ``safe_load`` on purpose:

* a duplicate key in one mapping is an error (PyYAML silently keeps the last one, which hides an
  author's mistake);
* a file holds exactly one document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import yaml

from dsl._errors import DefinitionError, Diagnostic
from dsl._source import Position, Source

YNode = Union["YMap", "YSeq", "YScalar"]


@dataclass(frozen=True, slots=True)
class YScalar:
    """A scalar value (text, number, boolean, null, date) and where it was written."""

    value: Any
    pos: Position
    style: str | None = None
    raw: str = ""

    def to_python(self) -> Any:
        """The plain Python value, as ``yaml.safe_load`` would give it."""
        return self.value

    def position_at(self, offset: int) -> Position:
        """The source position of character ``offset`` of this scalar's text.

        Exact for plain and quoted scalars on one line (the usual home of an expression) and for
        literal block scalars; for folded or multi-line flow scalars it falls back to the
        scalar's start, which is still the right line for the author to look at.
        """
        pos = self.pos
        text = self.raw
        if self.style in (None, "'", '"'):
            if "\n" in text[:offset]:
                return pos
            if self.style is not None and ("\\" in text[:offset] or "''" in text[:offset]):
                return pos
            shift = 1 if self.style is not None else 0
            return Position(pos.source, pos.line, pos.column + shift + offset)
        if self.style == "|" and pos.source is not None:
            before = text[:offset]
            line_index = before.count("\n")
            col_in_line = offset - (before.rfind("\n") + 1)
            line_no = pos.line + 1 + line_index
            src_line = pos.source.line(line_no)
            indent = len(src_line) - len(src_line.lstrip(" "))
            return Position(pos.source, line_no, indent + 1 + col_in_line)
        return pos


@dataclass(frozen=True, slots=True)
class YSeq:
    """A sequence and where it was written."""

    items: tuple[YNode, ...]
    pos: Position

    def __iter__(self) -> Iterator[YNode]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_python(self) -> list[Any]:
        """The plain Python list."""
        return [item.to_python() for item in self.items]


@dataclass(frozen=True, slots=True)
class YMap:
    """A mapping whose keys are scalars; remembers each key's own position too."""

    entries: Mapping[Any, tuple[YScalar, YNode]]
    pos: Position
    _keys: tuple[Any, ...] = field(default=(), repr=False)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: Any) -> YNode | None:
        """The value node for ``key``, or None."""
        entry = self.entries.get(key)
        return entry[1] if entry is not None else None

    def key_pos(self, key: Any) -> Position:
        """Where ``key`` itself was written (the mapping's position if absent)."""
        entry = self.entries.get(key)
        return entry[0].pos if entry is not None else self.pos

    def value_pos(self, key: Any) -> Position:
        """Where the value of ``key`` was written (the mapping's position if absent)."""
        entry = self.entries.get(key)
        return entry[1].pos if entry is not None else self.pos

    def items(self) -> Iterator[tuple[YScalar, YNode]]:
        """(key node, value node) pairs in the order written."""
        return iter(self.entries.values())

    def to_python(self) -> dict[Any, Any]:
        """The plain Python dict."""
        return {k: v.to_python() for k, (_, v) in self.entries.items()}


def node_at(root: YNode, path: tuple[Any, ...] | list[Any]) -> tuple[YNode, bool]:
    """Follow a JSON-style path (keys and indexes) from ``root``.

    Returns the deepest node reached and whether the whole path was found; a validator's error
    path that runs past the document (a missing property) maps to the closest existing node.
    """
    node: YNode = root
    for step in path:
        if isinstance(node, YMap) and step in node.entries:
            node = node.entries[step][1]
        elif isinstance(node, YSeq) and isinstance(step, int) and 0 <= step < len(node.items):
            node = node.items[step]
        else:
            return node, False
    return node, True


# Friendlier wording for PyYAML's problems, with a hint an author can act on (STYLE.md #2).
_YAML_HINTS: tuple[tuple[str, str, str], ...] = (
    (
        "mapping values are not allowed here",
        "a ':' appears where YAML did not expect a new key",
        "check the indentation of this line, or put the value in quotes if it contains ': '",
    ),
    (
        "found character '\\t' that cannot start any token",
        "a tab character is used for indentation",
        "YAML indentation must use spaces, not tabs",
    ),
    (
        "could not find expected ':'",
        "a key is missing its ':'",
        "write 'key: value'; a text value that spans lines must be quoted or use '|'",
    ),
    (
        "did not find expected key",
        "the indentation does not line up with the mapping it belongs to",
        "keys of one mapping must start in the same column",
    ),
    (
        "did not find expected '-' indicator",
        "a list item is not indented like its siblings",
        "every '- ' item of one list must start in the same column",
    ),
    (
        "found undefined alias",
        "an alias ('*name') refers to an anchor that is not defined",
        "define the anchor with '&name' before using it",
    ),
    (
        "found unexpected end of stream",
        "the file ends inside a quoted value or a bracket",
        "check that every quote and bracket is closed",
    ),
    (
        "but found another document",
        "the file holds more than one YAML document",
        "one file defines one thing: remove the extra '---' line or move it to its own file",
    ),
    (
        "found unknown escape character",
        "a backslash escape in a double-quoted value is not valid YAML",
        "use single quotes for text with backslashes, e.g. regular expressions: '\\d+'",
    ),
)


def _yaml_error(source: Source, exc: yaml.YAMLError) -> DefinitionError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    pos = Position(source, mark.line + 1, mark.column + 1) if mark is not None else Position(source, 1, 1)
    message, hint = f"invalid YAML: {problem}", None
    for needle, nicer, tip in _YAML_HINTS:
        if needle in problem:
            message, hint = f"invalid YAML: {nicer}", tip
            break
    return DefinitionError([Diagnostic(message, pos, hint, code="yaml")])


class _Builder:
    def __init__(self, source: Source, loader: yaml.SafeLoader) -> None:
        self.source = source
        self.loader = loader
        self.problems: list[Diagnostic] = []

    def pos(self, node: yaml.Node) -> Position:
        start, end = node.start_mark, node.end_mark
        return Position(self.source, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def build(self, node: yaml.Node) -> YNode:
        if isinstance(node, yaml.ScalarNode):
            value = self.loader.construct_object(node, deep=True)
            return YScalar(value, self.pos(node), node.style, node.value)
        if isinstance(node, yaml.SequenceNode):
            return YSeq(tuple(self.build(item) for item in node.value), self.pos(node))
        if isinstance(node, yaml.MappingNode):
            return self.build_map(node)
        raise DefinitionError.at(self.pos(node), "unsupported YAML node")  # pragma: no cover

    def build_map(self, node: yaml.MappingNode) -> YMap:
        self.loader.flatten_mapping(node)  # resolves '<<' merge keys like safe_load does
        entries: dict[Any, tuple[YScalar, YNode]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Diagnostic("a mapping key must be a plain value", self.pos(key_node), code="yaml")
                )
                continue
            key = self.build(key_node)
            if not isinstance(key, YScalar):  # pragma: no cover - guarded above
                continue
            try:
                hash(key.value)
            except TypeError:
                self.problems.append(Diagnostic("unhashable mapping key", key.pos, code="yaml"))
                continue
            if key.value in entries:
                first = entries[key.value][0].pos
                self.problems.append(
                    Diagnostic(
                        f"duplicate key '{key.value}' (first written at line {first.line})",
                        key.pos.span(len(str(key.raw))),
                        "YAML keeps only the last value of a repeated key; remove or rename one",
                        code="duplicate-key",
                    )
                )
                continue
            entries[key.value] = (key, self.build(value_node))
        return YMap(entries, self.pos(node))


def load_yaml(text: str, name: str = "<string>") -> YNode:
    """Parse one YAML document into positioned nodes.

    Raises :class:`DefinitionError` (never a PyYAML exception) for invalid YAML, duplicate keys,
    an empty file or more than one document.
    """
    source = Source(name, text)
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise DefinitionError.at(Position(source, 1, 1), "the file is empty", code="yaml")
        builder = _Builder(source, loader)
        result = builder.build(root)
    except yaml.YAMLError as exc:
        raise _yaml_error(source, exc) from None
    except RecursionError:
        raise DefinitionError.at(Position(source, 1, 1), "the document is nested too deeply") from None
    finally:
        loader.dispose()
    if builder.problems:
        raise DefinitionError(builder.problems)
    return result
