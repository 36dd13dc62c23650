"""Profiles for the reports: where the time went when a target is missed.

A profile is evidence for the team that owns the slow code, not a measurement: cProfile slows
Python-level code far more than C code, so its shares are indicative and the suites' own timings
(without the profiler) remain the figures.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Where a function lives, by the first of these path fragments found in its file name.
_AREAS = (
    ("site-packages/jsonschema", "jsonschema"),
    ("site-packages/referencing", "jsonschema"),
    ("site-packages/rpds", "jsonschema"),
    ("site-packages/yaml", "PyYAML"),
    ("site-packages/lark", "lark"),
    ("/dsl/", "dsl"),
    ("/forms/", "forms"),
    ("/engine/", "engine"),
)


def profile(work: Callable[[], object]) -> pstats.Stats:
    """Run ``work()`` once under cProfile."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    return pstats.Stats(profiler)


def _raw(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = getattr(stats, "stats", {})
    return raw


_ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def _short(file: str) -> str:
    for marker in ("site-packages/", _ROOT):
        if marker in file:
            return file.split(marker, 1)[1]
    return Path(file).name if file.startswith("/") else file


def top_functions(stats: pstats.Stats, count: int = 12) -> list[dict[str, Any]]:
    """The ``count`` functions with the most time of their own, with calls and cumulative time."""
    raw = _raw(stats)
    total = sum(entry[2] for entry in raw.values()) or 1.0
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:count]
    return [
        {
            "function": f"{_short(file)}:{line}({name})",
            "calls": entry[1],
            "own_s": round(entry[2], 4),
            "cumulative_s": round(entry[3], 4),
            "own_share": round(entry[2] / total, 3),
        }
        for (file, line, name), entry in ranked
    ]


def by_area(stats: pstats.Stats) -> dict[str, float]:
    """The share of own time spent in each library or Waypost package (sums to 1)."""
    raw = _raw(stats)
    total = sum(entry[2] for entry in raw.values()) or 1.0
    shares: dict[str, float] = {}
    for (file, _line, _name), entry in raw.items():
        area = next((label for marker, label in _AREAS if marker in file), "python and other")
        shares[area] = shares.get(area, 0.0) + entry[2] / total
    return {area: round(share, 3) for area, share in sorted(shares.items(), key=lambda kv: -kv[1])}


def describe(stats: pstats.Stats, count: int = 8) -> list[str]:
    """Short lines for the console: the share per area, then the top functions."""
    areas = ", ".join(f"{area} {share:.0%}" for area, share in by_area(stats).items())
    lines = [f"profile (own time by area): {areas}"]
    lines += [
        f"  {row['own_share']:5.1%} own  {row['cumulative_s']:7.3f}s cum  {row['function']}"
        for row in top_functions(stats, count)
    ]
    return lines


__all__ = ["by_area", "describe", "profile", "top_functions"]
