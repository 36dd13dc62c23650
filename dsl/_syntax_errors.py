"""Human sentences for syntax errors, found by matching a table of example mistakes.

This follows Lark's own ``GRAMMAR_ERRORS``/``match_examples``: each entry of :data:`SYNTAX_ERRORS`
lists malformed expressions that show one mistake. The first time an error needs explaining, every
example is parsed once and the parser state and unexpected token it fails at are recorded. An
author's error is then matched by (state, token text), then by (state, token type); the state alone
is too coarse for this small grammar (many mistakes fail right after a name), so it is not used.
Anything unmatched falls back to a sentence built from the token kind. tests/dsl/test_parser.py
checks that every example fails and is explained by its own entry.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl._parser import raw_parse

# Shapes that end a value, and prefixes after which a value must start: combined with a mistake
# they reach every parser state in which that mistake can occur.
VALUE_ENDS = ("a", "a.b", "f(a)", "f()", "(a)", "1", "2.5", "'t'", "@2024-01-31", "true", "false", "null")
VALUE_ENDS_ALL = (*VALUE_ENDS, "[1]", "[]")
OPERAND_STARTS = (
    "",
    "a and ",
    "a or ",
    "not ",
    "(",
    "f(",
    "f(a, ",
    "[",
    "[a, ",
    "a == ",
    "a in ",
    "a not in ",
    "a ?? ",
    "a + ",
    "a - ",
    "a * ",
    "-",
)
_KEYWORDS = ("and", "or", "not", "in", "true", "false", "null")
_OPENERS = {"(": ")", "[": "]"}


@dataclass(frozen=True, slots=True)
class SyntaxErrorKind:
    """One entry of the table: a label, the sentence and hint shown, and example mistakes."""

    label: str
    message: str
    hint: str | None
    examples: tuple[str, ...]


def _each(prefixes: tuple[str, ...], *mistakes: str) -> tuple[str, ...]:
    return tuple(p + m for p in prefixes for m in mistakes)


def _after(values: tuple[str, ...], *mistakes: str) -> tuple[str, ...]:
    return tuple(v + m for v in values for m in mistakes)


SYNTAX_ERRORS: tuple[SyntaxErrorKind, ...] = (
    SyntaxErrorKind(
        "assign",
        "'=' does not compare values",
        "use '==' to compare: age == 18",
        _after(VALUE_ENDS_ALL, " = 1"),
    ),
    SyntaxErrorKind(
        "arrow",
        "'=>' and '=<' are not operators",
        "write '>=' or '<='",
        _after(VALUE_ENDS_ALL, " => 1", " =< 1"),
    ),
    SyntaxErrorKind(
        "and", "'&&' is not an operator", "use 'and': a and b", _after(VALUE_ENDS_ALL, " && b", " & b")
    ),
    SyntaxErrorKind(
        "or", "'||' is not an operator", "use 'or': a or b", _after(VALUE_ENDS_ALL, " || b", " | b")
    ),
    SyntaxErrorKind("ne", "'<>' is not an operator", "use '!=': a != b", _after(VALUE_ENDS_ALL, " <> b")),
    SyntaxErrorKind(
        "not",
        "'!' is not an operator",
        "use 'not': not a (and '!=' to compare)",
        (*_each(OPERAND_STARTS, "!b"), *_after(VALUE_ENDS_ALL, " ! b")),
    ),
    SyntaxErrorKind(
        "string",
        "this text is never closed",
        "end the text with the quote it starts with, on the same line",
        _each(OPERAND_STARTS, "'abc", '"abc'),
    ),
    SyntaxErrorKind(
        "brace",
        "'{{' and '}}' mark expressions inside a text template, not inside an expression",
        "write the expression on its own, e.g. child_name instead of {{ child_name }}",
        (*_each(OPERAND_STARTS, "{{ a }}"), *_after(VALUE_ENDS_ALL, " }}")),
    ),
    SyntaxErrorKind(
        "quote",
        "curly quotes do not start text",
        "use straight quotes ' or \" (word processors replace them with curly ones)",
        _each(OPERAND_STARTS, "\u2018a\u2019", "\u201ca\u201d"),
    ),
    SyntaxErrorKind(
        "question",
        "'? :' is not an operator",
        "use if(condition, value if true, value if false)",
        _after(VALUE_ENDS_ALL, " ? b : c"),
    ),
    SyntaxErrorKind(
        "chain",
        "comparisons cannot be chained",
        "combine two comparisons with 'and': a < b and b < c",
        tuple(f"a {x} b {y} c" for x in ("<", "==", "in", "not in") for y in ("<", "!=", "in", "not in")),
    ),
    SyntaxErrorKind(
        "two_values",
        "two values with no operator between them",
        "add an operator such as 'and', '+' or '==', or a comma between function arguments",
        tuple(
            example
            for example in _after(
                VALUE_ENDS_ALL, " b", " 1", " 'x'", " (b)", " [b]", " @2024-01-01", " true", " false", " null"
            )
            if example != "a (b)"  # a call: a space before the bracket is allowed
        ),
    ),
    SyntaxErrorKind(
        "is", "'is' is not an operator", "use '==' or '!=': a == null", _after(VALUE_ENDS_ALL, " is null")
    ),
    SyntaxErrorKind(
        "then",
        "'then' and 'else' are not part of the language",
        "if is a function: if(condition, value if true, value if false)",
        _after(VALUE_ENDS_ALL, " then b", " else b"),
    ),
    SyntaxErrorKind(
        "dot",
        "a name must follow '.'",
        "write a dotted name such as household.postcode",
        ("a.", "a.1", "a.(b)", "a..b", "a.'x'", "f(a.)", "a.b.", "a.[b]"),
    ),
    SyntaxErrorKind(
        "not_in",
        "'not' here must be followed by 'in'",
        "write 'a not in list', or put 'not' first: not (a == b)",
        ("a not b", "a not == b", "a not", "a not 1", "a not (b)", "a not not b"),
    ),
    SyntaxErrorKind(
        "operator_start",
        "an operator needs a value on its left",
        "write the value first: a + 1, a == b, a and b",
        _each(OPERAND_STARTS, "+a", "*a", "/a", "%a", "== a", "< a", "and a", "or a", "?? a", "in a"),
    ),
    SyntaxErrorKind(
        "not_operand",
        "'not' cannot be used here without brackets",
        "'not' binds more loosely than comparisons and arithmetic: write a != (not b), or not (a == b)",
        (*tuple(f"a {op} not b" for op in ("==", "<", "in", "not in", "??", "+", "-", "*")), "-not a"),
    ),
    SyntaxErrorKind(
        "missing_value",
        "a value is missing here",
        "write a value between the commas and brackets, or remove the extra comma",
        ("()", "f(a,)", "f(,a)", "f(a,,b)", "[,]", "[a,,b]", "f(,)", "[,a]"),
    ),
    SyntaxErrorKind(
        "unclosed",
        "a bracket is never closed",
        "add the closing bracket",
        ("(a", "(", "f(a", "f(", "f(a,", "[a", "[", "[a,", "f(a, b", "[a, b", "((a)", "f(g(a)"),
    ),
    SyntaxErrorKind(
        "eof",
        "the expression ends too early",
        "a value is missing at the end",
        (
            "a and",
            "a or",
            "not",
            "a ==",
            "a <",
            "a in",
            "a not in",
            "a ??",
            "a +",
            "a -",
            "a *",
            "a /",
            "a %",
            "-",
        ),
    ),
    SyntaxErrorKind(
        "unmatched",
        "a closing bracket has no opening bracket",
        "remove it, or add the opening bracket",
        (*_after(VALUE_ENDS, ")", "]"), "(a]", "[a)", "f(a]", "[a, b)"),
    ),
)

_BY_LABEL = {kind.label: kind for kind in SYNTAX_ERRORS}


def _state_of(error: UnexpectedInput) -> Any:
    state = error.state
    return getattr(state, "position", state)


@functools.cache
def _example_index() -> tuple[dict[tuple[Any, str, str], str], dict[tuple[Any, str], str]]:
    exact: dict[tuple[Any, str, str], str] = {}
    by_type: dict[tuple[Any, str], str] = {}
    for kind in SYNTAX_ERRORS:
        for example in kind.examples:
            key = example_key(example)
            if key is None:
                continue
            exact.setdefault(key, kind.label)
            by_type.setdefault(key[:2], kind.label)
    return exact, by_type


def example_key(example: str) -> tuple[Any, str, str] | None:
    """The (parser state, token type, token text) an example fails at; None if it does not."""
    try:
        raw_parse(example)
    except UnexpectedToken as error:
        return (_state_of(error), error.token.type, str(error.token))
    except UnexpectedInput:
        return None
    return None


def match_label(error: UnexpectedInput) -> str | None:
    """The label of the table entry whose examples fail like ``error``, or None."""
    if not isinstance(error, UnexpectedToken):
        return None
    exact, by_type = _example_index()
    state = _state_of(error)
    token = error.token
    return exact.get((state, token.type, str(token))) or by_type.get((state, token.type))


def _token_span(source: str, error: UnexpectedInput) -> tuple[int, int]:
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == _END:
            # Lark's end token borrows the position of the last real token: underline that.
            if token.start_pos is not None and token.end_pos is not None:
                return token.start_pos, max(token.end_pos, token.start_pos + 1)
            end = len(source.rstrip())
            return max(end - 1, 0), end
        start = token.start_pos if token.start_pos is not None else 0
        return start, start + max(len(str(token)), 1)
    pos = getattr(error, "pos_in_stream", 0) or 0
    return pos, pos + 1


def _scan_brackets(source: str) -> tuple[int | None, int | None]:
    """Offsets of the first unclosed opening bracket and the first unmatched closing one."""
    stack: list[tuple[str, int]] = []
    quote: str | None = None
    i = 0
    while i < len(source):
        ch = source[i]
        if quote is not None:
            if ch == "\\":
                i += 1
            elif ch == quote or ch == "\n":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in _OPENERS:
            stack.append((ch, i))
        elif ch in ")]":
            if not stack or _OPENERS[stack[-1][0]] != ch:
                return (stack[-1][1] if stack else None), i
            stack.pop()
        i += 1
    return (stack[0][1] if stack else None), None


_PREVIOUS_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")


def describe_syntax_error(source: str, error: UnexpectedInput) -> tuple[int, int, str, str | None]:
    """(start, end, message, hint) for a parse failure of ``source``."""
    start, end = _token_span(source, error)
    if isinstance(error, UnexpectedCharacters):
        char = source[start : start + 1]
        return (
            start,
            end,
            f"unexpected character {char!r}",
            ("names use letters, digits and '_'; text goes in quotes: 'like this'"),
        )
    if not isinstance(error, UnexpectedToken):
        return start, end, "the expression cannot be read", None
    token = error.token
    text = str(token)
    if token.type == "NAME" and text.lower() in _KEYWORDS:
        return start, end, f"'{text}' is written in lower case", f"write '{text.lower()}'"
    previous = _PREVIOUS_WORD.search(source[:start])
    if previous is not None and token.type != "$END":
        word = previous.group(1)
        if word.lower() in _KEYWORDS and word != word.lower():
            return (
                previous.start(1),
                previous.end(1),
                f"'{word}' is written in lower case",
                (f"write '{word.lower()}'"),
            )
        if word == "if" and token.type != "LPAR":
            return (
                previous.start(1),
                end,
                "if is a function, not a statement",
                ("write if(condition, value if true, value if false)"),
            )
    label = match_label(error)
    opened, unmatched = _scan_brackets(source)
    if label is None:
        label = _fallback_label(token.type, opened, unmatched)
    if label == "unclosed" and opened is not None:
        bracket = source[opened]
        return opened, opened + 1, f"'{bracket}' is never closed", f"add '{_OPENERS[bracket]}' to close it"
    if label == "unmatched" and unmatched is not None:
        return (
            unmatched,
            unmatched + 1,
            f"'{source[unmatched]}' has no matching opening bracket",
            ("remove it, or add the opening bracket"),
        )
    if label is not None:
        kind = _BY_LABEL[label]
        return start, end, kind.message, kind.hint
    expected = sorted(error.expected)
    return start, end, f"unexpected '{text}'", _expected_hint(expected)


_END = "$END"  # Lark's end-of-input token type
_VALUE_TOKENS = frozenset({"NAME", "NUMBER", "STRING", "TEMPORAL", "TRUE", "FALSE", "NULL", "LPAR", "LSQB"})


def _fallback_label(token_type: str, opened: int | None, unmatched: int | None) -> str | None:
    if token_type == _END:
        return "unclosed" if opened is not None else "eof"
    if token_type in ("RPAR", "RSQB"):
        return "unmatched" if unmatched is not None else "missing_value"
    if token_type in _VALUE_TOKENS:
        return "two_values"
    return None


def _expected_hint(expected: list[str]) -> str:
    if any(t in _VALUE_TOKENS for t in expected):
        return "a value, a name or '(' was expected here"
    return "an operator, ',' or a closing bracket was expected here"


__all__ = [
    "OPERAND_STARTS",
    "SYNTAX_ERRORS",
    "VALUE_ENDS",
    "SyntaxErrorKind",
    "describe_syntax_error",
    "match_label",
]
