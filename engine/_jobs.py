"""Running one claimed job: dispatch by kind, and what happens when the work itself breaks.

=============  ==================================================================================
kind           what it does (each in one transaction under the instance lock, with the fenced
               completion of the job)
=============  ==================================================================================
``advance``    move the instance's tokens on (a new instance, a completed task, a retried
               incident)
``run_step``   call a plugin (outside any transaction), then record its outcome and move on
               (:mod:`engine._steps`)
``timer``      a ``wait`` step's time has come (:mod:`engine._timers`)
``task_due``   a task is overdue: mark it escalated and start its ``on_overdue`` step
=============  ==================================================================================

A job whose lease was lost (the worker stalled past its lease and another took the job) has its
transaction rolled back: the other worker's result is the one that counts. A job that fails for
an unexpected reason (a bug, the database going away) is retried with backoff, and after
:data:`MAX_JOB_ATTEMPTS` claims becomes an incident, so nothing loops for ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from engine._database import LeaseLost
from engine._queue import ClaimedJob
from engine._tables import Incident, StepRun
from workflows import RetryPolicy

if TYPE_CHECKING:
    from engine._executor import Runtime

__all__ = ["MAX_JOB_ATTEMPTS", "Discarded", "run_job"]

log = logging.getLogger("waypost.executor")

MAX_JOB_ATTEMPTS = 8
"""Claims of one job that failed unexpectedly before it is given up as an incident."""

_JOB_RETRY = RetryPolicy(attempts=MAX_JOB_ATTEMPTS, initial=1.0, max_delay=300.0)


class Discarded(Exception):
    """The job's lease was lost: roll back, the job belongs to another worker now."""


async def run_job(rt: Runtime, job: ClaimedJob) -> None:
    """Do one claimed job; failures of the work are recorded, never raised."""
    from engine import _steps, _timers

    handlers: dict[str, Callable[[Runtime, ClaimedJob], None]] = {
        "advance": _timers.advance_job,
        "timer": _timers.fire_timer,
        "task_due": _timers.task_due,
    }
    try:
        if job.kind == "run_step":
            await _steps.run_step(rt, job)
        elif job.kind in handlers:
            await asyncio.to_thread(handlers[job.kind], rt, job)
        else:
            await asyncio.to_thread(_kill, rt, job, f"unknown job kind '{job.kind}'")
    except (Discarded, LeaseLost):
        log.info("job %s (%s): lease lost, result discarded", job.id, job.kind)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("job %s (%s) failed", job.id, job.kind)
        try:
            await asyncio.to_thread(_failed, rt, job, exc)
        except Exception:
            # The database may be down; the lease runs out and the job is claimed again later.
            log.exception("job %s (%s): could not record the failure", job.id, job.kind)


def _failed(rt: Runtime, job: ClaimedJob, exc: BaseException) -> None:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    now = rt.clock()
    with rt.db.session() as session:
        if job.attempts < MAX_JOB_ATTEMPTS:
            due = now + timedelta(seconds=_JOB_RETRY.delay(job.attempts, rt.rand))
            if not rt.queue.retry_later(session, job, due_at=due, error=error):
                raise Discarded
            return
        if not rt.queue.kill(session, job, error=error):
            raise Discarded
        if job.instance_id is not None:
            step = ""
            if job.step_run_id is not None:
                run = session.get(StepRun, job.step_run_id)
                step = run.step if run is not None else ""
            session.add(
                Incident(
                    instance_id=job.instance_id,
                    step_run_id=job.step_run_id,
                    step=step,
                    error=f"{job.kind} job failed {job.attempts} times: {error}",
                    created_at=now,
                )
            )


def _kill(rt: Runtime, job: ClaimedJob, error: str) -> None:
    with rt.db.session() as session:
        if not rt.queue.kill(session, job, error=error):
            raise Discarded
