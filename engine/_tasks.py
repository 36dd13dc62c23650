"""Human tasks: the inbox of a role, claim, release and complete.

A task is created by a task step (:mod:`engine._advance`) for a role in a department, with the
task form pinned to the version the workflow was checked against. A person who holds the role
claims it (exactly one of two people claiming at once wins: the claim is a conditional
``UPDATE ... WHERE state = 'open'``), may release it back to the inbox, and completes it with
answers validated by the task form like any submission. Completing stores the answers as the
task's result and as case data named after the step, and moves the instance on, in one
transaction with the instance lock.

States: ``open`` -> ``claimed`` -> ``completed``; ``claimed`` -> ``open`` on release. An overdue
task keeps its state (``escalated_at`` records when it fell due).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from engine._advance import event
from engine._casedata import CaseData, set_value
from engine._incidents import NotFound, TaskConflict, TaskForbidden
from engine._tables import StepRun, Task, Token, UserRole
from forms import ValidationResult

if TYPE_CHECKING:
    from engine._executor import Runtime

__all__ = ["claim_task", "complete_task", "list_tasks", "release_task"]


def list_tasks(
    session: Session, *, department: str, roles: Sequence[str], states: Sequence[str] = ("open", "claimed")
) -> list[Task]:
    """The tasks of ``department`` for any of ``roles`` in ``states``, oldest first."""
    if isinstance(roles, str) or isinstance(states, str):
        raise TypeError("roles and states are sequences of names, not one string")
    query = (
        select(Task)
        .where(Task.department_id == department, Task.role.in_(list(roles)), Task.state.in_(list(states)))
        .order_by(Task.created_at, Task.id)
    )
    return list(session.scalars(query))


def _task(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id}")
    return task


def _state(session: Session, task_id: str) -> tuple[str, str | None]:
    row = session.execute(select(Task.state, Task.claimed_by).where(Task.id == task_id)).one()
    return str(row[0]), row[1]


def _changed(session: Session, statement: Any) -> bool:
    result = cast(CursorResult[Any], session.execute(statement.execution_options(synchronize_session=False)))
    return result.rowcount == 1


def claim_task(rt: Runtime, session: Session, task_id: str, user_id: str) -> None:
    """Claim an open task for ``user_id``, who must hold its role in its department.

    Claiming a task one already holds does nothing. Raises TaskConflict when another user has
    it or it is finished, TaskForbidden without the role, NotFound for an unknown task.
    """
    task = _task(session, task_id)
    held = session.scalar(
        select(UserRole.role).where(
            UserRole.user_id == user_id,
            UserRole.department_id == task.department_id,
            UserRole.role == task.role,
        )
    )
    if held is None:
        raise TaskForbidden(f"user {user_id} does not hold role '{task.role}' in '{task.department_id}'")
    now = rt.clock()
    claim = (
        update(Task)
        .where(Task.id == task_id, Task.state == "open")
        .values(state="claimed", claimed_by=user_id, claimed_at=now)
    )
    if _changed(session, claim):
        event(session, task.instance_id, "task_claimed", now, task.step, task=task_id, by=user_id)
        return
    state, holder = _state(session, task_id)
    if state == "claimed" and holder == user_id:
        return
    if state == "claimed":
        raise TaskConflict("the task has been claimed by someone else")
    raise TaskConflict(f"the task is {state}")


def release_task(rt: Runtime, session: Session, task_id: str, user_id: str) -> None:
    """Give back a task ``user_id`` has claimed; it is open to the role again."""
    task = _task(session, task_id)
    release = (
        update(Task)
        .where(Task.id == task_id, Task.state == "claimed", Task.claimed_by == user_id)
        .values(state="open", claimed_by=None, claimed_at=None)
    )
    if not _changed(session, release):
        state, _ = _state(session, task_id)
        raise TaskConflict(f"the task is {state}, and not claimed by user {user_id}")
    event(session, task.instance_id, "task_released", rt.clock(), task.step, task=task_id, by=user_id)


def complete_task(
    rt: Runtime,
    session: Session,
    task_id: str,
    user_id: str,
    answers: Mapping[str, Any],
    *,
    coerce: bool = False,
) -> ValidationResult:
    """Complete a task ``user_id`` has claimed with ``answers`` (validated by the task's form).

    Invalid answers change nothing: the result lists the errors. Valid ones become the task's
    result and case value ``<step>``, and an ``advance`` job moves the instance on, all in one
    transaction under the instance lock. Raises TaskConflict unless the user holds the claim.
    """
    task = _task(session, task_id)
    if task.state != "claimed" or task.claimed_by != user_id:
        raise TaskConflict(
            "the task is completed already"
            if task.state == "completed"
            else "claim the task before completing it"
        )
    now = rt.clock()
    result = rt.store.form(task.form_definition_id).validate(answers, coerce=coerce, now=now)
    if not result.ok:
        return result
    instance = rt.lock(session, task.instance_id)
    if instance.state != "running":
        raise TaskConflict(f"the workflow is {instance.state}")
    stored = result.to_json()
    complete = (
        update(Task)
        .where(Task.id == task_id, Task.state == "claimed", Task.claimed_by == user_id)
        .values(state="completed", result=stored, completed_by=user_id, completed_at=now)
    )
    if not _changed(session, complete):
        raise TaskConflict("the task changed while it was being completed")
    run = session.get(StepRun, task.step_run_id) if task.step_run_id is not None else None
    if run is not None:
        run.state = "succeeded"
        run.outputs = stored
        run.finished_at = now
        token = session.get(Token, run.token_id) if run.token_id is not None else None
        if token is not None and token.state == "waiting" and token.step == task.step:
            token.state = "leaving"
    set_value(
        session,
        CaseData({}, {}),
        instance.id,
        task.step,
        stored,
        loaded=False,
        step_run_id=run.id if run is not None else None,
        updated_at=now,
    )
    event(session, instance.id, "task_completed", now, task.step, task=task_id, by=user_id)
    rt.queue.enqueue(session, "advance", instance_id=instance.id)
    return result
