"""The grammar, the syntax tree and the syntax-error sentences."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from dsl import DefinitionError, Diagnostic, Position, Source, parse_expression
from dsl._ast import Binary, Call, Expr, ListLiteral, Literal, Name, Unary
from dsl._env import LONDON
from dsl._parser import MAX_DEPTH, MAX_LENGTH, raw_parse
from dsl._syntax_errors import SYNTAX_ERRORS, SyntaxErrorKind, example_key, match_label
from dsl._types import Kind


def sexpr(node: Expr) -> str:
    """A compact rendering of a tree, to state precedence in tests."""
    if isinstance(node, Literal):
        return repr(node.value)
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, Unary):
        return f"({node.op} {sexpr(node.operand)})"
    if isinstance(node, Binary):
        return f"({node.symbol} {sexpr(node.left)} {sexpr(node.right)})"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(sexpr(a) for a in node.args)})"
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(sexpr(i) for i in node.items) + "]"
    return "<invalid>"


def error_of(source: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        parse_expression(source)
    return info.value


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("a or b and c", "(or a (and b c))"),
        ("not a and b", "(and (not a) b)"),
        ("not a == b", "(not (== a b))"),
        ("a ?? 0 > 3", "(> (?? a 0) 3)"),
        ("a + b * c", "(+ a (* b c))"),
        ("a - b - c", "(- (- a b) c)"),
        ("-a * b", "(* (neg a) b)"),
        ("- -a", "(neg (neg a))"),
        ("a ?? b ?? c", "(?? (?? a b) c)"),
        ("a not in b", "(not in a b)"),
        ("not a in b", "(not (in a b))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("f(a, g(b), [1, 2,])", "f(a, g(b), [1, 2])"),
        ("household.address.postcode", "household.address.postcode"),
        ("a % 2 == 0", "(== (% a 2) 0)"),
        ("f()", "f()"),
        ("[]", "[]"),
        ("a\n  and\n  b", "(and a b)"),
    ],
)
def test_precedence_and_shapes(source: str, tree: str) -> None:
    """Operators bind as documented: or < and < not < comparisons < ?? < + - < * / % < unary -."""
    assert sexpr(parse_expression(source)) == tree


@pytest.mark.parametrize(
    ("source", "value", "kind"),
    [
        ("'it''s'", None, None),
        ("'a\\'b'", "a'b", Kind.TEXT),
        ('"say \\"hi\\""', 'say "hi"', Kind.TEXT),
        ("'tab\\there\\nline\\\\'", "tab\there\nline\\", Kind.TEXT),
        ("12", 12, Kind.NUMBER),
        ("3.5", 3.5, Kind.NUMBER),
        ("true", True, Kind.BOOLEAN),
        ("false", False, Kind.BOOLEAN),
        ("null", None, Kind.NULL),
        ("@2024-01-31", dt.date(2024, 1, 31), Kind.DATE),
        ("@10:30", dt.time(10, 30), Kind.TIME),
        ("@10:30:15", dt.time(10, 30, 15), Kind.TIME),
        ("@2024-01-31T10:30:00Z", dt.datetime(2024, 1, 31, 10, 30, tzinfo=dt.UTC), Kind.DATETIME),
        (
            "@2024-07-01T10:30+01:00",
            dt.datetime(2024, 7, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            Kind.DATETIME,
        ),
    ],
)
def test_literals(source: str, value: object, kind: Kind | None) -> None:
    """Each literal form parses to its Python value and kind ('it''s' is two strings: an error)."""
    if kind is None:
        error_of(source)
        return
    node = parse_expression(source)
    assert isinstance(node, Literal)
    assert node.kind is kind
    assert node.value == value
    assert type(node.value) is type(value)


def test_local_datetime_literal_is_london_time() -> None:
    """A datetime without an offset is Europe/London local time (BST in July)."""
    node = parse_expression("@2024-07-01T10:30")
    assert isinstance(node, Literal)
    assert isinstance(node.value, dt.datetime)
    assert node.value.tzinfo is LONDON
    assert node.value.utcoffset() == dt.timedelta(hours=1)


def test_offsets_cover_each_sub_expression() -> None:
    """Nodes carry start/end offsets of exactly the text they came from."""
    text = "age >= 18 and upper(name) != 'X'"
    node = parse_expression(text)
    assert isinstance(node, Binary)
    assert text[node.left.start : node.left.end] == "age >= 18"
    right = node.right
    assert isinstance(right, Binary)
    assert text[right.left.start : right.left.end] == "upper(name)"
    assert text[right.op_start : right.op_end] == "!="
    assert text[node.op_start : node.op_end] == "and"
    path = parse_expression("  a.bb.c")
    assert isinstance(path, Name)
    assert [(p.name, p.start, p.end) for p in path.parts] == [("a", 2, 3), ("bb", 4, 6), ("c", 7, 8)]


def test_parentheses_widen_the_span() -> None:
    """A parenthesised operand spans its brackets, so a caret underlines what was written."""
    node = parse_expression("(a + b) * 2")
    assert isinstance(node, Binary)
    assert (node.left.start, node.left.end) == (0, 7)


def test_keywords_are_whole_words_only() -> None:
    """'android' and 'order' are names, not 'and' and 'or' followed by letters."""
    assert sexpr(parse_expression("android or order")) == "(or android order)"
    assert sexpr(parse_expression("nullable == inner")) == "(== nullable inner)"


@pytest.mark.parametrize(
    ("source", "message", "hint_part", "column"),
    [
        ("a = 3", "'=' does not compare values", "'=='", 3),
        ("a && b", "'&&' is not an operator", "'and'", 3),
        ("a || b", "'||' is not an operator", "'or'", 3),
        ("!a", "'!' is not an operator", "'not'", 1),
        ("x and !a", "'!' is not an operator", "'not'", 7),
        ("(a + b", "'(' is never closed", "')'", 1),
        ("f(a, [1, 2)", "')' has no matching opening bracket", None, 11),
        ("upper('abc", "this text is never closed", "quote", 7),
        ("a +", "the expression ends too early", None, 3),
        ("a and", "the expression ends too early", None, 3),
        ("a b", "two values with no operator between them", "operator", 3),
        ("f(a) 'x'", "two values with no operator between them", None, 6),
        ("a < b < c", "comparisons cannot be chained", "and", 7),
        ("a AND b", "'AND' is written in lower case", "'and'", 3),
        ("NOT a", "'NOT' is written in lower case", "'not'", 1),
        ("a is null", "'is' is not an operator", "==", 3),
        ("if a then b", "if is a function, not a statement", "if(condition", 1),
        ("a <> b", "'<>' is not an operator", "'!='", 3),
        ("a => b", "'=>' and '=<' are not operators", "'>='", 3),
        ("{{ name }}", "'{{' and '}}' mark expressions", None, 1),
        ("a ? b : c", "'? :' is not an operator", "if(", 3),
        ("\u2018a\u2019", "curly quotes do not start text", "straight", 1),
        ("a.", "a name must follow '.'", None, 2),
        ("f(a,)", "a value is missing here", None, 5),
        ("a not b", "'not' here must be followed by 'in'", None, 7),
        ("* 3", "an operator needs a value on its left", None, 1),
        ("true != not true", "'not' cannot be used here without brackets", "(not b)", 9),
        ("a # b", "unexpected character '#'", None, 3),
        ("@2024-02-30", "@2024-02-30 is not a real date or time", "@2024-01-31", 1),
        ("@2024-1-3", "@2024-1-3 is not a date, time or datetime", None, 1),
        ("99999999999999999", "number 99999999999999999 is too large", None, 1),
        ("", "the expression is empty", None, 1),
        ("   ", "the expression is empty", None, 1),
    ],
)
def test_syntax_errors_are_sentences(source: str, message: str, hint_part: str | None, column: int) -> None:
    """Common mistakes get a sentence and a hint, positioned at the offending characters."""
    error = error_of(source)
    (diag,) = error.diagnostics
    assert diag.message.startswith(message)
    if hint_part is not None:
        assert diag.hint is not None
        assert hint_part in diag.hint
    assert diag.position is not None
    assert diag.position.column == column
    assert diag.code == "syntax"


@pytest.mark.parametrize("kind", SYNTAX_ERRORS, ids=lambda k: k.label)
def test_every_example_in_the_error_table_fails_and_is_explained_by_its_entry(kind: SyntaxErrorKind) -> None:
    """Each example of the table is a real syntax error and maps back to its own label."""
    for example in kind.examples:
        assert example_key(example) is not None, f"{example!r} does not fail with an unexpected token"
        with pytest.raises(UnexpectedInput) as info:
            raw_parse(example)
        label = match_label(info.value)
        assert label == kind.label, f"{example!r} is explained as {label}"
        # and the public parser never lets the Lark error out
        with pytest.raises(DefinitionError):
            parse_expression(example)


def test_multiple_bad_literals_are_all_reported() -> None:
    """Two invalid literals in one expression give two diagnostics, not one."""
    error = error_of("@2024-13-01 == @2024-02-30")
    assert [d.position.column for d in error.diagnostics if d.position] == [1, 16]


def test_too_long_and_too_deep_are_refused_clearly() -> None:
    """Limits on length and nesting give a clear message instead of a crash."""
    long_error = error_of("a + " * (MAX_LENGTH // 4) + "a")
    assert "too long" in long_error.diagnostics[0].message
    deep = "f(" * (MAX_DEPTH + 5) + "a" + ")" * (MAX_DEPTH + 5)
    assert "nested too deeply" in error_of(deep).diagnostics[0].message
    # Brackets alone add no depth to the tree, so they cost nothing to check.
    parens = "(" * 3000 + "a" + ")" * 3000
    assert isinstance(parse_expression(parens), Name)
    chain = " + ".join(["a"] * (MAX_DEPTH + 5))
    assert "nested too deeply" in error_of(chain).diagnostics[0].message
    assert "nested too deeply" in error_of("not " * 2000 + "a").diagnostics[0].message
    fine = " + ".join(["a"] * (MAX_DEPTH - 1))
    assert isinstance(parse_expression(fine), Binary)


def test_positions_follow_the_base_position() -> None:
    """With a base position, columns are shifted by the expression's offset."""
    source = Source("form.yaml", "    relevant: age >= x +\n")
    with pytest.raises(DefinitionError) as info:
        parse_expression("age >= x +", position=Position(source, 1, 15))
    pos = info.value.diagnostics[0].position
    assert pos is not None
    assert (pos.path, pos.line, pos.column) == ("form.yaml", 1, 24)


def test_positions_follow_the_yaml_node() -> None:
    """With a YAML scalar, the caret lands on the offending characters in the file."""
    from dsl import YMap, YScalar, load_yaml

    text = "relevant: 'age >= 18 && ok'\n"
    root = load_yaml(text, "form.yaml")
    assert isinstance(root, YMap)
    node = root.get("relevant")
    assert isinstance(node, YScalar)
    with pytest.raises(DefinitionError) as info:
        parse_expression(node.value, node=node)
    diag = info.value.diagnostics[0]
    assert diag.position is not None
    assert (diag.position.line, diag.position.column) == (1, 22)
    assert "^^" in diag.format()


_ALPHABET = st.sampled_from(
    [*"ab_1.()[],'\"\\ +-*/%<>=!?&|@:{}#\n", "and ", "or ", "not ", "in ", "null", "@2024-01-01"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_any_text_parses_or_raises_definition_error(text: str) -> None:
    """Whatever the input, the parser returns a tree or raises DefinitionError, nothing else."""
    problems: tuple[Diagnostic, ...] = ()
    try:
        parse_expression(text)
    except DefinitionError as error:
        problems = error.diagnostics
        assert problems
    assert all(d.position is not None for d in problems)
