"""The supervisor inbox's reads: which tasks a user may see, and everything a task page shows.

Access follows one rule, checked here on the server for every request: a user sees a task when
they hold its role in its department. A task of a department where the user holds no role at
all does not exist for them (404: even its existence must not leak across departments); a task
of their department for a role they lack is refused (403).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from engine._audit import deny
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._principal import Principal
from engine._tables import Department, Instance, Submission, Task
from engine._web_inbox_case import (
    AnswerRow,
    HistoryEntry,
    Section,
    answer_sections,
    case_rows,
    format_when,
    history,
    user_names,
)
from forms import Form, Text

__all__ = ["InboxRow", "TaskView", "inbox_rows", "load_task", "task_view"]

NOT_FOUND = "There is no task at this address, or it is not for your department."


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One task in the inbox list."""

    id: str
    title: str
    form_title: Text
    department: str
    age: str
    due: str
    overdue: bool
    state: str
    mine: bool
    claimed_by: str | None


@dataclass(frozen=True, slots=True)
class TaskView:
    """Everything the task page shows (the task form itself is rendered by the route)."""

    row: InboxRow
    task: Task
    form: Form
    reference: str | None
    received: str
    submitted_by: str | None
    submission_title: Text | None
    sections: list[Section]
    history: list[HistoryEntry]
    case: list[AnswerRow]
    completed_by: str | None
    completed: str


def age(created: dt.datetime, now: dt.datetime) -> str:
    """How long ago ``created`` was, roughly, in words: ``3 hours``, ``2 days``."""
    seconds = max(int((now - created).total_seconds()), 0)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def _departments(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    found = session.execute(select(Department.id, Department.title).where(Department.id.in_(ids)))
    return {str(ident): str(title) for ident, title in found}


def _row(
    task: Task,
    store: DefinitionStore,
    principal: Principal,
    names: Mapping[str, str],
    depts: Mapping[str, str],
    now: dt.datetime,
) -> InboxRow:
    holder = task.claimed_by
    return InboxRow(
        id=task.id,
        title=task.title,
        form_title=store.form(task.form_definition_id).title,
        department=depts.get(task.department_id, task.department_id),
        age=age(task.created_at, now),
        due=format_when(task.due_at),
        overdue=task.due_at is not None and task.due_at <= now and task.state in ("open", "claimed"),
        state=task.state,
        mine=holder == principal.user_id,
        claimed_by=None if holder is None else names.get(holder, "a former user"),
    )


def inbox_rows(session: Session, runtime: Runtime, principal: Principal) -> list[InboxRow]:
    """Open and claimed tasks of every department where ``principal`` holds a role, for those
    roles: oldest first (the order they should be worked in)."""
    tasks: list[Task] = []
    for department in sorted({d for d, _ in principal.roles}):
        roles = sorted(principal.roles_in(department))
        tasks.extend(runtime.list_tasks(session, department=department, roles=roles))
    tasks.sort(key=lambda t: (t.created_at, t.id))
    names = user_names(session, (t.claimed_by for t in tasks))
    depts = _departments(session, {t.department_id for t in tasks})
    now = runtime.clock()
    return [_row(t, runtime.store, principal, names, depts, now) for t in tasks]


def load_task(session: Session, principal: Principal, task_id: str, db: Any, request: HTTPConnection) -> Task:
    """The task ``task_id`` if ``principal`` may see it: 404 without any role in its department
    (or when there is no such task), 403 without its role. A refusal of a task that exists is
    audited (``db`` is the Database)."""
    task = session.get(Task, task_id) if len(task_id) <= 36 else None
    if task is None:
        raise HTTPException(404, NOT_FOUND)
    if not principal.roles_in(task.department_id):
        deny(db, session, request, record_type="task", record_id=task.id, reason="other_department")
        raise HTTPException(404, NOT_FOUND)
    if task.role not in principal.roles_in(task.department_id):
        deny(db, session, request, record_type="task", record_id=task.id, reason="role_not_held")
        raise HTTPException(403, f"This task is for the {task.role} role, which you do not hold.")
    return task


def task_view(session: Session, runtime: Runtime, principal: Principal, task: Task) -> TaskView:
    """The case around ``task``: the submission's answers, the history and the case data."""
    store = runtime.store
    instance = session.get(Instance, task.instance_id)
    submission = (
        session.get(Submission, instance.submission_id)
        if instance is not None and instance.submission_id is not None
        else None
    )
    people = [task.claimed_by, task.completed_by, submission.submitted_by if submission else None]
    names = user_names(session, people)
    depts = _departments(session, {task.department_id})
    row = _row(task, store, principal, names, depts, runtime.clock())
    sections: list[Section] = []
    submission_title: Text | None = None
    if submission is not None:
        submitted_form = store.form(submission.definition_id)
        submission_title = submitted_form.title
        answers: dict[str, Any] = dict(submission.answers or {})
        sections = answer_sections(submitted_form, answers)
    return TaskView(
        row=row,
        task=task,
        form=store.form(task.form_definition_id),
        reference=submission.reference if submission else None,
        received=format_when(submission.received_at) if submission else "",
        submitted_by=names.get(submission.submitted_by or "") if submission else None,
        submission_title=submission_title,
        sections=sections,
        history=history(session, task.instance_id),
        case=case_rows(session, task.instance_id),
        completed_by=names.get(task.completed_by or ""),
        completed=format_when(task.completed_at),
    )
