"""The Waypost side of the ``workflow`` suite: a no-op plugin, the department, the worker processes.

The flow under test is 5 steps: ``triage`` (a decide), three ``call`` steps of :class:`NoopPlugin`
(in-process, no network, so the figures measure the engine's durable bookkeeping: claiming a job,
locking the instance, recording the step run, routing, enqueueing the next job) and ``done``.

Worker processes are ``python -m bench._workflow_support URL --lease S ...``: a :class:`engine.Worker`
with the no-op plugin registered directly (the ``waypost worker`` command only loads plugins from
entry points). A worker prints ``ready`` once its runtime is built, then waits for a line on its
standard input before it claims anything, so process start-up is not timed.

The kill test's workflow (``kill``) ends with a call that hangs on its first attempt: the plugin
writes a marker file named after the step's idempotency key (holding its process id) and sleeps;
when the marker already exists (the call is being repeated by another worker) it returns at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from engine._database import Database
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._queue import JobQueue
from engine._registry import PluginRegistry
from engine._tables import Instance
from engine._worker import Worker
from engine.plugins import RetryPolicy, StepContext

STEPS = 5
"""Steps per instance: triage, c1, c2, c3, done (the same count is used for SpiffWorkflow)."""

MARKER_ENV = "WAYPOST_BENCH_MARKERS"
"""The environment variable naming the folder of the kill test's marker files."""

DEPARTMENT = "department: bench\ntitle: Benchmark\nroles:\n  officer: {title: Police officer}\n"

FORM = """\
form: {name}
title: Benchmark form
pages:
  - id: main
    title: Main
    fields:
      - {{id: score, type: integer, label: Score, required: true}}
"""

FLOW = """\
workflow: {name}
title: Five steps
on: {{submitted: {form}}}
steps:
  triage:
    decide:
      - {{when: "score < 0", goto: done}}
      - {{goto: c1}}
  c1: {{call: bench_noop, with: {{n: 1}}, next: c2}}
  c2: {{call: bench_noop, with: {{n: 2}}, next: c3}}
  c3: {{call: bench_noop, with: {{n: 3, hang: {hang}}}, next: done}}
  done: {{end: true}}
"""


class NoopPlugin:
    """A step plugin that does nothing (or, for the kill test, hangs once): the engine is measured."""

    name = "bench_noop"
    idempotent = True
    retry = RetryPolicy(attempts=3, initial=0.1, max_delay=1.0)
    config_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    input_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    output_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {"ok": {"type": "boolean"}}}

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Return ``{"ok": true}``; with ``hang`` set, the first attempt of a key hangs instead."""
        folder = os.environ.get(MARKER_ENV)
        if inputs.get("hang") and folder:
            marker = Path(folder) / ctx.idempotency_key.replace(":", "_")
            if not marker.exists():
                marker.write_text(str(os.getpid()), encoding="utf-8")
                await asyncio.sleep(3600)  # killed (SIGKILL) long before this ends
        return {"ok": True}


def write_department(folder: Path) -> Path:
    """The benchmark department: form ``bench`` starts ``five``, form ``bench_kill`` starts ``kill``."""
    (folder / "forms").mkdir(parents=True, exist_ok=True)
    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    (folder / "department.yaml").write_text(DEPARTMENT, encoding="utf-8")
    for form, flow, hang in (("bench", "five", "false"), ("bench_kill", "kill", "true")):
        (folder / "forms" / f"{form}.yaml").write_text(FORM.format(name=form), encoding="utf-8")
        text = FLOW.format(name=flow, form=form, hang=hang)
        (folder / "workflows" / f"{flow}.yaml").write_text(text, encoding="utf-8")
    return folder


def runtime(url: str, *, lease: float = 30.0, poll: float = 1.0) -> Runtime:
    """A Runtime over ``url`` with the no-op plugin registered."""
    registry = PluginRegistry()
    registry.register(NoopPlugin())
    db = Database(url)
    store = DefinitionStore(db, registry.specs())
    return Runtime(db, JobQueue(db, lease_seconds=lease, poll_interval=poll), store, registry)


def publish(rt: Runtime, folder: Path) -> None:
    """Store the department's definitions (done once, by the parent, before workers start)."""
    from engine._folder import find_departments

    for found in find_departments(folder):
        with rt.db.session() as session:
            rt.store.publish(session, found)


def submit(rt: Runtime, count: int, form: str = "bench") -> list[str]:
    """Submit ``count`` answers to ``form``, 100 per transaction; the started instance ids."""
    ids: list[str] = []
    for start in range(0, count, 100):
        with rt.db.session() as session:
            for n in range(start, min(start + 100, count)):
                ids.extend(rt.submit(session, "bench", form, {"score": n}).instance_ids)
    return ids


def states(rt: Runtime) -> dict[str, int]:
    """How many instances are in each state."""
    with rt.db.session(write=False) as session:
        rows = session.execute(select(Instance.state, func.count()).group_by(Instance.state)).all()
        return {str(state): int(count) for state, count in rows}


def state_of(rt: Runtime, instance_id: str) -> str | None:
    """The state of one instance (None if there is no such instance)."""
    with rt.db.session(write=False) as session:
        found = session.get(Instance, instance_id)
        return None if found is None else str(found.state)


def completed(rt: Runtime) -> int:
    """How many instances have completed."""
    return states(rt).get("completed", 0)


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh, migrated schema on the PostgreSQL at ``base_url``; yields its URL, drops it after."""
    import psycopg
    from psycopg import sql

    schema = f"bench_wf_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conninfo = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    url = (
        make_url(base_url)
        .update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
        .render_as_string(hide_password=False)
    )
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            db = Database(url)
            db.upgrade()
            db.dispose()
            yield url
        finally:
            # Connections a killed worker left behind would hold locks that block the drop.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def wait_until(check: Any, timeout: float, interval: float = 0.02) -> float:
    """Poll ``check()`` until true; the ``time.perf_counter()`` when it was seen true.

    Raises TimeoutError after ``timeout`` seconds.
    """
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not done after {timeout:g}s")
        time.sleep(interval)


def _worker_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._workflow_support")
    parser.add_argument("url")
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--reap", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    rt = runtime(args.url, lease=args.lease)
    worker = Worker(rt, concurrency=args.concurrency, reap_interval=args.reap, grace=1.0)
    print("ready", flush=True)
    sys.stdin.readline()  # "go": start claiming now
    try:
        worker.run_forever()
    finally:
        rt.queue.close()
        rt.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
