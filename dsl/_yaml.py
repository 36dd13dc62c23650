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
from dsl._yaml_errors import yaml_error

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

        Exact for plain and quoted scalars on one line (the usual home of an expression), counting
        quote doubling and backslash escapes as written, and for literal block scalars; for
        folded or multi-line flow scalars it falls back to the scalar's start, which is still the
        right line for the author to look at.
        """
        pos = self.pos
        text = self.raw
        source = pos.source
        if self.style in (None, "'", '"'):
            if source is None:
                if "\n" in text[:offset]:
                    return pos
                shift = 1 if self.style is not None else 0
                return Position(None, pos.line, pos.column + shift + offset)
            column = _flow_column(source.line(pos.line), pos.column - 1, self.style, text[:offset])
            return pos if column is None else Position(source, pos.line, column)
        if self.style == "|" and source is not None:
            before = text[:offset]
            line_index = before.count("\n")
            col_in_line = offset - (before.rfind("\n") + 1)
            line_no = pos.line + 1 + line_index
            src_line = source.line(line_no)
            # A content line is the block's indentation followed by the value's line (which keeps
            # any extra indentation of its own).
            value_line = text.split("\n")[line_index]
            if not src_line.endswith(value_line):
                return pos
            return Position(source, line_no, len(src_line) - len(value_line) + 1 + col_in_line)
        return pos


def _flow_column(line: str, start: int, style: str | None, prefix: str) -> int | None:
    """The 1-based column on ``line`` just after the written form of ``prefix``.

    ``start`` is the 0-based index where the scalar starts (its opening quote, if quoted). Returns
    None when the prefix is not written on this line (a folded or multi-line scalar).
    """
    if style is None:
        return start + 1 + len(prefix) if line.startswith(prefix, start) else None
    index = start + 1
    for char in prefix:
        if index >= len(line):
            return None
        if style == "'":
            if line.startswith("''", index) and char == "'":
                index += 2
            elif line[index] == char and char != "'":
                index += 1
            else:
                return None
        elif line[index] == "\\":
            if index + 1 >= len(line):
                return None  # an escaped line break: the text goes on on the next line
            index += {"x": 4, "u": 6, "U": 10}.get(line[index + 1 : index + 2], 2)
        elif line[index] == char and char != '"':
            index += 1
        else:
            return None
    return index + 1


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
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS: dict[type[yaml.Node], str] = {
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}
# Aliases may repeat a subtree many times ("billion laughs"); cap the size of the expanded tree.
MAX_VALUES = 1_000_000


def _own_keys(root: yaml.Node) -> dict[int, set[int]]:
    """Per mapping node, the ids of the keys written in it (recorded before merges rewrite them)."""
    own: dict[int, set[int]] = {}
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            own[id(node)] = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return own


class _Builder:
    def __init__(self, source: Source, loader: Any, root: yaml.Node) -> None:
        self.source = source
        self.loader = loader
        self.problems: list[Diagnostic] = []
        self.own = _own_keys(root)
        # One YNode per composed node: an alias shares its anchor's (immutable) node, so building
        # is linear in the text; sizes count the values the expanded document holds.
        self.built: dict[int, tuple[YNode, int]] = {}
        self.building: set[int] = set()

    def pos(self, node: yaml.Node) -> Position:
        start, end = node.start_mark, node.end_mark
        return Position(self.source, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def sized(self, node: yaml.Node) -> tuple[YNode, int]:
        done = self.built.get(id(node))
        if done is not None:
            return done
        if id(node) in self.building:
            message = "an alias refers to the mapping or list that contains it"
            raise DefinitionError.at(self.pos(node), message, "a value cannot contain itself", code="yaml")
        self.building.add(id(node))
        result = self.build_node(node)
        self.building.discard(id(node))
        if result[1] > MAX_VALUES:
            message = f"aliases expand this document to more than {MAX_VALUES:,} values"
            raise DefinitionError.at(self.pos(node), message, "use fewer nested aliases", code="yaml")
        self.built[id(node)] = result
        return result

    def build_node(self, node: yaml.Node) -> tuple[YNode, int]:
        if isinstance(node, yaml.ScalarNode):
            return self.build_scalar(node), 1
        if _PLAIN_TAGS.get(type(node), node.tag) != node.tag:
            # safe_load rejects python/... tags; the other collection tags (!!set, !!omap) build
            # values no definition uses, so every tag on a mapping or list is refused.
            raise DefinitionError.at(
                self.pos(node),
                f"unsupported YAML tag '{node.tag.replace('tag:yaml.org,2002:', '!!')}'",
                "remove the tag: definitions use plain mappings, lists and values",
                code="yaml",
            )
        if isinstance(node, yaml.SequenceNode):
            items = [self.sized(item) for item in node.value]
            seq = YSeq(tuple(item for item, _ in items), self.pos(node))
            return seq, 1 + sum(size for _, size in items)
        if isinstance(node, yaml.MappingNode):
            return self.build_map(node)
        raise DefinitionError.at(self.pos(node), "unsupported YAML node")  # pragma: no cover

    def build_scalar(self, node: yaml.ScalarNode) -> YScalar:
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            # PyYAML's constructors raise plain Python errors for values its resolver matched
            # but cannot build, such as the date 2024-02-30 or '!!int x'.
            what = "date" if node.tag == "tag:yaml.org,2002:timestamp" else node.tag.rsplit(":", 1)[-1]
            self.problems.append(
                Diagnostic(
                    f"invalid YAML: '{node.value}' is not a valid {what}",
                    self.pos(node),
                    "put the value in quotes to keep it as text",
                    code="yaml",
                )
            )
            value = node.value
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a "\ud800" escape: no page or database could store it
                message = "invalid YAML: an escape gives half of a surrogate pair, not a character"
                self.problems.append(
                    Diagnostic(message, self.pos(node), "check the '\\u' escapes", code="yaml")
                )
        return YScalar(value, self.pos(node), node.style or None, node.value)

    def build_map(self, node: yaml.MappingNode) -> tuple[YMap, int]:
        self.loader.flatten_mapping(node)  # resolves '<<' merge keys like safe_load does
        own = self.own.get(id(node), set())
        entries: dict[Any, tuple[YScalar, YNode]] = {}
        merged: set[Any] = set()  # keys whose value came from a merge and may be overridden
        size = 1
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Diagnostic("a mapping key must be a plain value", self.pos(key_node), code="yaml")
                )
                continue
            key = self.sized(key_node)[0]
            if not isinstance(key, YScalar):  # pragma: no cover - guarded above
                continue
            try:
                hash(key.value)
            except TypeError:
                self.problems.append(Diagnostic("unhashable mapping key", key.pos, code="yaml"))
                continue
            if key.value in entries and key.value not in merged:
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
            # Like safe_load: keys written in the mapping override keys merged into it.
            value, value_size = self.sized(value_node)
            if id(key_node) in own:
                merged.discard(key.value)
            else:
                merged.add(key.value)
            entries[key.value] = (key, value)
            size += 1 + value_size
        return YMap(entries, self.pos(node)), size


def load_yaml(text: str, name: str = "<string>") -> YNode:
    """Parse one YAML document into positioned nodes.

    Raises :class:`DefinitionError` (never a PyYAML exception) for invalid YAML, duplicate keys,
    an empty file or more than one document.
    """
    source = Source(name, text)
    fast = _compose_fast(text)
    if fast is None or isinstance(fast, yaml.YAMLError):
        try:
            return _load_pure(source)
        except DefinitionError as pure:
            # The two parsers differ at the edges (libyaml takes `{label: Worth it?, x: 1}`, the
            # pure one does not). When the pure parser stops before the place libyaml found the
            # mistake, libyaml's place is the author's real mistake: report that one.
            if isinstance(fast, yaml.MarkedYAMLError) and _stops_earlier(pure, fast):
                raise yaml_error(source, fast) from None
            raise
    loader, root = fast
    try:
        builder = _Builder(source, loader, root)
        result = builder.sized(root)[0]
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        # Let the pure-Python path report it, with its wording and positions.
        return _load_pure(source)
    finally:
        loader.dispose()
    if builder.problems:
        raise DefinitionError(builder.problems)
    return result


_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)


def _stops_earlier(pure: DefinitionError, fast: yaml.MarkedYAMLError) -> bool:
    """True when the pure parser stopped at a '?' inside a flow collection (which libyaml reads as
    text) before the place where libyaml stopped. Only that known difference is overridden:
    elsewhere the pure parser's wording and position are the better ones."""
    mark = fast.problem_mark or fast.context_mark
    diagnostic = pure.diagnostics[0] if pure.diagnostics else None
    if mark is None or diagnostic is None or "got '?'" not in diagnostic.message:
        return False
    first = diagnostic.position
    if first is None:
        return False
    return (first.line, first.column) < (mark.line + 1, mark.column + 1)


def _compose_fast(text: str) -> tuple[Any, yaml.Node] | yaml.YAMLError | None:
    """Compose with libyaml (about 8x faster) when the text is plain and libyaml is installed.

    libyaml builds the same nodes with the same line and column marks, but words its errors
    differently and is laxer about tabs and control characters; so any text with one of those,
    and any text libyaml cannot compose, goes through the pure-Python loader instead, whose
    messages the author tables are written for. When libyaml fails, its error is returned, so
    the caller can tell where libyaml stopped.
    """
    if _CSafeLoader is None or "\t" in text or _NON_PRINTABLE.search(text):
        return None  # libyaml accepts some tabs that PyYAML rejects: keep safe_load's verdict
    loader = _CSafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        loader.dispose()
        return exc
    except (ValueError, OverflowError, RecursionError):
        loader.dispose()
        return None
    if root is None:
        loader.dispose()
        return None
    return loader, root


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _load_pure(source: Source) -> YNode:
    text = source.text
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # inside the try: the reader rejects control characters
        root = loader.get_single_node()
        if root is None:
            raise DefinitionError.at(Position(source, 1, 1), "the file is empty", code="yaml")
        builder = _Builder(source, loader, root)
        result = builder.sized(root)[0]
    except yaml.YAMLError as exc:
        raise yaml_error(source, exc) from None
    except RecursionError:
        raise DefinitionError.at(Position(source, 1, 1), "the document is nested too deeply") from None
    except DefinitionError:
        raise
    except (ValueError, OverflowError):
        # PyYAML's scanner lets chr() fail on an escape such as "\U00110000" (past U+10FFFF).
        mark = loader.get_mark() if loader is not None else None
        where = Position(source, mark.line + 1, mark.column + 1) if mark else Position(source, 1, 1)
        message, tip = "invalid YAML: an escape is not a valid character", "check the '\\' escapes"
        raise DefinitionError.at(where, message, tip, code="yaml") from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.problems:
        raise DefinitionError(builder.problems)
    return result
