"""PyYAML's problems in words an author can act on (STYLE.md #2: a table of example mistakes)."""

from __future__ import annotations

import yaml

from dsl._errors import DefinitionError, Diagnostic
from dsl._source import Position, Source

__all__ = ["yaml_error"]


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
        # PyYAML's wording (not libyaml's "did not find expected key"); matched with the context.
        "while parsing a block mapping: expected <block end>, but found '<block",
        "the indentation does not line up with the mapping it belongs to",
        "keys of one mapping must start in the same column",
    ),
    (
        "while parsing a block collection: expected <block end>",
        "this line is not indented like the lines it belongs with",
        "the keys of one mapping, and the '- ' items of one list, must each start in the same column",
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
        "but got '<stream end>'",
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


def yaml_error(source: Source, exc: yaml.YAMLError) -> DefinitionError:
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised before scanning, for a non-printable character; it has an offset, not a mark.
        before = source.text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        message = f"invalid YAML: the non-printable character #x{exc.character:04x} is not allowed"
        tip = "remove it; YAML files hold printable text only"
        return DefinitionError.at(Position(source, line, column), message, tip, code="yaml")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "stream end" in problem or "end of stream" in problem:
        # Point at the quote or bracket left open, not at the end of the file.
        mark = getattr(exc, "context_mark", None) or mark
    pos = Position(source, mark.line + 1, mark.column + 1) if mark is not None else Position(source, 1, 1)
    message, hint = f"invalid YAML: {problem}", None
    for needle, nicer, tip in _YAML_HINTS:
        if needle in f"{getattr(exc, 'context', None)}: {problem}":
            message, hint = f"invalid YAML: {nicer}", tip
            break
    return DefinitionError([Diagnostic(message, pos, hint, code="yaml")])
