"""The worker in-process: concurrency, graceful shutdown, reaping expired leases.

A :class:`engine._worker.Worker` is an asyncio task, so these tests run it inside ``asyncio.run``
the way ``waypost serve`` embeds it, on SQLite and PostgreSQL. The clock of the queue is fake;
only the plugins' own sleeps take real (short) time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine._database import Database
from engine._tables import Instance, Job
from engine._worker import Worker
from engine.plugins import RetryPolicy, StepContext
from tests.engine.fakes import Harness, department

FLOW = """\
workflow: flow
title: Two calls
on: {submitted: concern}
steps:
  first: {call: slow, with: {n: 1}, next: second}
  second: {call: slow, with: {n: 2}, next: done}
  done: {end: true}
"""


@dataclass
class SlowPlugin:
    """Sleeps ``delay`` seconds per call (or until ``gate`` opens), counting calls in flight."""

    delay: float = 0.02
    gate: asyncio.Event | None = None
    name: str = "slow"
    idempotent: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    config_schema: dict[str, Any] = field(default_factory=dict)
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)
    running: int = 0
    most: int = 0
    started: list[tuple[str, int]] = field(default_factory=list)
    finished: int = 0

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        self.started.append((ctx.idempotency_key, ctx.attempt))
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delay)
        finally:
            self.running -= 1
        self.finished += 1
        return {}


def build(db: Database, tmp_path: Path, plugin: SlowPlugin) -> Harness:
    h = Harness(db.url, department(tmp_path / "ppu", {"flow": FLOW}), [plugin])
    h.publish()
    return h


async def run_until(worker: Worker, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run ``worker`` until ``done()`` holds, then stop it and wait for it to finish."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(done):
        assert asyncio.get_running_loop().time() < deadline, "the worker did not finish in time"
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, timeout)


def count(h: Harness, query: Any) -> int:
    with h.rt.db.session(write=False) as session:
        return int(session.scalar(query) or 0)


def test_the_worker_runs_jobs_concurrently(db: Database, tmp_path: Path) -> None:
    """Twelve instances complete; up to `concurrency` calls run at once, never more."""
    plugin = SlowPlugin(delay=0.05)
    h = build(db, tmp_path, plugin)
    for _ in range(12):
        h.start({"full_name": "Sam"})
    worker = Worker(h.rt, concurrency=4, reap_interval=0.1)

    def all_done() -> bool:
        return count(h, select(func.count()).select_from(Instance).where(Instance.state != "completed")) == 0

    asyncio.run(run_until(worker, all_done))
    assert plugin.finished == 24
    assert 1 < plugin.most <= 4
    assert worker.jobs_run == 36  # 12 advance + 24 run_step
    assert count(h, select(func.count()).select_from(Job).where(Job.state != "done")) == 0
    h.close()


def test_shutdown_gives_an_unfinished_call_back(db: Database, tmp_path: Path) -> None:
    """A call still running after the grace period is cancelled; its job goes back, and runs again later."""
    gate_plugin = SlowPlugin()
    h = build(db, tmp_path, gate_plugin)
    iid = h.start({"full_name": "Sam"})

    async def scenario() -> None:
        gate_plugin.gate = asyncio.Event()  # never opened: the call hangs
        worker = Worker(h.rt, concurrency=2, grace=0.1, reap_interval=0.1)
        await run_until(worker, lambda: bool(gate_plugin.started))

    asyncio.run(scenario())
    with h.rt.db.session(write=False) as session:
        job = session.scalars(select(Job).where(Job.kind == "run_step")).one()
    assert (job.state, job.lease_owner, job.last_error) == (
        "ready",
        None,
        "the worker stopped during the call",
    )
    h.close()
    fine = SlowPlugin()
    h2 = Harness(db.url, h.folder, [fine])
    worker = Worker(h2.rt, concurrency=2, reap_interval=0.1)
    asyncio.run(run_until(worker, lambda: h2.instance(iid).state == "completed"))
    assert fine.started[0] == (f"{iid}:first:1", 2)  # the same key; the interrupted attempt counted
    h2.close()


def test_shutdown_waits_for_calls_that_finish_in_time(db: Database, tmp_path: Path) -> None:
    """Stopping while a short call runs lets it finish and record its outcome."""
    plugin = SlowPlugin(delay=0.3)
    h = build(db, tmp_path, plugin)
    iid = h.start({"full_name": "Sam"})
    worker = Worker(h.rt, concurrency=1, grace=10, reap_interval=0.1)
    asyncio.run(run_until(worker, lambda: bool(plugin.started)))
    assert plugin.finished == 1
    assert h.route(iid) == ["first", "second"]  # the first call's result moved the instance on
    h.close()


def test_the_worker_reaps_expired_leases(db: Database, tmp_path: Path) -> None:
    """A job leased by a worker that vanished is reaped once its lease runs out, and then runs."""
    plugin = SlowPlugin()
    h = build(db, tmp_path, plugin)
    iid = h.start({"full_name": "Sam"})
    [job] = h.rt.queue.claim("vanished-worker")
    assert job.kind == "advance"
    h.clock.advance(31)
    worker = Worker(h.rt, concurrency=2, reap_interval=0.05)
    asyncio.run(run_until(worker, lambda: h.instance(iid).state == "completed"))
    assert plugin.finished == 2
    h.close()


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_concurrency_must_be_a_positive_whole_number(bad: Any) -> None:
    """Worker refuses a concurrency that is not a whole number of at least 1."""
    with pytest.raises(ValueError, match="concurrency"):
        Worker(object(), concurrency=bad)  # type: ignore[arg-type]
