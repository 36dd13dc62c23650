"""What a suite gives back, how it is printed as a table, and how it is written as JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO


class BenchError(Exception):
    """A suite found that its candidate and its reference disagree: the figures would be meaningless."""


@dataclass(frozen=True, slots=True)
class Config:
    """How hard to measure.

    ``quick`` runs every code path with tiny counts (for the smoke tests: the figures mean
    nothing); ``rounds`` is the number of interleaved rounds per measurement and ``min_time``
    the least duration of one timed batch, in seconds.
    """

    quick: bool = False
    rounds: int = 7
    min_time: float = 0.05

    @staticmethod
    def smoke() -> Config:
        """The smallest settings that still run every code path."""
        return Config(quick=True, rounds=2, min_time=0.0)


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: the row key it shows, its header and a format spec (``".2f"``)."""

    key: str
    header: str
    fmt: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One quality bar of DESIGN.md section 8 and what this run measured for it."""

    measure: str
    goal: str
    value: float
    unit: str
    met: bool
    note: str = ""

    def line(self) -> str:
        """``measure: value (goal) MET`` for the console."""
        verdict = "met" if self.met else "MISSED"
        text = f"{self.measure}: {self.value:.3g}{self.unit} (target {self.goal}) -> {verdict}"
        return f"{text}; {self.note}" if self.note else text


@dataclass
class SuiteResult:
    """The outcome of one suite: a table of rows, the targets, and notes for the reader."""

    suite: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(
        self, config: Config, started: dt.datetime, seconds: float, argv: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The machine-readable record written to ``<out>/<suite>.json``; ``argv`` is the
        command line of ``python -m bench`` that produced it."""
        return {
            "suite": self.suite,
            "title": self.title,
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "command": " ".join([Path(sys.executable).name, "-m", "bench", *argv]),
            "machine": machine(),
            "config": asdict(config),
            "columns": [asdict(c) for c in self.columns],
            "rows": self.rows,
            "targets": [asdict(t) for t in self.targets],
            "all_targets_met": all(t.met for t in self.targets),
            "notes": self.notes,
            "extra": self.extra,
        }


def machine() -> dict[str, Any]:
    """Where the figures came from: they only compare within one run on one machine."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has a load average
        load = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": load,
    }


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if fmt and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, fmt)
    return str(value)


def format_table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    """Rows as an aligned text table; text columns left-aligned, numbers right-aligned."""
    cells = [[_cell(row.get(c.key), c.fmt) for c in columns] for row in rows]
    widths = [max([len(c.header), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row.get(c.key), int | float) or row.get(c.key) is None for row in rows)
        for c in columns
    ]

    def line(parts: Sequence[str]) -> str:
        return "  ".join(
            p.rjust(w) if num else p.ljust(w) for p, w, num in zip(parts, widths, numeric, strict=True)
        ).rstrip()

    out = [line([c.header for c in columns]), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def print_result(result: SuiteResult, stream: TextIO) -> None:
    """The table, the targets and the notes of one suite, for a person reading the console."""
    print(f"\n== {result.suite}: {result.title}", file=stream)
    if result.rows:
        print(format_table(result.columns, result.rows), file=stream)
    for target in result.targets:
        print(f"  {target.line()}", file=stream)
    for note in result.notes:
        print(f"  note: {note}", file=stream)


def write_json(
    result: SuiteResult,
    out: Path,
    config: Config,
    started: dt.datetime,
    seconds: float,
    argv: Sequence[str] = (),
) -> Path:
    """Write ``<out>/<suite>.json`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result.suite}.json"
    data = result.to_json(config, started, seconds, argv)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


SuiteRunner = Callable[[Config], SuiteResult]

__all__ = [
    "BenchError",
    "Column",
    "Config",
    "SuiteResult",
    "SuiteRunner",
    "Target",
    "format_table",
    "machine",
    "print_result",
    "write_json",
]
