"""Timing on a shared, noisy machine: interleaved rounds, minimums and paired ratios.

Absolute times on the 2-core build machine move by 2x with whatever else is running, so every
suite times its candidate and its reference in the same process, in alternating order (A B, B A,
A B, ...), several rounds each. The best (minimum) time of each is the estimate least disturbed
by other processes; the spread of the per-round ratios shows how noisy the run was.

The clock is the process's CPU time, not the wall clock: on an oversubscribed machine a process
waits for a core for a good part of each second, and CPU time leaves that wait out (cache and
hyper-thread contention still show, which is why the rounds are interleaved).
"""

from __future__ import annotations

import math
import statistics
import time
import timeit
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CLOCK = time.process_time
"""CPU seconds of this process (all threads): the clock of every suite."""


def make_timer(stmt: str | Callable[[], object], namespace: dict[str, Any] | None = None) -> timeit.Timer:
    """A :class:`timeit.Timer` on :data:`CLOCK` for ``stmt`` (a statement over ``namespace``, or a
    callable; a callable costs one extra call per run, negligible for work of microseconds)."""
    return timeit.Timer(stmt, timer=CLOCK, globals=namespace)


@dataclass(frozen=True, slots=True)
class Samples:
    """Seconds per operation, one value per round."""

    values: tuple[float, ...]

    @property
    def best(self) -> float:
        """The minimum: the run least slowed by other processes."""
        return min(self.values)

    @property
    def median(self) -> float:
        """The median round."""
        return statistics.median(self.values)

    @property
    def spread(self) -> float:
        """(max - min) / min: 0.1 means the slowest round took 10% longer than the fastest."""
        return (max(self.values) - self.best) / self.best if self.best > 0 else 0.0

    def minus(self, overhead: float) -> Samples:
        """The samples less a fixed ``overhead`` (an empty loop's cost), never below zero."""
        return Samples(tuple(max(v - overhead, 0.0) for v in self.values))


@dataclass(frozen=True, slots=True)
class Ratio:
    """How many times slower ``candidate`` is than ``reference`` (below 1: faster).

    ``best`` divides the two minimums; ``low``/``median``/``high`` summarise the per-round ratios
    (round i of the candidate against round i of the reference, timed back to back).
    """

    best: float
    low: float
    median: float
    high: float

    @staticmethod
    def of(candidate: Samples, reference: Samples) -> Ratio:
        """The ratio of two sample sets taken in the same interleaved rounds."""
        paired = [c / r for c, r in zip(candidate.values, reference.values, strict=True) if r > 0]
        if not paired or reference.best <= 0:
            return Ratio(math.inf, math.inf, math.inf, math.inf)
        return Ratio(candidate.best / reference.best, min(paired), statistics.median(paired), max(paired))

    def inverted(self) -> Ratio:
        """The same comparison read the other way (``slower`` becomes ``faster``)."""
        return Ratio(_inv(self.best), _inv(self.high), _inv(self.median), _inv(self.low))


def _inv(value: float) -> float:
    return math.inf if value == 0 else 1.0 / value


def calibrate(timer: timeit.Timer, min_time: float) -> int:
    """The loop count that makes one timed batch of ``timer`` last at least ``min_time`` seconds."""
    number = 1
    while True:
        took = timer.timeit(number)
        if took >= min_time:
            return number
        # Aim 20% past the goal, but never more than 100x in one step (the first batch is noisy).
        grow = min_time * 1.2 / took if took > 0 else 100.0
        number = max(number + 1, int(number * min(grow, 100.0)))


def interleaved(
    timers: Mapping[str, timeit.Timer], number: int | Mapping[str, int], rounds: int
) -> dict[str, Samples]:
    """Time each of ``timers`` ``number`` times per round (one count for all, or one per timer),
    alternating the order each round. Returns seconds per single execution of each statement."""
    names = list(timers)
    counts = {name: number if isinstance(number, int) else number[name] for name in names}
    values: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            values[name].append(timers[name].timeit(counts[name]) / counts[name])
    return {name: Samples(tuple(v)) for name, v in values.items()}


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean, the right average for ratios (2x and 0.5x average to 1x)."""
    if not values:
        return math.nan
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


__all__ = ["CLOCK", "Ratio", "Samples", "calibrate", "geometric_mean", "interleaved", "make_timer"]
