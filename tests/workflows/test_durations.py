"""Durations: ``30s``, ``15m``, ``4h``, ``2d``, ``1h30m``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import DefinitionError, Position, Source
from workflows import format_duration, parse_duration

AT = Position(Source("workflows/x.yaml", "due: 4 hours\n"), 1, 6)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("4h", 14_400),
        ("2d", 172_800),
        ("1h30m", 5_400),
        ("90m", 5_400),
        ("1d12h", 129_600),
        ("1d2h3m4s", 93_784),
        ("0h5m", 300),
    ],
)
def test_parse_duration_accepts_units_largest_first(text: str, seconds: int) -> None:
    """Each unit, and combinations written largest unit first, give seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("4 hours", "'4 hours' is not a duration", "write it as '4h'"),
        ("30 mins", "'30 mins' is not a duration", "write it as '30m'"),
        ("2 weeks", "'2 weeks' is not a duration", "weeks are not a unit: write days instead, e.g. '14d'"),
        ("4", "'4' is not a duration", "add a unit: '4m' (minutes), '4h' (hours) or '4d' (days)"),
        ("30m1h", "'30m1h' is not a duration", "write the units largest first: '1h30m'"),
        ("1h1h", "'1h1h' is not a duration", "write each unit once, largest first"),
        ("", "'' is not a duration", "write a number and a unit"),
        ("h", "'h' is not a duration", "write a number and a unit"),
        ("1.5h", "'1.5h' is not a duration", "use whole numbers: '1h30m'"),
        ("0.1s", "'0.1s' is not a duration", "write a number and a unit"),
        ("-5m", "'-5m' is not a duration", "write a number and a unit"),
        ("0s", "a duration must be longer than zero, not '0s'", "write a number and a unit"),
        ("0d0h", "a duration must be longer than zero, not '0d0h'", "write a number and a unit"),
    ],
)
def test_parse_duration_rejects_bad_text_with_position_and_hint(text: str, message: str, hint: str) -> None:
    """Bad text raises a DefinitionError at the given position, with a hint that fixes it."""
    with pytest.raises(DefinitionError) as caught:
        parse_duration(text, AT)
    (diag,) = caught.value.diagnostics
    assert diag.message == message
    assert diag.position == AT
    assert diag.hint is not None
    assert diag.hint.startswith(hint)


@pytest.mark.parametrize(("value", "shown"), [(4, "4"), (True, "true"), (None, "empty"), (1.5, "1.5")])
def test_parse_duration_rejects_values_that_are_not_text(value: object, shown: str) -> None:
    """A number or boolean from YAML is not a duration: the author must write a unit."""
    with pytest.raises(DefinitionError, match=f"a duration must be text such as '4h', not {shown}"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30s"), (90, "1m30s"), (86_400, "1d"), (5_400, "1h30m"), (0.5, "0.5s")]
)
def test_format_duration_writes_the_shortest_spelling(seconds: float, text: str) -> None:
    """Durations are shown the way an author writes them."""
    assert format_duration(seconds) == text


@given(st.integers(min_value=1, max_value=10**8))
def test_format_then_parse_is_the_identity(seconds: int) -> None:
    """Every whole number of seconds survives a round trip through its spelling."""
    assert parse_duration(format_duration(seconds)) == seconds
