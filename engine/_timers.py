"""The jobs that need no plugin: advancing an instance, firing a wait, and an overdue task.

Each runs in one transaction: lock the instance, complete the job (fenced), change the rows,
move the tokens on. A job for an instance that is no longer running, or for a step that has
moved on (a task completed before its due time), completes and does nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine._advance import child_branch, event
from engine._jobs import Discarded
from engine._queue import ClaimedJob
from engine._tables import StepRun, Task, Token

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine._executor import AdvanceFailed, Runtime
    from engine._tables import Instance

__all__ = ["advance_job", "fire_timer", "task_due"]


def _begin(rt: Runtime, session: Session, job: ClaimedJob) -> Instance | None:
    """Lock the job's instance and complete the job; the instance if it is still running."""
    if job.instance_id is None:
        if not rt.queue.complete(session, job):
            raise Discarded
        return None
    instance = rt.lock(session, job.instance_id)
    if not rt.queue.complete(session, job):
        raise Discarded
    return instance if instance.state == "running" else None


def advance_job(rt: Runtime, job: ClaimedJob) -> None:
    """Move an instance's tokens on (after a start, a completed task or a retried incident)."""

    def work(session: Session, failure: AdvanceFailed | None) -> None:
        instance = _begin(rt, session, job)
        if instance is not None:
            flow, case = rt.case(session, instance)
            rt.advance(session, instance, flow, case, failure=failure)

    rt.transact(work)


def fire_timer(rt: Runtime, job: ClaimedJob) -> None:
    """A wait step's time has come: finish its step run and move its token on."""

    def work(session: Session, failure: AdvanceFailed | None) -> None:
        instance = _begin(rt, session, job)
        run = session.get(StepRun, job.step_run_id) if job.step_run_id is not None else None
        if instance is None or run is None or run.state != "running":
            return
        now = rt.clock()
        run.state = "succeeded"
        run.finished_at = now
        event(session, instance.id, "timer_fired", now, run.step, step_run=run.id)
        flow, case = rt.case(session, instance)
        rt.advance(session, instance, flow, case, finished=run, failure=failure)

    rt.transact(work)


def task_due(rt: Runtime, job: ClaimedJob) -> None:
    """A task is overdue: mark it escalated and start its ``on_overdue`` step on a new token.

    The task stays open: whoever has it can still complete it, and the workflow carries on
    from the task step as usual when they do.
    """

    def work(session: Session, failure: AdvanceFailed | None) -> None:
        instance = _begin(rt, session, job)
        task = session.get(Task, job.task_id) if job.task_id is not None else None
        if instance is None or task is None or task.state not in ("open", "claimed"):
            return
        if task.escalated_at is not None:
            return
        now = rt.clock()
        task.escalated_at = now
        event(session, instance.id, "task_overdue", now, task.step, task=task.id)
        flow, case = rt.case(session, instance)
        spec = flow.steps[task.step].task
        target = spec.on_overdue if spec is not None else None
        if target is not None:
            run = session.get(StepRun, task.step_run_id) if task.step_run_id is not None else None
            token = session.get(Token, run.token_id) if run is not None and run.token_id is not None else None
            visit = run.visit if run is not None else 1
            branch = child_branch(token.branch if token is not None else "", f"{task.step}!overdue.{visit}")
            session.add(
                Token(
                    instance_id=instance.id,
                    step=target,
                    branch=branch,
                    state="active",
                    visit=0,
                    created_at=now,
                )
            )
            event(session, instance.id, "route", now, task.step, edge=f"{task.step}#overdue", to=target)
        rt.advance(session, instance, flow, case, failure=failure)

    rt.transact(work)
