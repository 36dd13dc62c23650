"""dsl.load_yaml: positioned nodes, safe_load semantics, and author-friendly YAML errors."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import yaml

from dsl import DefinitionError, Position, Source, YMap, YNode, YScalar, YSeq, load_yaml, node_at
from dsl._yaml import MAX_VALUES


def load_map(text: str) -> YMap:
    """Load a document that must be a mapping."""
    root = load_yaml(text, "f.yaml")
    assert isinstance(root, YMap)
    return root


def scalar(node: YNode | None) -> YScalar:
    """Narrow a node to a scalar."""
    assert isinstance(node, YScalar)
    return node


def error_of(text: str) -> DefinitionError:
    """The DefinitionError load_yaml raises for ``text``."""
    with pytest.raises(DefinitionError) as info:
        load_yaml(text, "f.yaml")
    return info.value


def at(pos: Position) -> tuple[int, int]:
    """(line, column) of a position."""
    return pos.line, pos.column


def char_at(pos: Position) -> str:
    """The source character a position points at."""
    assert pos.source is not None
    return pos.source.line(pos.line)[pos.column - 1 : pos.column]


# --- positions -----------------------------------------------------------------------------------

FORM = """\
form: child_concern
title: "Child concern"
pages:
  - id: child
    fields:
      - {id: child_name, type: text}
      - id: dob
        type: date
"""


def test_key_and_value_positions() -> None:
    """Every key and value remembers its 1-based line and column, and the source name."""
    root = load_map(FORM)
    assert at(root.key_pos("form")) == (1, 1)
    assert at(root.value_pos("form")) == (1, 7)
    assert at(root.value_pos("title")) == (2, 8)
    assert root.value_pos("title").path == "f.yaml"
    assert str(root.key_pos("pages")) == "f.yaml:3:1"


def test_nested_item_positions() -> None:
    """Items of block and flow collections, at any depth, have their own positions."""
    root = load_map(FORM)
    pages = root.get("pages")
    assert isinstance(pages, YSeq)
    page = pages.items[0]
    assert isinstance(page, YMap)
    assert at(page.pos) == (4, 5)
    assert at(page.value_pos("id")) == (4, 9)
    fields = page.get("fields")
    assert isinstance(fields, YSeq)
    flow, block = fields.items
    assert isinstance(flow, YMap)
    assert isinstance(block, YMap)
    assert at(flow.pos) == (6, 9)
    assert at(flow.value_pos("type")) == (6, 32)
    assert at(block.key_pos("type")) == (8, 9)
    assert at(block.value_pos("type")) == (8, 15)


def test_scalar_span_ends_after_the_value() -> None:
    """A scalar's position spans its text: end_column is exclusive, quotes included."""
    title = load_map(FORM).value_pos("title")
    assert (title.end_line, title.end_column) == (2, 23)


def test_absent_key_positions_fall_back_to_the_mapping() -> None:
    """key_pos/value_pos of a missing key give the mapping's own position."""
    root = load_map(FORM)
    assert root.key_pos("nope") == root.pos
    assert root.value_pos("nope") == root.pos
    assert root.get("nope") is None


def test_mapping_protocol_and_to_python() -> None:
    """YMap and YSeq behave like read-only containers and convert back to plain Python."""
    root = load_map(FORM)
    assert "form" in root
    assert "nope" not in root
    assert list(root) == ["form", "title", "pages"]
    assert len(root) == 3
    assert [k.value for k, _ in root.items()] == ["form", "title", "pages"]
    assert root.to_python() == yaml.safe_load(FORM)


# --- node_at ---------------------------------------------------------------------------------------


def test_node_at_follows_keys_and_indexes() -> None:
    """node_at walks a JSON-style path and reports that the whole path was found."""
    root = load_map(FORM)
    node, found = node_at(root, ["pages", 0, "fields", 1, "type"])
    assert found
    assert scalar(node).value == "date"
    assert at(node.pos) == (8, 15)


def test_node_at_stops_at_the_closest_existing_node() -> None:
    """A path that runs past the document gives the deepest node reached and found=False."""
    root = load_map(FORM)
    pages = root.get("pages")
    assert isinstance(pages, YSeq)
    node, found = node_at(root, ["pages", 0, "missing", "deeper"])
    assert not found
    assert node is pages.items[0]
    node, found = node_at(root, ["pages", 5])
    assert (node, found) == (pages, False)
    node, found = node_at(root, ["pages", "x"])
    assert (node, found) == (pages, False)
    node, found = node_at(root, ["form", "x"])
    assert not found
    assert scalar(node).value == "child_concern"
    assert node_at(root, []) == (root, True)


# --- position_at -----------------------------------------------------------------------------------


def expr_node(text: str) -> YScalar:
    """The scalar under key ``e`` of a one-key document."""
    return scalar(load_map(text).get("e"))


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("e: a + bad\n", "bad"),
        ("e: 'it''s'' + bad'\n", "bad"),
        ('e: "x == \\"q\\" and bad"\n', "bad"),
        ('e: "\\t\\u00e9\\x41 bad"\n', "bad"),
        ("x: [skip]\ne: |\n  first\n    more bad\n", "bad"),
        ("e: |-\n    one\n    two bad\n", "bad"),
        ("items: [x]\ne:   spaced bad\n", "bad"),
    ],
)
def test_position_at_points_at_the_character(text: str, target: str) -> None:
    """position_at(offset) gives the source position of the offset-th character of the value,
    counting quote doubling, backslash escapes and block indentation as written."""
    node = expr_node(text)
    offset = node.value.index(target)
    pos = node.position_at(offset)
    assert pos.source is not None
    line = pos.source.line(pos.line)
    assert line[pos.column - 1 : pos.column - 1 + len(target)] == target, (line, pos)


def test_position_at_start_of_quoted_value_skips_the_quote() -> None:
    """Offset 0 of a quoted scalar is the character after the opening quote."""
    node = expr_node("e: 'abc'\n")
    assert at(node.position_at(0)) == (1, 5)
    assert at(expr_node("e: abc\n").position_at(0)) == (1, 4)


@pytest.mark.parametrize(
    "text",
    ["e: first line\n  second bad\n", "e: >\n  folded\n  bad\n", "e: 'one\n  two bad'\n"],
)
def test_position_at_falls_back_to_the_scalar_start(text: str) -> None:
    """Folded and multi-line flow scalars give the scalar's own position (still the right line)."""
    node = expr_node(text)
    assert node.position_at(node.value.index("bad")) == node.pos


def test_position_at_without_source_shifts_the_column() -> None:
    """A hand-built scalar with no source still shifts the column by the offset."""
    node = YScalar("a + b", Position(None, 3, 5), None, "a + b")
    assert at(node.position_at(4)) == (3, 9)
    quoted = YScalar("a + b", Position(None, 3, 5), "'", "a + b")
    assert at(quoted.position_at(4)) == (3, 10)


# --- values: safe_load semantics ---------------------------------------------------------------------

SAME_AS_SAFE_LOAD = [
    "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 2024-01-31\ng: '2024-01-31'\nh: yes\n",
    "a: [1, [2, {b: c}]]\n",
    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
    "a: &a {x: 1}\nb: &b {x: 2, z: 3}\nc:\n  <<: [*a, *b]\n",
    "a: {b: 1, <<: {b: 2, c: 3}}\n",
    "a: &x [1, 2]\nb: *x\n",
    "---\na: 1\n...\n",
    "- 1\n- two\n- 3.0\n",
    "just text\n",
    "'1': a\n1: b\n",
    "a: !!str 12\nb: !!float 1\nc: !!binary aGk=\n",
]


@pytest.mark.parametrize("text", SAME_AS_SAFE_LOAD)
def test_values_are_those_of_safe_load(text: str) -> None:
    """to_python() equals yaml.safe_load for documents without duplicate keys (merge keys,
    anchors and aliases included; keys written in a mapping override merged ones)."""
    assert load_yaml(text).to_python() == yaml.safe_load(text)


def test_dates_and_sexagesimal_numbers_follow_yaml_1_1() -> None:
    """Like safe_load, an unquoted date is a date and an unquoted 10:30 is the number 630."""
    root = load_map("d: 2024-01-31\nt: 10:30\nq: '10:30'\n").to_python()
    assert root == {"d": dt.date(2024, 1, 31), "t": 630, "q": "10:30"}


def test_an_alias_shares_its_anchor_position() -> None:
    """An alias builds the same node as its anchor, so its position is where the anchor was written
    (the anchor's '&' included)."""
    root = load_map("a: &x {p: 1}\nb: *x\n")
    assert root.get("a") is root.get("b")
    assert at(root.value_pos("b")) == (1, 4)


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system [echo hi]\n",
        "a: !!python/object/new:builtins.dict {}\n",
        "a: !!python/name:os.system\n",
        "a: !!python/tuple [1, 2]\n",
        "a: !!python/module:os\n",
        "a: !custom 3\n",
        "a: !!set {x, y}\n",
        "a: !!omap [{a: 1}]\n",
        "a: !!map [1]\n",
        "a: !!str [1]\n",
    ],
)
def test_python_and_unknown_tags_are_definition_errors(text: str) -> None:
    """Tags that safe_load refuses (python/...), custom tags and collection tags raise a positioned
    DefinitionError instead of being constructed or silently ignored."""
    err = error_of(text)
    assert err.diagnostics[0].position is not None
    assert "tag" in err.diagnostics[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 2024-02-30\n", "'2024-02-30' is not a valid date"),
        ("a: 2023-13-01\n", "'2023-13-01' is not a valid date"),
        ("a: !!int x\n", "'x' is not a valid int"),
        ("a: !!float x\n", "'x' is not a valid float"),
        ("a: !!bool maybe\n", "'maybe' is not a valid bool"),
        ("a: !!timestamp soon\n", "'soon' is not a valid date"),
    ],
)
def test_unbuildable_scalars_are_definition_errors(text: str, message: str) -> None:
    """A value the resolver matched but cannot build (an impossible date) is a DefinitionError at the
    value with a hint, never a raw ValueError."""
    err = error_of(text)
    (diag,) = err.diagnostics
    assert message in diag.message
    assert diag.position is not None
    assert at(diag.position) == (1, 4)
    assert diag.hint == "put the value in quotes to keep it as text"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a: "\\U00110000"\n', "an escape is not a valid character"),
        ('a: [x, "\\UFFFFFFFF"]\n', "an escape is not a valid character"),
        ('a: "\\uD800"\n', "half of a surrogate pair"),
        ('"\\udc00": 1\n', "half of a surrogate pair"),
    ],
)
def test_escapes_that_are_not_characters(text: str, message: str) -> None:
    """A double-quoted escape past U+10FFFF, or half a surrogate pair (text no page or database
    can store), is a positioned DefinitionError, not a raw ValueError later."""
    (diag,) = error_of(text).diagnostics
    assert message in diag.message
    assert diag.position is not None
    assert diag.position.line == 1


def test_escaped_characters_outside_the_basic_plane_load() -> None:
    """Valid escapes, including those beyond the BMP, load to their characters."""
    assert load_yaml('a: "\\U0001F600 \\u00e9"\n').to_python() == {"a": "\U0001f600 \u00e9"}


def test_every_unbuildable_value_is_reported() -> None:
    """Bad values and duplicate keys are collected, not just the first."""
    err = error_of("a: 2024-02-30\nb: 2024-02-31\nb: 1\n")
    assert [at(d.position) for d in err.diagnostics if d.position] == [(1, 4), (2, 4), (3, 1)]


# --- duplicate keys --------------------------------------------------------------------------------


def test_duplicate_key_message_and_position() -> None:
    """A repeated key is an error at the second key, underlining it, naming the first line."""
    err = error_of("id: a\ntitle: x\nid: b\n")
    (diag,) = err.diagnostics
    assert diag.message == "duplicate key 'id' (first written at line 1)"
    assert diag.code == "duplicate-key"
    assert diag.position is not None
    assert (diag.position.line, diag.position.column, diag.position.end_column) == (3, 1, 3)
    assert diag.hint == "YAML keeps only the last value of a repeated key; remove or rename one"


def test_duplicate_keys_in_nested_and_flow_mappings_are_all_reported() -> None:
    """Duplicates are found at any depth, in flow mappings too, and every one is reported."""
    err = error_of("a: {b: 1, b: 2}\nc:\n  - {x: 1, x: 2}\n  - d: 1\n    d: 2\n")
    lines = [(d.position.line, d.position.column) for d in err.diagnostics if d.position]
    assert lines == [(1, 11), (3, 12), (5, 5)]


def test_duplicate_written_keys_are_errors_even_with_a_merge() -> None:
    """A merge key allows overriding merged keys, not repeating a written one."""
    err = error_of("b: &b {x: 1}\nd:\n  <<: *b\n  y: 1\n  y: 2\n")
    assert "duplicate key 'y' (first written at line 4)" in str(err)


def test_equal_values_of_different_spelling_are_duplicates() -> None:
    """Keys are compared by value, as safe_load does: 'true' and 'yes' are the same key."""
    err = error_of("true: 1\nyes: 2\n")
    assert "duplicate key" in err.diagnostics[0].message


# --- invalid YAML ----------------------------------------------------------------------------------

BAD_YAML = [
    ("a:\n\tb: 1\n", "a tab character is used for indentation", (2, 1)),
    ("a: b: c\n", "a ':' appears where YAML did not expect a new key", (1, 5)),
    ("a: 1\nb\nc: 2\n", "a key is missing its ':'", (3, 1)),
    ("a:\n  b: 1\n c: 2\n", "the indentation does not line up with the mapping", (3, 2)),
    ("a:\n  - 1\n  b: 2\n", "this line is not indented like the lines it belongs with", (3, 3)),
    ("a: *nope\n", "an alias ('*name') refers to an anchor that is not defined", (1, 4)),
    ("a: [1, 2\n", "the file ends inside a quoted value or a bracket", (1, 4)),
    ("a: {b: 1\n", "the file ends inside a quoted value or a bracket", (1, 4)),
    ("a: 'x\n", "the file ends inside a quoted value or a bracket", (1, 4)),
    ("a: 1\n---\nb: 2\n", "the file holds more than one YAML document", (2, 1)),
    ("a: 1\n...\n---\nb: 2\n", "the file holds more than one YAML document", (3, 1)),
    ('a: "\\d+"\n', "a backslash escape in a double-quoted value is not valid YAML", (1, 6)),
    ("a: \x00\n", "the non-printable character #x0000 is not allowed", (1, 4)),
    ("a: 1\nb: x\x07\n", "the non-printable character #x0007 is not allowed", (2, 5)),
    ("a: [1, 2]]\n", "invalid YAML", (1, 10)),
    ("? [1, 2]\n: x\n", "a mapping key must be a plain value", (1, 3)),
    ("<<: 1\n", "for merging", (1, 5)),
]


@pytest.mark.parametrize(("text", "message", "where"), BAD_YAML)
def test_bad_yaml_is_a_positioned_definition_error(text: str, message: str, where: tuple[int, int]) -> None:
    """Each kind of YAML mistake gives a DefinitionError (never a PyYAML exception) with a sentence an
    author understands, at the place to fix; mistakes with a known cause carry a hint."""
    err = error_of(text)
    diag = err.diagnostics[0]
    assert message in diag.message
    assert diag.position is not None
    assert at(diag.position) == where
    assert diag.position.path == "f.yaml"


@pytest.mark.parametrize("needle", [row[1] for row in BAD_YAML[:12]])
def test_friendly_messages_have_hints(needle: str) -> None:
    """Every rewritten message of the hint table comes with a hint (the table is reachable)."""
    text = next(row[0] for row in BAD_YAML if row[1] == needle)
    assert error_of(text).diagnostics[0].hint


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    """An empty document is an error at 1:1, not a None value."""
    (diag,) = error_of(text).diagnostics
    assert diag.message == "the file is empty"
    assert diag.position is not None
    assert at(diag.position) == (1, 1)


def test_explicit_null_document_is_not_empty() -> None:
    """A document holding null (written, or a bare '---') is loaded; the caller decides whether
    null is acceptable."""
    assert scalar(load_yaml("null\n")).value is None
    assert scalar(load_yaml("---\n")).value is None


def test_deep_nesting_is_a_definition_error() -> None:
    """Nesting deep enough to exhaust the recursion limit is reported, not a RecursionError."""
    err = error_of("[" * 5000 + "]" * 5000)
    assert "nested too deeply" in str(err)


def test_recursive_alias_is_a_definition_error() -> None:
    """An anchor whose value contains its own alias is an error at the anchored value."""
    err = error_of("a: &a [1, *a]\n")
    (diag,) = err.diagnostics
    assert "contains it" in diag.message
    assert diag.position is not None
    assert at(diag.position) == (1, 4)


def test_alias_expansion_is_bounded() -> None:
    """A "billion laughs" document is refused quickly instead of expanding exponentially."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    started = time.monotonic()
    err = error_of("\n".join(lines) + "\n")
    assert time.monotonic() - started < 5
    assert f"more than {MAX_VALUES:,} values" in str(err)


def test_moderate_alias_reuse_is_fine() -> None:
    """Aliases used a few times load normally and expand like safe_load."""
    text = "a: &a {x: 1}\nb: [*a, *a, *a]\n"
    assert load_yaml(text).to_python() == yaml.safe_load(text)


def test_report_includes_source_line_and_caret() -> None:
    """str(error) is the compiler-style report: location, message, source line, caret, hint."""
    err = error_of("a: 1\nb:\n\tc: 2\n")
    assert str(err) == (
        "f.yaml:3:1: error: invalid YAML: a tab character is used for indentation\n"
        "     c: 2\n"
        "    ^\n"
        "  hint: YAML indentation must use spaces, not tabs"
    )


def test_source_is_shared_by_all_positions() -> None:
    """Every position of one load points at the same Source, which holds the text."""
    root = load_map(FORM)
    source: Source | None = root.pos.source
    assert source is not None
    assert source.text == FORM
    assert root.value_pos("pages").source is source


def test_non_mapping_roots() -> None:
    """Lists and scalars are valid roots."""
    seq = load_yaml("- a\n- b\n")
    assert isinstance(seq, YSeq)
    assert len(seq) == 2
    assert [scalar(n).value for n in seq] == ["a", "b"]
    value: Any = scalar(load_yaml("42\n")).value
    assert value == 42


def test_the_real_mistake_is_reported_where_the_two_parsers_differ() -> None:
    """libyaml reads `{label: Worth it?, x: 1}`; PyYAML's pure parser stops at the '?'. A real
    mistake further down must be reported where it is, not at the '?' line."""
    text = "a: {label: Worth it?, x: 1}\nb: 1\nc:\n  - x\n   y: 2\n"
    with pytest.raises(DefinitionError) as caught:
        load_yaml(text, "f.yaml")
    first = caught.value.diagnostics[0]
    assert first.position is not None
    assert first.position.line == 5
    # Without a later mistake the file loads, as it does for libyaml.
    assert load_yaml("a: {label: Worth it?, x: 1}\n", "f.yaml").to_python() == {
        "a": {"label": "Worth it?", "x": 1}
    }
