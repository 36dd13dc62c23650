"""Checking that a pattern for ``matches()`` means the same in Python and in a browser.

The server runs patterns with Python's :mod:`re`; the browser with JavaScript's ``RegExp``. They
agree on a common core (characters, classes, ``\\d \\w \\s \\b``, groups, alternation, greedy and
lazy quantifiers, ``(?:...)``, lookahead, backreferences ``\\1``-``\\9``) and disagree on the rest,
so anything outside that core is refused when the definition loads, with the reason.
"""

from __future__ import annotations

import re
import warnings

MAX_PATTERN_LENGTH = 1000

# Escapes with a letter that both engines read the same way (outside and inside classes).
_LETTER_ESCAPES = frozenset("dDwWsSbBtnrfvxu")
_GROUP_OK = frozenset(":=!")


def check_portable_regex(pattern: str) -> str | None:
    """An error message if ``pattern`` is invalid or not portable between Python and JavaScript.

    Returns None for a good pattern. Refused: named groups ``(?P<n>...)``/``(?<n>...)``,
    lookbehind, atomic groups and possessive quantifiers, inline flags and comments,
    conditionals, ``\\A``/``\\Z`` and other engine-specific escapes, ``{,n}``, and a ``]`` or
    ``[`` at a place where the two engines read classes differently.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is longer than {MAX_PATTERN_LENGTH} characters"
    problem = _scan(pattern)
    if problem is not None:
        return problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            re.compile(pattern)
        except re.error as error:
            return str(error.msg)
        except (FutureWarning, DeprecationWarning):
            return "a '[' inside a character class must be written '\\['"
        except (RecursionError, OverflowError, ValueError):
            return "the pattern is too complex"
    return None


def _scan(p: str) -> str | None:
    i, n = 0, len(p)
    in_class = False
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                return "the pattern ends with a backslash"
            e = p[i + 1]
            if e.isalpha() and e not in _LETTER_ESCAPES:
                return f"'\\{e}' means different things in Python and JavaScript (or nothing)"
            if e.isdigit() and (e == "0" and i + 2 < n and p[i + 2].isdigit()):
                return "octal escapes are not supported; use \\xhh"
            if e.isdigit() and e != "0" and i + 2 < n and p[i + 2].isdigit():
                return "backreferences above \\9 are not supported"
            i += 2
            continue
        if in_class:
            if c == "[":
                return "a '[' inside a character class must be written '\\['"
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 1
            if i < n and p[i] == "^":
                i += 1
            if i < n and p[i] == "]":
                return "a ']' first in a character class must be written '\\]'"
            continue
        if c == "(" and p.startswith("(?", i):
            problem = _group(p[i + 2 : i + 4])
            if problem is not None:
                return problem
        if c in "*+?}" and i + 1 < n and p[i + 1] == "+":
            return "possessive quantifiers ('*+', '++', '?+') are not supported"
        if c == "{" and p.startswith("{,", i):
            return "write '{0,n}' instead of '{,n}'"
        i += 1
    return None


def _group(head: str) -> str | None:
    if head[:1] in _GROUP_OK:
        return None
    if head in ("<=", "<!"):
        return "lookbehind '(?<=...)' and '(?<!...)' is not supported"
    if head[:1] in ("P", "<"):
        return "named groups are not supported; use a plain group (...)"
    if head[:1] == ">":
        return "atomic groups '(?>...)' are not supported"
    if head[:1] == "#":
        return "comments '(?#...)' are not supported"
    if head[:1] == "(":
        return "conditional groups are not supported"
    return "inline flags such as '(?i)' are not supported"


__all__ = ["MAX_PATTERN_LENGTH", "check_portable_regex"]
