"""Workers as separate OS processes (`waypost worker`), calling a real back-end over loopback.

These tests start the worker command in subprocesses against the test database and the
:class:`~tests.engine.fakes.FakeBackend`, with the built-in ``http`` plugin sending each step's
idempotency key as the ``Idempotency-Key`` header:

* 4 workers share 1,000 instances of a 5-step workflow on PostgreSQL: every instance completes
  and every side effect is applied exactly once;
* a worker killed with SIGKILL in the middle of a call: after its lease expires another worker
  runs the step again with the same key; the back-end applies it once;
* SIGTERM stops a worker gracefully: the call in flight is given back and finished by the next.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine._database import Database
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._queue import JobQueue
from engine._registry import PluginRegistry
from engine._tables import Incident, Instance, Job
from tests.engine.fakes import DEPARTMENT_WITH_BACKEND, FakeBackend, department

STEPS = 5
FLOW = (
    "workflow: five\ntitle: Five calls\non: {submitted: concern}\nsteps:\n"
    + "".join(
        f"  s{n}:\n    call: http\n    connection: backend\n"
        f'    with: {{method: POST, path: /s{n}, body: {{name: "{{{{ full_name }}}}", step: {n}}}}}\n'
        f"    next: {'s' + str(n + 1) if n < STEPS else 'done'}\n"
        for n in range(1, STEPS + 1)
    )
    + "  done: {end: true}\n"
)


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return department(tmp_path / "ppu", {"five": FLOW}, department_yaml=DEPARTMENT_WITH_BACKEND)


class Workers:
    """`waypost worker` subprocesses over one database; all are stopped when the test ends."""

    def __init__(self, url: str, folder: Path, backend: FakeBackend, tmp_path: Path) -> None:
        self.url = url
        self.folder = folder
        self.env = {**os.environ, "BACKEND_URL": backend.url, "PYTHONUNBUFFERED": "1"}
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *options: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / f"worker-{len(self.procs)}.log").open("wb") as log:
            command = ["worker", str(self.folder), "--database", self.url, *options]
            proc = subprocess.Popen(
                [sys.executable, "-m", "engine._cli_runtime", *command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self) -> list[int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return [proc.wait(timeout=60) for proc in self.procs]


@pytest.fixture
def workers(
    request: pytest.FixtureRequest, folder: Path, backend: FakeBackend, tmp_path: Path
) -> Iterator[Workers]:
    db: Database = request.getfixturevalue("pg_db" if "pg_db" in request.fixturenames else "db")
    group = Workers(db.url, folder, backend, tmp_path)
    yield group
    for proc in group.procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def runtime(db: Database, folder: Path) -> Runtime:
    registry = PluginRegistry.from_entry_points()
    store = DefinitionStore(Database(db.url), registry.specs())
    with store.db.session() as session:
        store.publish(session, folder)
    return Runtime(store.db, JobQueue(store.db), store, registry)


def submit(rt: Runtime, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 100):
        with rt.db.session() as session:
            for n in range(start, min(start + 100, count)):
                result = rt.submit(session, "ppu", "concern", {"full_name": f"Person {n}"})
                ids.extend(result.instance_ids)
    return ids


def wait_for(check: object, timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n--- worker logs ---\n{workers.logs()[-6000:]}")
        time.sleep(0.2)


def states(rt: Runtime) -> dict[str, int]:
    with rt.db.session(write=False) as session:
        return dict(session.execute(select(Instance.state, func.count()).group_by(Instance.state)).all())


@pytest.mark.slow
def test_four_worker_processes_complete_a_thousand_instances_exactly_once(
    pg_db: Database, folder: Path, backend: FakeBackend, workers: Workers
) -> None:
    """1,000 instances x 5 steps over 4 processes: all complete; each key's effect applied once."""
    rt = runtime(pg_db, folder)
    ids = submit(rt, 1000)
    started = time.monotonic()
    for _ in range(4):
        workers.start("--concurrency", "8")
    wait_for(lambda: states(rt).get("completed", 0) == 1000, 170, "1,000 completed instances", workers)
    elapsed = time.monotonic() - started
    assert workers.stop_all() == [0, 0, 0, 0]
    expected = {f"{iid}:s{n}:1" for iid in ids for n in range(1, STEPS + 1)}
    assert set(backend.applied) == expected
    assert set(backend.applied.values()) == {1}
    with rt.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert session.scalar(select(func.count()).select_from(Job).where(Job.state != "done")) == 0
    print(f"1,000 instances x {STEPS} steps on 4 worker processes: {elapsed:.1f}s")
    rt.queue.close()
    rt.db.dispose()


def test_a_killed_worker_is_replaced_without_duplicate_effects(
    db: Database, folder: Path, backend: FakeBackend, workers: Workers
) -> None:
    """SIGKILL mid-call: after the lease runs out another worker repeats the call with the same key."""
    backend.slow["/s3"] = 60.0
    rt = runtime(db, folder)
    [iid] = submit(rt, 1)
    key = f"{iid}:s3:1"
    doomed = workers.start("--concurrency", "2", "--lease", "2")
    wait_for(lambda: backend.seen[key] == 1, 60, "the call of s3 to start", workers)
    doomed.send_signal(signal.SIGKILL)
    assert doomed.wait(timeout=30) == -signal.SIGKILL
    workers.start("--concurrency", "2", "--lease", "2")
    wait_for(lambda: states(rt).get("completed") == 1, 60, "the instance to complete", workers)
    assert backend.seen[key] == 2
    assert backend.applied[key] == 1
    assert set(backend.applied.values()) == {1}
    assert len(backend.applied) == STEPS
    with rt.db.session(write=False) as session:
        job = session.scalars(select(Job).where(Job.kind == "run_step").order_by(Job.id).offset(2)).first()
        assert job is not None
        assert job.attempts == 2
        assert "lease expired" in (job.last_error or "")
    assert workers.stop_all()[-1] == 0
    rt.queue.close()
    rt.db.dispose()


def test_sigterm_stops_a_worker_gracefully(
    db: Database, folder: Path, backend: FakeBackend, workers: Workers
) -> None:
    """SIGTERM: the worker stops claiming, gives the hanging call back, and exits 0; the next finishes it."""
    backend.slow["/s2"] = 60.0
    rt = runtime(db, folder)
    [iid] = submit(rt, 1)
    first = workers.start("--grace", "0.5")
    wait_for(lambda: backend.seen[f"{iid}:s2:1"] == 1, 60, "the call of s2 to start", workers)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    with rt.db.session(write=False) as session:
        job = session.scalars(select(Job).where(Job.kind == "run_step", Job.state != "done")).one()
    assert (job.state, job.last_error) == ("ready", "the worker stopped during the call")
    workers.start()
    wait_for(lambda: states(rt).get("completed") == 1, 60, "the instance to complete", workers)
    assert backend.applied[f"{iid}:s2:1"] == 1
    assert "stopped after" in workers.logs()
    assert workers.stop_all()[-1] == 0
    rt.queue.close()
    rt.db.dispose()
