"""``/api/v1/tasks``: the inbox of the caller's roles, one task with its case, claim, release, complete.

A task is visible to whoever holds its role in its department; to anyone else it does not exist
(404). Claiming is first come, first served: of two people claiming at once exactly one wins, the
other gets 409. Only the holder of a claim can release or complete it; completing validates the
answers (strict JSON) with the task's form version and moves the workflow on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine._api_common import ApiError, api_user, body_field, endpoint, read_json, storage
from engine._api_forms import definition_json
from engine._api_submissions import answer_errors
from engine._audit import deny, record, record_now, request_detail, task_target
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._incidents import NotFound, TaskConflict, TaskForbidden
from engine._principal import Principal
from engine._tables import Instance, Submission, Task

__all__ = ["claim_task", "complete_task", "get_task", "list_tasks", "release_task"]

_NO_STORE = {"Cache-Control": "no-store"}


def _summary(
    task: Task, store: DefinitionStore, principal: Principal, submission: Submission | None
) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "department": task.department_id,
        "role": task.role,
        "step": task.step,
        "state": task.state,
        "claimed_by_me": task.claimed_by == principal.user_id,
        "claimed": task.claimed_by is not None,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "form": {"name": store.form(task.form_definition_id).id, "definition_id": task.form_definition_id},
        "submission": (
            {"id": submission.id, "reference": submission.reference, "form": submission.form_name}
            if submission is not None
            else None
        ),
    }


def _submission_of(session: Session, task: Task) -> Submission | None:
    instance = session.get(Instance, task.instance_id)
    if instance is None or instance.submission_id is None:
        return None
    return session.get(Submission, instance.submission_id)


def _visible_task(session: Session, principal: Principal, task_id: str, request: Request) -> Task:
    task = session.get(Task, task_id) if len(task_id) <= 36 else None
    if task is None:
        raise ApiError(404, "not_found", "There is no task with that id in your inbox.")
    if not principal.has_role(task.role, task.department_id):
        db = storage(request)[0]
        deny(db, session, request, record_type="task", record_id=task.id, reason="role_not_held")
        raise ApiError(404, "not_found", "There is no task with that id in your inbox.")
    return task


@endpoint
async def list_tasks(request: Request) -> Response:
    """``GET /tasks``: open and claimed tasks for the roles the caller holds, oldest first."""
    principal = api_user(request)
    db, runtime, store = storage(request)

    def load() -> list[dict[str, Any]]:
        departments = sorted({d for d, _ in principal.roles})
        items: list[dict[str, Any]] = []
        with db.session(write=False) as session:
            for department in departments:
                roles = sorted(principal.roles_in(department))
                for task in runtime.list_tasks(session, department=department, roles=roles):
                    items.append(_summary(task, store, principal, _submission_of(session, task)))
        return items

    return JSONResponse({"items": await run_in_threadpool(load)}, headers=_NO_STORE)


@endpoint
async def get_task(request: Request) -> Response:
    """``GET /tasks/{id}``: a task, its form (the pinned version) and the answers of its case."""
    principal = api_user(request)
    db, _, store = storage(request)
    task_id = str(request.path_params["id"])

    def load() -> dict[str, Any]:
        with db.session(write=False) as session:
            task = _visible_task(session, principal, task_id, request)
            target = task_target(session, task)
            submission = _submission_of(session, task)
            body = _summary(task, store, principal, submission)
            form = store.form(task.form_definition_id)
            body["form"]["definition"] = definition_json(form)
            body["form"]["schema"] = form.json_schema()
            body["case"] = submission.answers if submission is not None else None
            body["result"] = task.result
        record_now(db, request, action="view", **target)  # the case's answers were read
        return body

    return JSONResponse(await run_in_threadpool(load), headers=_NO_STORE)


def _act(
    request: Request,
    principal: Principal,
    action: Callable[[Session, Runtime, Task], None],
) -> dict[str, Any]:
    db, runtime, store = storage(request)
    task_id = str(request.path_params["id"])
    seen = request_detail(request)
    try:
        with db.session() as session:
            task = _visible_task(session, principal, task_id, request)
            action(session, runtime, task)
            # The inner functions below are named after their audit action.
            record(
                session,
                actor=principal.user_id,
                action=action.__name__,
                record_type="task",
                record_id=task_id,
                detail=seen,
            )
    except NotFound:
        raise ApiError(404, "not_found", "There is no task with that id in your inbox.") from None
    except TaskForbidden as exc:
        record_now(db, request, action="denied", record_type="task", record_id=task_id, reason=str(exc))
        raise ApiError(403, "forbidden", str(exc)) from None
    except TaskConflict as exc:
        raise ApiError(409, "task_conflict", f"You cannot do that now: {exc}.") from None
    with db.session(write=False) as session:
        now = session.get(Task, task_id)
        if now is None:  # pragma: no cover - tasks are never deleted
            raise ApiError(404, "not_found", "There is no task with that id in your inbox.")
        return _summary(now, store, principal, _submission_of(session, now))


@endpoint
async def claim_task(request: Request) -> Response:
    """``POST /tasks/{id}/claim``: take the task (409 when someone else has it)."""
    principal = api_user(request, write=True)

    def claim(session: Session, runtime: Runtime, task: Task) -> None:
        runtime.claim_task(session, task.id, principal.user_id)

    return JSONResponse(await run_in_threadpool(_act, request, principal, claim), headers=_NO_STORE)


@endpoint
async def release_task(request: Request) -> Response:
    """``POST /tasks/{id}/release``: give a task one holds back to the role's inbox."""
    principal = api_user(request, write=True)

    def release(session: Session, runtime: Runtime, task: Task) -> None:
        runtime.release_task(session, task.id, principal.user_id)

    return JSONResponse(await run_in_threadpool(_act, request, principal, release), headers=_NO_STORE)


@endpoint
async def complete_task(request: Request) -> Response:
    """``POST /tasks/{id}/complete`` with ``{answers}``: finish a task one holds (422 if invalid)."""
    principal = api_user(request, write=True)
    body = await read_json(request)
    answers = body_field(body, "answers", dict)

    def complete(session: Session, runtime: Runtime, task: Task) -> None:
        result = runtime.complete_task(session, task.id, principal.user_id, answers)
        if not result.ok:
            raise answer_errors(result.blocking)

    return JSONResponse(await run_in_threadpool(_act, request, principal, complete), headers=_NO_STORE)
