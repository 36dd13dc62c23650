"""Text functions of the expression language.

Text is a sequence of characters (Unicode code points, not UTF-16 units: the browser runtime
must index with ``Array.from``), and every comparison is case-sensitive; use ``lower()`` on both
sides to ignore case. The tests ``contains``, ``starts_with``, ``ends_with`` and ``matches`` give
false, not null, when an argument is null, so they can be used directly as conditions.

``matches(text, pattern)`` has the semantics of JavaScript's ``RegExp.test``: true when the
pattern matches anywhere in the text (``re.search``); anchor it with ``^...$`` to match the whole
text. The pattern is compiled with ``re.ASCII`` so ``\\d``, ``\\w`` and ``\\b`` mean what they mean
in the browser (ASCII digits and word characters); the checker has already confined the pattern
to the syntax both engines share.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from dsl._functions import ArgTypeError, Function, TypeRule, describe, fixed
from dsl._lib_numbers import whole_number
from dsl._types import BOOLEAN, NUMBER, TEXT, Kind, Type, list_of


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, cached (a form evaluates the same few patterns on every change)."""
    try:
        return re.compile(pattern, re.ASCII)
    except (re.error, RecursionError, OverflowError):
        return None


def _texts(*values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _lower(text: Any) -> str | None:
    return text.lower() if isinstance(text, str) else None


def _upper(text: Any) -> str | None:
    return text.upper() if isinstance(text, str) else None


def _trim(text: Any) -> str | None:
    return text.strip() if isinstance(text, str) else None


def _contains(text: Any, part: Any) -> bool:
    return _texts(text, part) and part in text


def _starts_with(text: Any, prefix: Any) -> bool:
    return _texts(text, prefix) and bool(text.startswith(prefix))


def _ends_with(text: Any, suffix: Any) -> bool:
    return _texts(text, suffix) and bool(text.endswith(suffix))


def _matches(text: Any, pattern: Any) -> bool:
    if not _texts(text, pattern):
        return False
    compiled = _compiled(pattern)
    return compiled is not None and compiled.search(text) is not None


def _replace(text: Any, find: Any, replacement: Any) -> str | None:
    if not _texts(text, find, replacement):
        return None
    # Replacing "" would insert between every character; an author never means that.
    return text if find == "" else str(text.replace(find, replacement))


def _substr(text: Any, start: Any, length: Any = None) -> str | None:
    first = whole_number(start)
    if not isinstance(text, str) or first is None:
        return None
    if length is None:
        last = len(text)
    else:
        count = whole_number(length)
        if count is None:
            return None
        last = first + max(count, 0)
    # The characters whose positions lie in [start, start + length) and exist: never an error.
    first, last = max(first, 0), min(last, len(text))
    return text[first:last] if first < last else ""


def _concat(*parts: Any) -> str:
    return "".join(p for p in parts if isinstance(p, str))


def _join(items: Any, separator: Any) -> str | None:
    if not isinstance(items, list) or not isinstance(separator, str):
        return None
    return separator.join(item for item in items if isinstance(item, str))


def _split(text: Any, separator: Any) -> list[str] | None:
    if not _texts(text, separator):
        return None
    if text == "":
        return []
    if separator == "":
        return list(text)
    return list(text.split(separator))


def _initials(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    letters = (next((c for c in word if c.isalpha()), "") for word in text.split())
    return "".join(letters).upper()


def _concat_rule(args: Sequence[Type]) -> Type:
    for index, arg in enumerate(args):
        if not TEXT.accepts(arg):
            hint = "turn it into text with text(...)" if arg.kind is not Kind.LIST else "use join(list, ', ')"
            raise ArgTypeError(f"concat() joins text, not {describe(arg)}", index, hint=hint)
    return TEXT


_TEXT_TO_TEXT = fixed([TEXT], TEXT)
_TEXT_TEST = fixed([TEXT, TEXT], BOOLEAN)


def _fn(
    name: str,
    arity: int,
    signature: str,
    summary: str,
    example: str,
    impl: Any,
    check: TypeRule = _TEXT_TO_TEXT,
    propagate_null: bool = True,
) -> Function:
    return Function(
        name, signature, summary, example, arity, arity, check, impl, propagate_null, category="text"
    )


FUNCTIONS: tuple[Function, ...] = (
    _fn(
        "lower", 1, "lower(text: text) -> text", "The text in lower case.", "lower('Bowen') → 'bowen'", _lower
    ),
    _fn("upper", 1, "upper(text: text) -> text", "The text in upper case.", "upper('sw1a') → 'SW1A'", _upper),
    _fn(
        "trim",
        1,
        "trim(text: text) -> text",
        "The text without spaces, tabs or line breaks at either end.",
        "trim('  Alice ') → 'Alice'",
        _trim,
    ),
    _fn(
        "contains",
        2,
        "contains(text: text, part: text) -> boolean",
        "Whether `part` occurs in the text (case-sensitive); false if either is null.",
        "contains('Knife found', 'knife') → false",
        _contains,
        check=_TEXT_TEST,
        propagate_null=False,
    ),
    _fn(
        "starts_with",
        2,
        "starts_with(text: text, prefix: text) -> boolean",
        "Whether the text begins with `prefix` (case-sensitive); false if either is null.",
        "starts_with('PC 1234', 'PC') → true",
        _starts_with,
        check=_TEXT_TEST,
        propagate_null=False,
    ),
    _fn(
        "ends_with",
        2,
        "ends_with(text: text, suffix: text) -> boolean",
        "Whether the text ends with `suffix` (case-sensitive); false if either is null.",
        "ends_with('report.pdf', '.pdf') → true",
        _ends_with,
        check=_TEXT_TEST,
        propagate_null=False,
    ),
    _fn(
        "matches",
        2,
        "matches(text: text, pattern: text literal) -> boolean",
        "Whether the regular expression matches anywhere in the text (use ^...$ for all of it).",
        "matches('AB12 CDE', '^[A-Z]{2}[0-9]{2} ?[A-Z]{3}$') → true",
        _matches,
        check=_TEXT_TEST,
        propagate_null=False,
    ),
    _fn(
        "replace",
        3,
        "replace(text: text, find: text, with: text) -> text",
        "The text with every occurrence of `find` replaced (plain text, not a pattern).",
        "replace('07700-900-123', '-', '') → '07700900123'",
        _replace,
        check=fixed([TEXT, TEXT, TEXT], TEXT),
    ),
    Function(
        name="substr",
        category="text",
        signature="substr(text: text, start: number, length?: number) -> text",
        summary="The characters from position `start` (0 is the first), `length` of them or to the end.",
        example="substr('Alice Bowen', 6) → 'Bowen'",
        min_args=2,
        max_args=3,
        check=fixed([TEXT, NUMBER, NUMBER], TEXT),
        impl=_substr,
    ),
    Function(
        name="concat",
        category="text",
        signature="concat(text: text...) -> text",
        summary="The texts joined end to end; null counts as empty text.",
        example="concat('PC ', null, '1234') → 'PC 1234'",
        min_args=1,
        max_args=None,
        check=_concat_rule,
        impl=_concat,
        propagate_null=False,
    ),
    _fn(
        "join",
        2,
        "join(items: list of text, separator: text) -> text",
        "The items joined with `separator` between them; null items are left out.",
        "join(['knife', 'cash'], ', ') → 'knife, cash'",
        _join,
        check=fixed([list_of(TEXT), TEXT], TEXT),
    ),
    _fn(
        "split",
        2,
        "split(text: text, separator: text) -> list of text",
        "The pieces of the text between separators (empty text gives an empty list).",
        "split('a,b,,c', ',') → ['a', 'b', '', 'c']",
        _split,
        check=fixed([TEXT, TEXT], list_of(TEXT)),
    ),
    _fn(
        "initials",
        1,
        "initials(name: text) -> text",
        "The first letter of each word, in capitals.",
        "initials('Alice bowen Carter') → 'ABC'",
        _initials,
    ),
)

__all__ = ["FUNCTIONS"]
