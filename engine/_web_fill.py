"""The officer's pages: home, starting a form, and filling it page by page into a draft.

Everything works without JavaScript: each page posts to the server, which saves the posted
fields into the draft (:mod:`engine._drafts`), handles the button pressed (continue, save, add
or remove a repeat item, remove a file) and, on "continue", validates only this page's answers
and moves to the next page that is relevant to all the answers so far. Checking the answers,
submitting and the confirmation are in :mod:`engine._web_fill_submit`.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sqlalchemy import delete, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import _web_fill_submit
from engine._audit import record_now
from engine._definitions import DefinitionNotFound
from engine._drafts import FormData, apply_defaults, fill_minimum
from engine._principal import require_user
from engine._tables import Draft, Submission
from engine._web_common import context_of, page
from engine._web_fill_common import (
    DraftState,
    draft_answers,
    form_of,
    instance_states,
    own_draft,
    page_of,
    posted_csrf,
    status_of,
)
from engine._web_fill_page import PagePost, render_page, save_page
from engine._web_fill_summary import format_when
from forms import evaluate

__all__ = ["routes"]

_RECENT = 20


def home(request: Request) -> Response:
    """``/``: what the officer can do: start a form, resume a draft, see their submissions."""
    ctx = context_of(request)
    if ctx.db is None:
        return RedirectResponse("/preview/", status_code=303)
    user = require_user(request)
    db, runtime = ctx.require_storage()
    with db.session(write=False) as session:
        offered = _offered_forms(ctx, user.department_id, session)
        drafts = session.scalars(
            select(Draft).where(Draft.user_id == user.user_id).order_by(Draft.updated_at.desc()).limit(50)
        ).all()
        submissions = session.scalars(
            select(Submission)
            .where(Submission.submitted_by == user.user_id)
            .order_by(Submission.received_at.desc())
            .limit(_RECENT)
        ).all()
        states = instance_states(session, [s.id for s in submissions])
    draft_rows = []
    for d in drafts:
        try:
            title = runtime.store.form(d.definition_id).title
        except DefinitionNotFound:  # pragma: no cover - definitions are never deleted
            continue
        draft_rows.append({"id": d.id, "title": title, "updated": format_when(d.updated_at)})
    submission_rows = [
        {
            "id": s.id,
            "reference": s.reference,
            "title": runtime.store.form(s.definition_id).title,
            "received": format_when(s.received_at),
            "status": status_of(states.get(s.id, [])),
        }
        for s in submissions
    ]
    return page(
        request,
        "home.html",
        forms=offered,
        drafts=draft_rows,
        submissions=submission_rows,
        saved=request.query_params.get("saved") in {d["id"] for d in draft_rows},
        deleted=request.query_params.get("deleted") == "1",
    )


def _offered_forms(ctx: Any, department: str, session: Any) -> list[dict[str, Any]]:
    store = ctx.store
    try:
        release = store.release(department, session=session)
    except DefinitionNotFound:
        return []
    task_forms: set[str] = set()
    triggers: set[str] = set()
    for ident in release.workflows.values():
        flow = store.workflow(ident)
        triggers.add(flow.trigger_form)
        task_forms.update(step.task.form for step in flow.steps.values() if step.task is not None)
    out = []
    for name, ident in sorted(release.forms.items()):
        if name in task_forms and name not in triggers:
            continue  # a supervisor's review form is filled from the inbox, not started here
        form = store.form(ident)
        out.append(
            {"name": name, "department": department, "title": form.title, "description": form.description}
        )
    out.sort(key=lambda f: f["title"].en.lower())
    return out


async def start(request: Request) -> Response:
    """POST ``/forms/{department}/{form}/start``: a new draft pinned to the current version."""
    user = require_user(request)
    await posted_csrf(request)
    department, name = request.path_params["department"], request.path_params["form"]
    ctx = context_of(request)
    db, runtime = ctx.require_storage()
    if department != user.department_id:
        refused = {"record_id": f"{department}/{name}", "reason": "other_department"}
        await run_in_threadpool(record_now, db, request, action="denied", record_type="form", **refused)
        raise HTTPException(403, "You can only fill in your own department's forms.")

    def work() -> str:
        with db.session() as session:
            offered = {f["name"] for f in _offered_forms(ctx, department, session)}
            if name not in offered:
                raise HTTPException(404, "Your department has no such form.")
            ident, form = runtime.store.current_form(department, name, session=session)
            now = runtime.clock()
            draft = Draft(
                id=str(uuid.uuid4()),
                user_id=user.user_id,
                department_id=department,
                form_name=name,
                definition_id=ident,
                answers={},
                page=None,
                acknowledged={"ack": [], "seen": []},
                created_at=now,
                updated_at=now,
            )
            session.add(draft)
            first = evaluate(form, {}, now=now).pages()
            return f"/drafts/{draft.id}/pages/{(first[0] if first else form.pages[0]).id}"

    return RedirectResponse(await run_in_threadpool(work), status_code=303)


def resume(request: Request) -> Response:
    """GET ``/drafts/{id}``: carry on where the officer left off."""
    user = require_user(request)
    db, runtime = context_of(request).require_storage()
    with db.session(write=False) as session:
        draft = own_draft(session, request.path_params["draft"], user, request=request)
    form = form_of(runtime.store, draft)
    pages = evaluate(form, draft_answers(form, draft.answers or {}), now=runtime.clock()).pages()
    ids = [p.id for p in pages]
    target = draft.page if draft.page in ids else (ids[0] if ids else form.pages[0].id)
    return RedirectResponse(f"/drafts/{draft.id}/pages/{target}", status_code=303)


def show_page(request: Request) -> Response:
    """GET ``/drafts/{id}/pages/{page}``: the page with the draft's answers.

    The first time a page is shown its defaults are filled in (and repeats get their minimum
    number of items); only then is the draft written, so showing a page is mostly a read."""
    user = require_user(request)
    db, runtime = context_of(request).require_storage()
    with db.session(write=False) as session:
        draft = own_draft(session, request.path_params["draft"], user, request=request)
    form = form_of(runtime.store, draft)
    the_page = page_of(form, request.path_params["page"])
    now = runtime.clock()
    raw: dict[str, Any] = copy.deepcopy(draft.answers or {})
    evaluation = evaluate(form, draft_answers(form, raw), now=now)
    if the_page not in evaluation.pages():
        return RedirectResponse(f"/drafts/{draft.id}", status_code=303)
    state = DraftState(draft)
    first_time = the_page.id not in state.seen
    if first_time:
        apply_defaults(the_page.fields, raw, evaluation.env)
        state.seen.add(the_page.id)
    fill_minimum(the_page.fields, raw, evaluation.env)
    unchanged = raw == draft.answers
    if first_time or not unchanged:
        with db.session() as session:
            row = own_draft(session, draft.id, user, request=request, lock=True)
            if row.updated_at == draft.updated_at:  # unless a post saved it in the meantime
                row.answers = raw
                state.save(row, now)
    errors = None
    if request.query_params.get("validate") == "1":  # sent back here by a failed submit
        answers = draft_answers(form, raw)
        errors = list(form.validate(answers, pages=[the_page.id], acknowledged=state.ack, now=now).errors)
    return render_page(
        request,
        draft,
        form,
        the_page,
        raw,
        state,
        now=now,
        errors=errors,
        evaluation=evaluation if unchanged else None,
    )


async def post_page(request: Request) -> Response:
    """POST ``/drafts/{id}/pages/{page}``: save this page's answers and act on the button."""
    user = require_user(request)
    ctx = context_of(request)
    ctx.require_storage()
    async with request.form(max_files=200, max_fields=3000, max_part_size=1024 * 1024) as data:
        await posted_csrf(request)
        values: dict[str, list[str]] = {}
        uploads: dict[str, list[tuple[str, str, bytes]]] = {}
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    body = await value.read()
                    uploads.setdefault(key, []).append((value.filename, value.content_type or "", body))
            else:
                values.setdefault(key, []).append(value)
    post = PagePost(
        draft_id=request.path_params["draft"],
        page_id=request.path_params["page"],
        data=FormData(values),
        uploads=uploads,
    )
    return await run_in_threadpool(save_page, request, user, post)


async def delete_draft(request: Request) -> Response:
    """POST ``/drafts/{id}/delete``: throw a draft away."""
    user = require_user(request)
    await posted_csrf(request)
    db, _ = context_of(request).require_storage()

    def work() -> None:
        with db.session() as session:
            draft = own_draft(session, request.path_params["draft"], user, request=request)
            session.execute(delete(Draft).where(Draft.id == draft.id))

    await run_in_threadpool(work)
    return RedirectResponse("/?deleted=1", status_code=303)


def routes() -> list[BaseRoute]:
    """The routes this module (and the check, submit and confirmation pages) serve."""
    return [
        Route("/", home, name="home"),
        Route("/forms/{department}/{form}/start", start, methods=["POST"], name="start_form"),
        Route("/drafts/{draft}", resume, name="draft"),
        Route("/drafts/{draft}/pages/{page}", show_page, methods=["GET"], name="draft_page"),
        Route("/drafts/{draft}/pages/{page}", post_page, methods=["POST"], name="draft_page_post"),
        Route("/drafts/{draft}/delete", delete_draft, methods=["POST"], name="delete_draft"),
        *_web_fill_submit.routes(),
    ]
