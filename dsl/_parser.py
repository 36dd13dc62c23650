"""Parsing expression text into the syntax tree of :mod:`dsl._ast`.

The grammar is ``expressions.lark`` (package data), parsed by Lark's LALR parser with a
transformer applied during the parse, so building the tree needs no recursion. Lark's errors
never reach an author: each is turned into a sentence by :mod:`dsl._syntax_errors`, and every
failure is a positioned :class:`DefinitionError`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any, cast
from zoneinfo import ZoneInfo

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex

from dsl._ast import (
    BINARY_OPS,
    Binary,
    Call,
    Expr,
    Invalid,
    ListLiteral,
    Literal,
    Name,
    NamePart,
    Unary,
    children,
)
from dsl._errors import DefinitionError, Diagnostic
from dsl._locate import Locator
from dsl._source import Position
from dsl._types import Kind
from dsl._yaml import YScalar

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""

MAX_DEPTH = 100
"""Deepest nesting of operators, calls and brackets accepted."""

MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer a browser's number holds exactly

LONDON = ZoneInfo("Europe/London")

BAD_TERMINALS = (
    "BAD_STRING",
    "BAD_AND",
    "BAD_OR",
    "BAD_NE",
    "BAD_ARROW",
    "BAD_ASSIGN",
    "BAD_NOT",
    "BAD_BRACE",
    "BAD_QUOTE",
    "BAD_QUESTION",
)


class _KeepMistakes(PostLex):
    """Keeps the BAD_* terminals in the lexer, so a mistake arrives at the parser as a token."""

    always_accept = BAD_TERMINALS

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return stream


_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_DATE = re.compile(r"@(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"@(\d{2}):(\d{2})(?::(\d{2}))?")
_DATETIME = re.compile(r"@(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?")
_TEMPORAL_HINT = "write dates as @2024-01-31, times as @10:30 and datetimes as @2024-01-31T10:30"


def _depth(*nodes: Expr) -> int:
    return 1 + max((n.depth for n in nodes), default=0)


class _Builder(Transformer[Token, Expr]):
    """Builds :mod:`dsl._ast` nodes as the LALR parser reduces rules (no recursion)."""

    def binary(self, c: list[Any]) -> Expr:
        left, op, right = c
        return Binary(
            left.start,
            right.end,
            BINARY_OPS[str(op)],
            str(op),
            left,
            right,
            op.start_pos,
            op.end_pos,
            _depth(left, right),
        )

    def not_in(self, c: list[Any]) -> Expr:
        left, not_tok, _in_tok, right = c
        return Binary(
            left.start,
            right.end,
            "not_in",
            "not in",
            left,
            right,
            not_tok.start_pos,
            _in_tok.end_pos,
            _depth(left, right),
        )

    def unary(self, c: list[Any]) -> Expr:
        op, operand = c
        return Unary(op.start_pos, operand.end, "not" if op == "not" else "neg", operand, _depth(operand))

    def paren(self, c: list[Any]) -> Expr:
        lpar, inner, rpar = c
        # Keep the inner node but widen its span over the brackets, so a caret under a
        # parenthesised operand covers what the author wrote.
        return _respan(inner, lpar.start_pos, rpar.end_pos)

    def call(self, c: list[Any]) -> Expr:
        name, rpar = c[0], c[-1]
        args = tuple(a for a in c[2:-1] if a is not None)
        return Call(name.start_pos, rpar.end_pos, str(name), name.end_pos, args, _depth(*args))

    def name(self, c: list[Any]) -> Expr:
        parts = tuple(NamePart(str(t), t.start_pos, t.end_pos) for t in c)
        return Name(parts[0].start, parts[-1].end, parts)

    def list_lit(self, c: list[Any]) -> Expr:
        lsqb, rsqb = c[0], c[-1]
        items = tuple(a for a in c[1:-1] if a is not None)
        return ListLiteral(lsqb.start_pos, rsqb.end_pos, items, _depth(*items))

    def literal(self, c: list[Any]) -> Expr:
        tok: Token = c[0]
        start, end, text = _at(tok.start_pos), _at(tok.end_pos), str(tok)
        kind = tok.type
        if kind == "STRING":
            return _string(start, end, text)
        if kind == "NUMBER":
            return _number(start, end, text)
        if kind == "TEMPORAL":
            return _temporal(start, end, text)
        if kind == "TRUE":
            return Literal(start, end, True, Kind.BOOLEAN)
        if kind == "FALSE":
            return Literal(start, end, False, Kind.BOOLEAN)
        return Literal(start, end, None, Kind.NULL)


def _at(offset: int | None) -> int:
    return 0 if offset is None else offset


def _respan(node: Expr, start: int, end: int) -> Expr:
    # Dataclasses with slots: rebuild through the class with the new offsets.
    fields = {name: getattr(node, name) for name in node.__dataclass_fields__}
    fields["start"], fields["end"] = start, end
    return type(node)(**fields)


def _string(start: int, end: int, text: str) -> Expr:
    # A backslash before any other character is kept as written, so a regular expression such as
    # '^\d+$' means what an author expects without doubling every backslash.
    body = text[1:-1]
    value = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)
    return Literal(start, end, value, Kind.TEXT)


def _number(start: int, end: int, text: str) -> Expr:
    if "." in text:
        whole = text.split(".", 1)[0]
        if len(whole) > 15:
            return Invalid(start, end, f"number {text} is too large", "numbers have at most 15 digits")
        return Literal(start, end, float(text), Kind.NUMBER)
    if len(text) > 16 or int(text) > MAX_SAFE_INTEGER:
        return Invalid(
            start, end, f"number {text} is too large", f"whole numbers are at most {MAX_SAFE_INTEGER}"
        )
    return Literal(start, end, int(text), Kind.NUMBER)


def _temporal(start: int, end: int, text: str) -> Expr:
    try:
        if m := _DATE.fullmatch(text):
            y, mo, d = (int(g) for g in m.groups())
            return Literal(start, end, dt.date(y, mo, d), Kind.DATE)
        if m := _TIME.fullmatch(text):
            h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
            return Literal(start, end, dt.time(h, mi, s), Kind.TIME)
        if m := _DATETIME.fullmatch(text):
            y, mo, d, h, mi = (int(m[i]) for i in range(1, 6))
            s = int(m[6] or 0)
            zone = m[7]
            if zone is None:
                tz: dt.tzinfo = LONDON
            elif zone == "Z":
                tz = dt.UTC
            else:
                sign = 1 if zone[0] == "+" else -1
                offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
                tz = dt.timezone(sign * offset)
            return Literal(start, end, dt.datetime(y, mo, d, h, mi, s, tzinfo=tz), Kind.DATETIME)
    except ValueError:
        return Invalid(start, end, f"{text} is not a real date or time", _TEMPORAL_HINT)
    return Invalid(start, end, f"{text} is not a date, time or datetime", _TEMPORAL_HINT)


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("dsl").joinpath("expressions.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",  # keywords are keywords everywhere, never names
        transformer=_Builder(),
        postlex=_KeepMistakes(),
        maybe_placeholders=True,
        # Lark keeps the analysed LALR tables in a file in the temp directory, keyed by a hash of
        # the grammar and options: every later process starts 3x faster (a read-only temp
        # directory only means no cache).
        cache=True,
    )


def _invalid_nodes(root: Expr) -> list[Invalid]:
    found: list[Invalid] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Invalid):
            found.append(node)
        stack.extend(children(node))
    return found


def parse_expression(source: str, *, node: YScalar | None = None, position: Position | None = None) -> Expr:
    """Parse ``source`` into a syntax tree, or raise a positioned :class:`DefinitionError`.

    ``node`` (the YAML scalar the text came from) or ``position`` (where the text starts) place
    diagnostics in the definition file. Only :class:`DefinitionError` is ever raised.
    """
    return parse_located(source, Locator(source, node, position))


def parse_located(source: str, where: Locator) -> Expr:
    """Parse ``source`` with diagnostics placed by ``where`` (used for template holes too)."""
    from dsl._syntax_errors import describe_syntax_error  # deferred: it imports this module

    if not isinstance(source, str):
        raise DefinitionError.at(where.at(0), "an expression must be text", code="syntax")
    if not source.strip():
        raise DefinitionError.at(
            where.at(0), "the expression is empty", "write a value, a name or a condition", code="syntax"
        )
    if len(source) > MAX_LENGTH:
        raise DefinitionError.at(
            where.at(0),
            f"the expression is too long ({len(source)} characters; at most {MAX_LENGTH})",
            "split it into calculate fields",
            code="too-long",
        )
    try:
        tree = cast(Expr, _lark().parse(source))
    except UnexpectedInput as error:
        start, end, message, hint = describe_syntax_error(source, error)
        raise DefinitionError.at(where.at(start, end), message, hint, code="syntax") from None
    except (LarkError, RecursionError):
        raise DefinitionError.at(where.at(0), "the expression cannot be read", code="syntax") from None
    if tree.depth > MAX_DEPTH:
        raise DefinitionError.at(
            where.at(0, len(source)),
            f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
            "split it into calculate fields",
            code="too-deep",
        )
    invalid = _invalid_nodes(tree)
    if invalid:
        raise DefinitionError(
            Diagnostic(bad.message, where.at(bad.start, bad.end), bad.hint, code="syntax") for bad in invalid
        )
    return tree


def raw_parse(source: str) -> Expr:
    """Parse without translating errors (Lark's exceptions escape); for the error table only."""
    return cast(Expr, _lark().parse(source))


__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "UnexpectedCharacters",
    "UnexpectedToken",
    "parse_expression",
    "parse_located",
    "raw_parse",
]
