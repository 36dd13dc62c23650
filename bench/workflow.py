"""Suite ``workflow``: durable workflow steps per second against SpiffWorkflow in memory.

Target (DESIGN.md section 8): Waypost's durable steps/s on PostgreSQL at least 1.0x SpiffWorkflow
running the same flow in memory. The flow is 5 steps (a decide, three calls of a no-op in-process
plugin, an end; ``bench/data/five_steps.bpmn`` is the BPMN twin: an exclusive gateway, three
script tasks, an end event). steps/s = instances x 5 / wall-clock seconds.

Waypost runs on SQLite with one in-process :class:`engine.Worker`, and on PostgreSQL (a fresh
schema, created and dropped here) with 1, 2 and 4 worker processes. Instances are submitted
before the clock starts and workers are started and ready before it starts; the clock stops when
the last instance is seen completed. The clock is the wall clock, not CPU time: the work is spread
over processes and the database server.

The suite also kills (SIGKILL) a worker process while a call is in flight and times how long until
another worker has completed that step: that is lease expiry plus the reaper's interval.

SpiffWorkflow is optional: it is installed for benchmarks only (``make bench``). Without it, the
Waypost figures are still measured and the comparison is reported as not measured.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy.exc

from bench import _workflow_support as support
from bench._report import BenchError, Column, Config, SuiteResult, Target
from engine._worker import Worker

GOAL = 1.0
POSTGRES_URL = os.environ.get("WAYPOST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BPMN = Path(__file__).parent / "data" / "five_steps.bpmn"
PROCESS_COUNTS = (1, 2, 4)
CONCURRENCY = 8  # jobs at a time per worker process
LEASE = 2.0  # seconds: the lease of the kill test's workers
REAP = 0.5  # seconds between the reaper's looks for expired leases

COLUMNS = (
    Column("name", "run"),
    Column("instances", "instances"),
    Column("seconds", "seconds", ".2f"),
    Column("steps_per_s", "steps/s", ".0f"),
    Column("vs_spiff", "vs Spiff", ".2f"),
)


def spiff_available() -> bool:
    """True when SpiffWorkflow can be imported (it is a benchmark-only install)."""
    return importlib.util.find_spec("SpiffWorkflow") is not None


def run_spiff(instances: int) -> float:
    """Seconds for SpiffWorkflow to run ``instances`` of the BPMN flow to completion, in memory.

    Raises BenchError if an instance does not complete or skips a task.
    """
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser  # type: ignore[import-untyped]
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # type: ignore[import-untyped]

    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec("five_steps")
    started = time.perf_counter()
    for n in range(instances):
        flow = BpmnWorkflow(spec)
        flow.task_tree.data["score"] = n
        flow.do_engine_steps()
        if not flow.is_completed() or "c3" not in flow.data:
            raise BenchError(f"SpiffWorkflow instance {n} did not run every task: {flow.data}")
    return time.perf_counter() - started


def run_sqlite(instances: int, folder: Path, *, concurrency: int = 4) -> tuple[float, dict[str, int]]:
    """Seconds for one in-process worker to complete ``instances`` on a new SQLite file, and the
    instance states at the end (every instance should be ``completed``)."""
    with tempfile.TemporaryDirectory(prefix="waypost-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        rt = support.runtime(url, poll=0.05)
        try:
            rt.db.upgrade()
            support.publish(rt, folder)
            support.submit(rt, instances)
            seconds = asyncio.run(_drain_in_process(rt, instances, concurrency))
            return seconds, support.states(rt)
        finally:
            rt.queue.close()
            rt.db.dispose()


async def _drain_in_process(rt: Any, instances: int, concurrency: int) -> float:
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=concurrency * 2 + 4))
    stop = asyncio.Event()
    worker = Worker(rt, concurrency=concurrency, grace=1.0)
    started = time.perf_counter()
    running = asyncio.create_task(worker.run(stop))
    deadline = started + 600
    while await asyncio.to_thread(support.completed, rt) < instances:
        if running.done() or time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.02)
    seconds = time.perf_counter() - started
    stop.set()
    await running
    return seconds


class Workers:
    """Benchmark worker processes over one database URL (see :mod:`bench._workflow_support`)."""

    def __init__(self, url: str, markers: Path) -> None:
        self.url = url
        self.env = {**os.environ, support.MARKER_ENV: str(markers), "PYTHONUNBUFFERED": "1"}
        self.logs = markers
        self.started: list[Path] = []
        self.procs: list[subprocess.Popen[str]] = []

    def start(
        self, count: int, *, lease: float = 30.0, reap: float = 5.0, concurrency: int = CONCURRENCY
    ) -> None:
        """Start ``count`` workers and wait until each is ready (not yet claiming)."""
        options = ["--lease", str(lease), "--reap", str(reap), "--concurrency", str(concurrency)]
        for _ in range(count):
            log = self.logs / f"worker-{len(self.procs)}-{time.monotonic_ns()}.log"
            with log.open("w", encoding="utf-8") as stderr:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bench._workflow_support", self.url, *options],
                    env=self.env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                )
            self.procs.append(proc)
            self.started.append(log)
        for proc, log in zip(self.procs[-count:], self.started[-count:], strict=True):
            line = proc.stdout.readline() if proc.stdout else ""
            if line.strip() != "ready":
                proc.wait()
                tail = log.read_text(encoding="utf-8")[-2000:]
                raise BenchError(f"a benchmark worker failed to start (exit {proc.returncode}):\n{tail}")

    def go(self) -> None:
        """Let every worker start claiming jobs."""
        for proc in self.procs:
            if proc.stdin is not None and proc.poll() is None:
                proc.stdin.write("go\n")
                proc.stdin.flush()

    def stop(self) -> None:
        """SIGTERM every live worker and wait; SIGKILL any that does not stop in 30 seconds."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def run_postgres(url: str, instances: int, processes: int, markers: Path) -> tuple[float, dict[str, int]]:
    """Seconds for ``processes`` worker processes to complete ``instances`` more instances."""
    rt = support.runtime(url)
    workers = Workers(url, markers)
    try:
        before = support.completed(rt)
        workers.start(processes)
        support.submit(rt, instances)
        started = time.perf_counter()
        workers.go()
        done = support.wait_until(lambda: support.completed(rt) >= before + instances, 600, 0.05)
        states = support.states(rt)
        states["completed"] -= before
        return done - started, states
    finally:
        workers.stop()
        rt.queue.close()
        rt.db.dispose()


def kill_recovery(url: str, markers: Path) -> float:
    """Seconds from SIGKILL of the worker running a call to that step's completion by another.

    Two workers (lease :data:`LEASE`, reaper every :data:`REAP` seconds) run one ``kill`` instance,
    whose last call hangs on its first attempt; the worker that took it is killed.
    """
    rt = support.runtime(url)
    workers = Workers(url, markers)
    try:
        workers.start(2, lease=LEASE, reap=REAP, concurrency=2)
        workers.go()
        [instance] = support.submit(rt, 1, form="bench_kill")
        marker = markers / f"{instance}_c3_1"
        support.wait_until(marker.exists, 60, 0.01)
        time.sleep(0.05)  # let the marker's writer finish (it holds the pid)
        os.kill(int(marker.read_text(encoding="utf-8")), signal.SIGKILL)
        killed = time.perf_counter()
        done = support.wait_until(lambda: support.state_of(rt, instance) == "completed", 120, 0.01)
        return done - killed
    finally:
        workers.stop()
        rt.queue.close()
        rt.db.dispose()


def _check(name: str, states: dict[str, int], instances: int) -> None:
    if states.get("completed", 0) != instances:
        raise BenchError(f"{name}: {instances} instances expected to complete, states at the end: {states}")


def run(config: Config) -> SuiteResult:
    """The suite: SQLite, PostgreSQL with 1, 2 and 4 workers, SpiffWorkflow, and the kill test."""
    sqlite_n, pg_n, spiff_n = (10, 10, 10) if config.quick else (100, 200, 1000)
    result = SuiteResult("workflow", "durable 5-step workflow steps/s vs SpiffWorkflow in memory", COLUMNS)
    rows: list[dict[str, Any]] = []
    spiff_seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="waypost-bench-") as tmp:
        folder = support.write_department(Path(tmp) / "bench")
        markers = Path(tmp) / "markers"
        markers.mkdir()
        if spiff_available():
            spiff_seconds.append(run_spiff(spiff_n))
        seconds, states = run_sqlite(sqlite_n, folder)
        _check("SQLite", states, sqlite_n)
        rows.append(
            {"name": "Waypost SQLite, 1 in-process worker", "instances": sqlite_n, "seconds": seconds}
        )
        recovery: float | None = None
        try:
            with support.postgres_schema(POSTGRES_URL) as url:
                setup = support.runtime(url)
                support.publish(setup, folder)
                setup.db.dispose()
                for count in PROCESS_COUNTS:
                    seconds, states = run_postgres(url, pg_n, count, markers)
                    _check(f"PostgreSQL x{count}", states, pg_n)
                    rows.append(
                        {
                            "name": f"Waypost PostgreSQL, {count} worker process{'es' if count > 1 else ''}",
                            "instances": pg_n,
                            "seconds": seconds,
                        }
                    )
                recovery = kill_recovery(url, markers)
        except (OSError, psycopg.OperationalError, sqlalchemy.exc.OperationalError) as exc:
            result.notes.append(f"PostgreSQL not measured: {exc}")
        if spiff_available():
            spiff_seconds.append(run_spiff(spiff_n))
    spiff_rate = spiff_n * support.STEPS / min(spiff_seconds) if spiff_seconds else None
    for row in rows:
        row["steps_per_s"] = row["instances"] * support.STEPS / row["seconds"]
        row["vs_spiff"] = row["steps_per_s"] / spiff_rate if spiff_rate else None
    if spiff_rate:
        rows.append(
            {
                "name": "SpiffWorkflow in memory (best of 2)",
                "instances": spiff_n,
                "seconds": min(spiff_seconds),
                "steps_per_s": spiff_rate,
                "vs_spiff": 1.0,
            }
        )
    result.rows = rows
    _targets(result, rows, spiff_rate, recovery)
    return result


def _targets(
    result: SuiteResult, rows: list[dict[str, Any]], spiff: float | None, recovery: float | None
) -> None:
    pg = [row for row in rows if "PostgreSQL" in row["name"]]
    if spiff and pg:
        best = max(pg, key=lambda row: row["steps_per_s"])
        result.targets.append(
            Target(
                "PostgreSQL durable steps/s vs SpiffWorkflow in memory",
                f">= {GOAL:.1f}x",
                best["vs_spiff"],
                "x",
                best["vs_spiff"] >= GOAL,
                f"best of {len(pg)} worker counts ({best['name']})",
            )
        )
    elif not spiff:
        result.notes.append("SpiffWorkflow is not installed: the comparison was not measured")
    if recovery is not None:
        result.extra["kill_recovery_seconds"] = recovery
        result.extra["lease_seconds"] = LEASE
        result.extra["reap_interval_seconds"] = REAP
        result.notes.append(
            f"SIGKILL of a worker mid-call -> step completed by another worker: {recovery:.2f}s "
            f"(lease {LEASE:g}s, heartbeat every {LEASE / 3:.2f}s, reaper every {REAP:g}s)"
        )
    result.notes.append(
        "wall clock; instances submitted and workers started before the clock starts; "
        f"{CONCURRENCY} jobs at a time per worker process"
    )
