"""The timing helpers and the report: ratios, means and tables (no timing is asserted)."""

from __future__ import annotations

import math

import pytest

from bench._report import Column, Target, format_table
from bench._timing import Ratio, Samples, calibrate, geometric_mean, interleaved, make_timer


def test_ratio_divides_best_times_and_pairs_rounds() -> None:
    """best is min/min; low, median and high come from round-by-round ratios."""
    candidate = Samples((2.0, 3.0, 4.0))
    reference = Samples((1.0, 1.0, 4.0))
    ratio = Ratio.of(candidate, reference)
    assert ratio.best == 2.0
    assert (ratio.low, ratio.median, ratio.high) == (1.0, 2.0, 3.0)


def test_ratio_against_zero_reference_is_infinite() -> None:
    """A reference that took no time gives an infinite ratio, not a ZeroDivisionError."""
    assert math.isinf(Ratio.of(Samples((1.0,)), Samples((0.0,))).best)


def test_inverted_ratio_reads_the_other_way() -> None:
    """Inverting turns "4x slower" into "0.25x", and swaps low and high."""
    ratio = Ratio(4.0, 2.0, 4.0, 8.0).inverted()
    assert (ratio.best, ratio.low, ratio.high) == (0.25, 0.125, 0.5)


def test_samples_minus_overhead_never_goes_negative() -> None:
    """Subtracting a loop's cost clamps at zero; spread is relative to the best round."""
    samples = Samples((1.0, 1.5, 0.5))
    assert samples.minus(0.75).values == (0.25, 0.75, 0.0)
    assert samples.spread == pytest.approx(2.0)
    assert samples.median == 1.0


def test_geometric_mean() -> None:
    """2x and 0.5x average to 1x; an empty list is NaN; a zero makes the mean zero."""
    assert geometric_mean([2.0, 0.5]) == pytest.approx(1.0)
    assert geometric_mean([4.0]) == pytest.approx(4.0)
    assert math.isnan(geometric_mean([]))
    assert geometric_mean([0.0, 3.0]) == 0.0


def test_calibrate_and_interleaved_count_each_timer() -> None:
    """calibrate returns a positive loop count; interleaved gives one sample per round per timer,
    with a count per timer when asked."""
    calls = {"a": 0, "b": 0}

    def bump(name: str) -> None:
        calls[name] += 1

    timers = {"a": make_timer(lambda: bump("a")), "b": make_timer(lambda: bump("b"))}
    assert calibrate(timers["a"], 0.0) >= 1
    calls.update(a=0, b=0)
    samples = interleaved(timers, {"a": 3, "b": 5}, rounds=4)
    assert calls == {"a": 12, "b": 20}
    assert all(len(s.values) == 4 for s in samples.values())


def test_format_table_aligns_numbers_right_and_text_left() -> None:
    """Numbers are right-aligned with their format, text left-aligned, missing values shown as -."""
    table = format_table(
        [Column("name", "name"), Column("value", "value", ".1f")],
        [{"name": "long name", "value": 1.25}, {"name": "x"}],
    )
    lines = table.splitlines()
    assert lines[0] == "name       value"
    assert lines[2] == "long name    1.2"
    assert lines[3] == "x              -"


def test_target_line_says_missed() -> None:
    """A missed target is shouted in the console line, with its note."""
    line = Target("speed", "<= 2x", 3.5, "x", False, "too slow").line()
    assert line == "speed: 3.5x (target <= 2x) -> MISSED; too slow"
    assert Target("speed", "<= 2x", 1.0, "x", True).line().endswith("-> met")
