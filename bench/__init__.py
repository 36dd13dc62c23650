"""Waypost's benchmarks: the quality bars of DESIGN.md section 8, measured (never asserted in tests).

``python -m bench`` (or ``make bench``) runs every suite; ``python -m bench expressions`` one.
Each suite times a candidate against a reference in the same run and reports a ratio, because the
machine is shared and absolute times are noisy; results are printed as tables and written as JSON
to ``--out`` (a temporary folder by default). docs/performance.md explains the figures.
"""

from bench._cli import main
from bench._registry import SUITES, Suite
from bench._report import BenchError, Column, Config, SuiteResult, Target

__all__ = ["SUITES", "BenchError", "Column", "Config", "Suite", "SuiteResult", "Target", "main"]
