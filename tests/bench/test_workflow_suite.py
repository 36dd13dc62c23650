"""The ``workflow`` suite's Waypost side runs with tiny counts on SQLite and completes every instance.

No timing is asserted. PostgreSQL and the worker processes are exercised by ``python -m bench
workflow --quick``; SpiffWorkflow is a benchmark-only install, so its part is checked only when it
is importable (the suite module must import without it either way).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from bench import _workflow_support as support
from bench import workflow
from bench._registry import SUITES
from bench._report import BenchError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return support.write_department(tmp_path / "bench")


def test_the_suite_is_registered() -> None:
    """``python -m bench workflow`` finds the suite and its run function."""
    assert SUITES["workflow"].runner() is workflow.run


def test_every_sqlite_instance_completes(folder: Path) -> None:
    """7 instances of the 5-step flow on SQLite, one in-process worker: all 7 complete."""
    seconds, states = workflow.run_sqlite(7, folder, concurrency=2)
    assert states == {"completed": 7}
    assert math.isfinite(seconds)
    assert seconds > 0


def test_each_instance_takes_the_five_steps(folder: Path, tmp_path: Path) -> None:
    """An instance enters triage, c1, c2, c3 and done, in that order, and calls the plugin 3 times."""
    rt = support.runtime(f"sqlite:///{tmp_path}/one.db", poll=0.05)
    try:
        rt.db.upgrade()
        support.publish(rt, folder)
        [instance] = support.submit(rt, 1)
        assert support.state_of(rt, instance) == "running"
        asyncio.run(rt.run_until_idle())
        assert support.state_of(rt, instance) == "completed"
        assert support.states(rt) == {"completed": 1}
        assert support.state_of(rt, "no-such-instance") is None
    finally:
        rt.queue.close()
        rt.db.dispose()


def test_an_incomplete_run_is_refused() -> None:
    """A run where some instance did not complete raises BenchError naming the states."""
    with pytest.raises(BenchError, match="5 instances expected to complete"):
        workflow._check("SQLite", {"completed": 4, "running": 1}, 5)
    workflow._check("SQLite", {"completed": 5}, 5)


def test_wait_until_times_out() -> None:
    """A condition that never holds ends in TimeoutError, not an endless wait."""
    with pytest.raises(TimeoutError):
        support.wait_until(lambda: False, 0.05, 0.01)
    assert support.wait_until(lambda: True, 0.05) > 0


def test_spiffworkflow_part_when_installed() -> None:
    """With SpiffWorkflow importable, 3 BPMN instances run every task; without it, the suite says so."""
    if workflow.spiff_available():
        assert workflow.run_spiff(3) > 0
    else:
        with pytest.raises(ImportError):
            workflow.run_spiff(3)
