"""The supervisor's inbox: tasks for the roles a user holds, the case behind each, and the task form.

``GET /tasks`` lists the open tasks of every department where the user holds a role (for those
roles), the tasks they have claimed, and who holds the others. ``GET /tasks/{id}`` shows the case
(the submission's answers with photos and signatures, the workflow history and case data) and,
once the user has claimed the task, its form. ``POST /tasks/{id}/claim``, ``/release`` and
``/complete`` change it; each checks the CSRF token and the user's role on the server.

Everything works without JavaScript: every action is a form post answered by a redirect (or by
the page again with its errors, status 422). A conflict (someone else claimed or completed the
task first) is a 409 page that says what happened.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine._audit import record, record_now, request_detail, task_target
from engine._database import Database
from engine._executor import Runtime
from engine._incidents import NotFound, TaskConflict, TaskForbidden
from engine._principal import Principal, check_csrf, require_user
from engine._tables import Task
from engine._web_common import context_of, page
from engine._web_inbox_case import user_names
from engine._web_inbox_data import NOT_FOUND, TaskView, inbox_rows, load_task, task_view
from engine._web_inbox_form import MAX_FIELDS, TaskPost, first_raw, form_context, posted_answers, posted_raw
from forms import AnswerError

__all__ = ["routes"]

#: Banners the inbox shows after a redirect, by the ``done`` query value. Fixed texts only: the
#: query string is never echoed into the page.
NOTICES = {
    "completed": "Task completed",
    "released": "Task released: it is back in the inbox for your team",
}
#: Posts larger than these are refused before they are read: text only (claim, release, and
#: each text part of a task form), and a task form with files sent without the page script.
MAX_FORM_BYTES = 1_000_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_FILES = 20


async def inbox(request: Request) -> Response:
    """``GET /tasks``: the user's tasks, open tasks for their roles and colleagues' claims."""
    principal = require_user(request)
    db, runtime = context_of(request).require_storage()

    def read() -> list[Any]:
        with db.session(write=False) as session:
            return inbox_rows(session, runtime, principal)

    rows = await run_in_threadpool(read)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return page(
        request,
        "inbox.html",
        mine=[r for r in rows if r.mine],
        open=[r for r in rows if r.state == "open"],
        others=[r for r in rows if r.state == "claimed" and not r.mine],
        notice=notice,
    )


def _read_view(
    db: Database, runtime: Runtime, principal: Principal, task_id: str, request: Request
) -> TaskView:
    with db.session(write=False) as session:
        task = load_task(session, principal, task_id, db, request)
        view, target = task_view(session, runtime, principal, task), task_target(session, task)
    record_now(db, request, action="view", **target)  # showing the case is consulting it
    return view


def _render_task(
    request: Request,
    view: TaskView,
    *,
    raw: dict[str, Any] | None = None,
    errors: tuple[AnswerError, ...] = (),
    status: int = 200,
) -> Response:
    principal = require_user(request)
    _, runtime = context_of(request).require_storage()
    task = view.task
    mine = task.state == "claimed" and task.claimed_by == principal.user_id
    context: dict[str, Any] = {"form_pages": [], "error_list": [], "form_json": ""}
    if mine:
        context = form_context(
            view.form,
            first_raw(view.form, runtime.clock()) if raw is None else raw,
            errors,
            department=task.department_id,
            definition_id=task.form_definition_id,
            now=runtime.clock(),
        )
    return page(
        request,
        "task.html",
        status=status,
        view=view,
        row=view.row,
        mine=mine,
        can_claim=task.state == "open",
        show_form=mine,
        **context,
    )


async def show(request: Request) -> Response:
    """``GET /tasks/{id}``: the case and, when the user holds the claim, the task form."""
    principal = require_user(request)
    db, runtime = context_of(request).require_storage()
    view = await run_in_threadpool(
        _read_view, db, runtime, principal, request.path_params["task_id"], request
    )
    return _render_task(request, view)


async def _posted(request: Request, *, files: bool = False) -> TaskPost:
    """The posted form, after the CSRF check; 413 when it is too big to be ours, 400 when it
    cannot be read. File parts are read only where ``files`` are expected (the task form)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > (MAX_UPLOAD_BYTES if files else MAX_FORM_BYTES):
        raise HTTPException(413, "This form is too large to send.")
    post = TaskPost()
    try:
        async with request.form(
            max_files=MAX_FILES if files else 0, max_fields=MAX_FIELDS, max_part_size=MAX_FORM_BYTES
        ) as form:
            for name, value in form.multi_items():
                if isinstance(value, str):
                    post.values.setdefault(name, []).append(value)
                elif value.filename:  # a file input left empty still sends a part
                    body = await value.read()
                    post.uploads.setdefault(name, []).append((value.filename, value.content_type or "", body))
    except HTTPException:
        raise
    except Exception as exc:  # a malformed body: the client's mistake, not a server error
        raise HTTPException(400, "The form could not be read. Reload the page and try again.") from exc
    token = post.values.get("csrf_token", [""])[0]
    check_csrf(request, token)
    return post


def _conflict_message(db: Database, task_id: str, user_id: str, exc: TaskConflict) -> str:
    """What happened to the task, in words, from its state now (not from the error's text)."""
    with db.session(write=False) as session:
        task = session.get(Task, task_id)
        if task is None:
            return NOT_FOUND
        holder = user_names(session, [task.claimed_by]).get(task.claimed_by or "", "Someone")
        if task.state == "completed":
            who = "You have" if task.completed_by == user_id else "Someone has"
            return f"{who} completed this task already. Nothing you entered was saved."
        if task.state == "cancelled":
            return "This task was cancelled: the workflow no longer needs it. Nothing was changed."
        if task.state == "claimed" and task.claimed_by != user_id:
            return f"{holder} has claimed this task. Nothing was changed."
        if task.state == "open":
            return "This task is not claimed by you: claim it first. Nothing was changed."
        return f"This task cannot be changed now ({exc}). Nothing was changed."


async def _conflict(request: Request, exc: TaskConflict, task_id: str) -> Response:
    principal = require_user(request)
    db, _ = context_of(request).require_storage()
    message = await run_in_threadpool(_conflict_message, db, task_id, principal.user_id, exc)
    return page(request, "task_conflict.html", status=409, message=message, task_id=task_id)


async def _act(request: Request, action: str) -> Response:
    principal = require_user(request)
    db, runtime = context_of(request).require_storage()
    task_id = request.path_params["task_id"]
    await _posted(request)
    seen = request_detail(request)

    def work() -> None:
        with db.session() as session:
            load_task(session, principal, task_id, db, request)
            if action == "claim":
                runtime.claim_task(session, task_id, principal.user_id)
            else:
                runtime.release_task(session, task_id, principal.user_id)
            record(
                session,
                actor=principal.user_id,
                action=action,
                record_type="task",
                record_id=task_id,
                detail=seen,
            )

    try:
        await run_in_threadpool(work)
    except TaskConflict as exc:
        return await _conflict(request, exc, task_id)
    except TaskForbidden as exc:
        await run_in_threadpool(
            record_now, db, request, action="denied", record_type="task", record_id=task_id, reason=str(exc)
        )
        raise HTTPException(403, "You do not hold the role this task is for.") from exc
    except NotFound as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    if action == "claim":
        return RedirectResponse(f"/tasks/{task_id}#task-form", status_code=303)
    return RedirectResponse("/tasks?done=released", status_code=303)


async def claim(request: Request) -> Response:
    """``POST /tasks/{id}/claim``: take an open task; of two people claiming at once, one wins."""
    return await _act(request, "claim")


async def release(request: Request) -> Response:
    """``POST /tasks/{id}/release``: give a claimed task back to the team's inbox."""
    return await _act(request, "release")


async def complete(request: Request) -> Response:
    """``POST /tasks/{id}/complete``: validate the task form and, when it passes, complete it."""
    principal = require_user(request)
    ctx = context_of(request)
    db, runtime = ctx.require_storage()
    task_id = request.path_params["task_id"]
    post = await _posted(request, files=True)
    seen = request_detail(request)

    def work() -> tuple[TaskView | None, dict[str, Any], tuple[AnswerError, ...]]:
        with db.session() as session:
            task: Task = load_task(session, principal, task_id, db, request)
            task_form = runtime.store.form(task.form_definition_id)
            now = runtime.clock()
            try:
                raw, refused = posted_raw(
                    session, task_form, post, user_id=principal.user_id, now=now, store=ctx.attachments
                )
            except ValueError as exc:
                raise HTTPException(413, "This form has too many answers to send.") from exc
            answers = posted_answers(task_form, raw)
            if refused:  # a refused upload: say so with the other mistakes, complete nothing
                others = task_form.validate(answers, coerce=True, now=now).blocking
                return task_view(session, runtime, principal, task), raw, (*refused, *others)
            result = runtime.complete_task(session, task_id, principal.user_id, answers, coerce=True)
            if result.ok:
                record(
                    session,
                    actor=principal.user_id,
                    action="complete",
                    record_type="task",
                    record_id=task_id,
                    detail=seen,
                )
                return None, raw, ()
            return task_view(session, runtime, principal, task), raw, result.blocking

    try:
        view, raw, errors = await run_in_threadpool(work)
    except TaskConflict as exc:
        return await _conflict(request, exc, task_id)
    except NotFound as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    if view is None:
        return RedirectResponse("/tasks?done=completed", status_code=303)
    return _render_task(request, view, raw=raw, errors=errors, status=422)


def routes() -> list[BaseRoute]:
    """The inbox's routes."""
    return [
        Route("/tasks", inbox, name="inbox"),
        Route("/tasks/{task_id}", show, name="task"),
        Route("/tasks/{task_id}/claim", claim, methods=["POST"], name="task_claim"),
        Route("/tasks/{task_id}/release", release, methods=["POST"], name="task_release"),
        Route("/tasks/{task_id}/complete", complete, methods=["POST"], name="task_complete"),
    ]
