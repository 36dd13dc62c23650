"""``python -m bench [SUITE ...]``: run benchmark suites, print tables, write JSON results."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bench._registry import SUITES
from bench._report import BenchError, Config, print_result, write_json

EXIT_OK = 0
EXIT_DISAGREE = 1
EXIT_USAGE = 2

_EPILOG = """\
Figures are ratios against a reference timed in the same run (this machine is shared and noisy);
a missed target is reported, not an error. Exit status 1 means a candidate and its reference
disagreed on a result, so the timings were not trusted.

examples:
  python -m bench                      every suite (make bench)
  python -m bench expressions          one suite
  python -m bench --quick --out /tmp/b every code path with tiny counts"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m bench``."""
    names = ", ".join(SUITES)
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=f"Waypost benchmarks. Suites: {names}.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run (default: all)")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for <suite>.json results (default: a new temp folder)"
    )
    parser.add_argument(
        "--rounds", type=int, default=7, help="interleaved rounds per measurement (default 7)"
    )
    parser.add_argument(
        "--min-time", type=float, default=0.05, help="least seconds per timed batch (default 0.05)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny counts: checks every code path, figures mean nothing"
    )
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    return parser


def main(argv: Sequence[str] | None = None, stream: TextIO | None = None) -> int:
    """Run the suites named in ``argv`` (default: the process arguments); return the exit status."""
    out = stream if stream is not None else sys.stdout
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(given)
    except SystemExit as exc:  # --help and usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.list:
        for suite in SUITES.values():
            print(f"{suite.name:12} {suite.summary}", file=out)
        return EXIT_OK
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown or args.rounds < 1 or args.min_time < 0:
        problem = (
            f"unknown suite {unknown[0]!r} (known: {', '.join(SUITES)})"
            if unknown
            else "--rounds must be at least 1 and --min-time at least 0"
        )
        print(f"python -m bench: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    config = Config(quick=args.quick, rounds=args.rounds, min_time=args.min_time)
    if args.quick:
        config = Config(quick=True, rounds=min(args.rounds, 2), min_time=0.0)
    folder: Path = args.out if args.out is not None else Path(tempfile.mkdtemp(prefix="waypost-bench-"))
    status = EXIT_OK
    for name in args.suites or list(SUITES):
        started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
        try:
            result = SUITES[name].runner()(config)
        except BenchError as exc:
            print(f"\n== {name}: FAILED: {exc}", file=out)
            status = EXIT_DISAGREE
            continue
        print_result(result, out)
        path = write_json(result, folder, config, started, time.perf_counter() - clock, given)
        print(f"  results: {path}", file=out)
        out.flush()
    return status


__all__ = ["EXIT_DISAGREE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]
