"""The suites ``python -m bench`` knows, in the order it runs them.

To add a suite: write ``bench/<name>.py`` with ``run(config: Config) -> SuiteResult`` (see
:mod:`bench._report`), add one :class:`Suite` line below, a smoke test in ``tests/bench/`` and a
section in ``docs/performance.md``. Suite modules are imported only when they run, so a suite
that needs the database or a web server costs nothing when another suite is asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import MappingProxyType

from bench._report import SuiteRunner


@dataclass(frozen=True, slots=True)
class Suite:
    """A benchmark suite: its name on the command line, its module and a one-line summary."""

    name: str
    module: str
    summary: str

    def runner(self) -> SuiteRunner:
        """The suite's ``run(config)`` function (imports its module)."""
        module = importlib.import_module(self.module)
        run: SuiteRunner = module.run
        return run


_ALL = (
    Suite("expressions", "bench.expressions", "compiled expressions vs hand-written Python lambdas"),
    Suite("validation", "bench.validation", "Form.validate vs jsonschema on a 30-field form"),
    Suite("check", "bench.check", "`waypost check` of a generated 1,000-field form"),
    Suite("repeats", "bench.repeats", "validation cost of a repeat at 10, 100 and 1,000 items"),
    Suite("workflow", "bench.workflow", "durable workflow steps/s (SQLite, PostgreSQL) vs SpiffWorkflow"),
    Suite("web", "bench.web", "form page GET vs bare Starlette, API ingest/s, tablet bytes (wrk)"),
)

SUITES = MappingProxyType({suite.name: suite for suite in _ALL})
"""Every suite by name, in running order."""

__all__ = ["SUITES", "Suite"]
