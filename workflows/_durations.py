"""Durations as authors write them: ``30s``, ``15m``, ``4h``, ``2d`` and combinations like ``1h30m``.

A duration is wall-clock time in seconds. Units are written largest first (days, hours, minutes,
seconds), each at most once, with no spaces: ``1d12h``, ``1h30m``, ``90m``. A bare number has no
unit and is refused, because ``due: 4`` could mean four hours or four days; the author must say.
"""

from __future__ import annotations

import re

from dsl import DefinitionError, Position

_UNITS: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DECIMAL = re.compile(r"([0-9]+\.[0-9]+)([dhms])")
_PART = re.compile(r"(\d+)\s*([a-zA-Z]+)")

DURATION_HINT = "write a number and a unit, largest unit first: 30s, 15m, 4h, 2d or 1h30m"
# Words authors reach for, mapped to the unit letter we use, for a precise hint.
_WORDS = {
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "w": "w",
    "wk": "w",
    "week": "w",
    "weeks": "w",
}


def parse_duration(text: object, position: Position | None = None) -> int:
    """The number of seconds ``text`` stands for.

    Raises :class:`DefinitionError` at ``position`` when the text is not a duration or is zero.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        if text is None:
            shown = "empty"
        elif isinstance(text, bool):
            shown = "true" if text else "false"
        else:
            shown = repr(text)
        hint = _hint_for(str(text)) if isinstance(text, int) and not isinstance(text, bool) else DURATION_HINT
        raise DefinitionError.at(
            position, f"a duration must be text such as '4h', not {shown}", hint, code="duration"
        )
    match = _DURATION.fullmatch(text)
    if match is None:
        raise DefinitionError.at(position, f"'{text}' is not a duration", _hint_for(text), code="duration")
    seconds = sum(int(n) * unit for n, unit in zip(match.groups(), _UNITS.values(), strict=True) if n)
    if seconds <= 0:
        raise DefinitionError.at(
            position, f"a duration must be longer than zero, not '{text}'", DURATION_HINT, code="duration"
        )
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest author spelling of ``seconds``: 90 -> '1m30s', 86400 -> '1d', 0.5 -> '0.5s'."""
    if seconds != int(seconds) or seconds <= 0:
        return f"{seconds:g}s"
    rest = int(seconds)
    out = []
    for letter, unit in _UNITS.items():
        count, rest = divmod(rest, unit)
        if count:
            out.append(f"{count}{letter}")
    return "".join(out)


def _hint_for(text: str) -> str:
    """A hint that rewrites the author's text when we can tell what was meant."""
    parts = _PART.findall(text.strip())
    if parts and "".join(f"{n}{u}" for n, u in parts) == re.sub(r"\s+", "", text.strip()):
        letters = []
        for number, word in parts:
            unit = _WORDS.get(word.lower(), word.lower() if word.lower() in _UNITS else "")
            if unit == "w":
                return f"weeks are not a unit: write days instead, e.g. '{int(number) * 7}d'"
            if not unit:
                return DURATION_HINT
            letters.append((number, unit))
        order = list(_UNITS)
        ranks = [order.index(u) for _, u in letters]
        if ranks == sorted(set(ranks)):
            return "write it as '" + "".join(f"{n}{u}" for n, u in letters) + "'"
        if len(set(ranks)) == len(ranks):
            ordered = sorted(letters, key=lambda part: order.index(part[1]))
            return "write the units largest first: '" + "".join(f"{n}{u}" for n, u in ordered) + "'"
        return "write each unit once, largest first, e.g. '1h30m'"
    decimal = _DECIMAL.fullmatch(text.strip())
    if decimal is not None:
        seconds = float(decimal.group(1)) * _UNITS[decimal.group(2)]
        if seconds >= 1 and seconds == int(seconds):
            return f"use whole numbers: '{format_duration(seconds)}'"
    if text.strip().isdigit():
        return (
            f"add a unit: '{text.strip()}m' (minutes), '{text.strip()}h' (hours) or '{text.strip()}d' (days)"
        )
    return DURATION_HINT
