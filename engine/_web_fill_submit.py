"""Checking the answers, submitting, the confirmation page and the form JSON for the JS runtime.

Submitting uses the draft's id as the client idempotency key, so a double tap on "Submit" (or a
retry after a lost response) gives the one submission, never two; a draft already submitted
sends the officer to its submission. A submission page is shown to its submitter and to the
supervisors of its department only; to anyone else it does not exist.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine._attachments import link_attachments
from engine._audit import record, record_now, request_detail
from engine._incidents import SubmissionConflict
from engine._principal import require_user
from engine._tables import CaseValue, Definition, Draft, Instance, InstanceEvent, Submission
from engine._web_common import context_of, page
from engine._web_fill_common import (
    DraftState,
    draft_answers,
    form_of,
    own_draft,
    posted_csrf,
    status_of,
    visible_submission,
)
from engine._web_fill_summary import format_when, humanise, summary_sections, timeline
from engine._web_fill_view import dom_id
from forms import evaluate
from renderers import form_json as to_json

__all__ = ["routes"]

_ID_LENGTH = 36


def check(request: Request) -> Response:
    """GET ``/drafts/{id}/check``: every answer, with links to change it, and the Submit button."""
    user = require_user(request)
    db, runtime = context_of(request).require_storage()
    with db.session(write=False) as session:
        draft = own_draft(session, request.path_params["draft"], user, request=request)
    form = form_of(runtime.store, draft)
    raw = draft.answers or {}
    now = runtime.clock()
    answers = draft_answers(form, raw)
    evaluation = evaluate(form, answers, now=now)
    result = form.validate(answers, coerce=True, acknowledged=DraftState(draft).ack, now=now)
    page_of = {item.id: p.id for p in form.pages for item in p.fields}
    links = []
    for e in result.blocking:
        target = page_of.get(str(e.path[0]), form.pages[0].id)
        anchor = dom_id(".".join(str(p) for p in e.path))
        links.append((f"/drafts/{draft.id}/pages/{target}?return=check#{anchor}", e.message))
    pages = evaluation.pages()
    return page(
        request,
        "check_answers.html",
        form=form,
        draft_id=draft.id,
        sections=summary_sections(evaluation, f"/drafts/{draft.id}/pages/{{page}}?return=check#{{anchor}}"),
        error_links=links,
        back=f"/drafts/{draft.id}/pages/{pages[-1].id}" if pages else "/",
    )


async def submit(request: Request) -> Response:
    """POST ``/drafts/{id}/submit``: validate, store, start the workflows, show the reference."""
    user = require_user(request)
    await posted_csrf(request)
    db, runtime = context_of(request).require_storage()
    draft_id = request.path_params["draft"][:_ID_LENGTH]
    seen = request_detail(request)

    def work() -> str:
        with db.session() as session:
            earlier = _submitted(session, draft_id, user.user_id)
            if earlier is not None:
                return f"/submissions/{earlier}"
            try:
                draft = own_draft(session, draft_id, user, request=request, lock=True)
            except HTTPException:
                # A double tap on PostgreSQL: the other request submitted and deleted the draft
                # while this one waited for its lock.
                earlier = _submitted(session, draft_id, user.user_id)
                if earlier is None:
                    raise
                return f"/submissions/{earlier}"
            form = form_of(runtime.store, draft)
            answers = draft_answers(form, draft.answers or {})
            try:
                result = runtime.submit(
                    session,
                    draft.department_id,
                    draft.form_name,
                    answers,
                    user_id=user.user_id,
                    client_id=draft.id,
                    coerce=True,
                    definition_id=draft.definition_id,
                )
            except SubmissionConflict:  # submitted a moment ago with other answers: show that one
                found = _submitted(session, draft_id, user.user_id)
                if found is None:  # pragma: no cover - a conflict means a submission exists
                    raise
                return f"/submissions/{found}"
            if not result.ok:
                first = result.validation.blocking[0]
                page_id = next(p.id for p in form.pages if any(i.id == first.path[0] for i in p.fields))
                return f"/drafts/{draft.id}/pages/{page_id}?validate=1"
            stored = session.get(Submission, result.submission_id)
            if stored is not None and not result.duplicate:
                link_attachments(session, stored)  # the files now belong to the submission
                record(
                    session,
                    actor=user.user_id,
                    action="create",
                    record_type="submission",
                    record_id=stored.id,
                    detail=seen,
                )
            session.execute(delete(Draft).where(Draft.id == draft.id))
            return f"/submissions/{result.submission_id}"

    return RedirectResponse(await run_in_threadpool(work), status_code=303)


def _submitted(session: Any, draft_id: str, user_id: str) -> str | None:
    found: str | None = session.scalars(
        select(Submission.id).where(Submission.client_id == draft_id, Submission.submitted_by == user_id)
    ).first()
    return found


def submission(request: Request) -> Response:
    """GET ``/submissions/{id}``: the reference, the status and the workflow's timeline."""
    user = require_user(request)
    db, runtime = context_of(request).require_storage()
    with db.session(write=False) as session:
        found = visible_submission(session, request.path_params["submission"], user, request=request)
        instances = session.scalars(
            select(Instance).where(Instance.submission_id == found.id).order_by(Instance.created_at)
        ).all()
        ids = [i.id for i in instances]
        events = session.scalars(
            select(InstanceEvent).where(InstanceEvent.instance_id.in_(ids)).order_by(InstanceEvent.id)
        ).all()
        values = session.scalars(select(CaseValue).where(CaseValue.instance_id.in_(ids))).all()
    record_now(db, request, action="view", record_type="submission", record_id=found.id)
    roles: dict[str, str] = {}
    for instance in instances:
        department = runtime.store.department(instance.definition_id)
        roles.update({k: v.en for k, v in department.roles.items()})
    references = [
        (humanise(v.name), str(v.value))
        for v in sorted(values, key=lambda v: v.name)
        if v.name.endswith("reference") and isinstance(v.value, (str, int)) and str(v.value)
    ]
    return page(
        request,
        "submission.html",
        submission=found,
        form=runtime.store.form(found.definition_id),
        state_label=status_of([i.state for i in instances]),
        running=any(i.state == "running" for i in instances),
        timeline=timeline(list(events), roles),
        references=references,
        mine=found.submitted_by == user.user_id,
        received=format_when(found.received_at),
    )


#: Keys the page's script never reads: the JSON Schema is for API clients, hints and descriptions
#: are already in the page. Leaving them out saves a third of what a tablet downloads first.
_NOT_FOR_PAGES = frozenset({"schema", "hint", "description"})


def _for_pages(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _for_pages(v) for k, v in value.items() if k not in _NOT_FOR_PAGES}
    if isinstance(value, list):
        return [_for_pages(v) for v in value]
    return value


def form_json(request: Request) -> Response:
    """GET ``/forms/{department}/{form}/v/{id}.json``: a form version for the page's script."""
    user = require_user(request)
    db, runtime = context_of(request).require_storage()
    department, name = request.path_params["department"], request.path_params["form"]
    if department != user.department_id and not user.roles_in(department):
        record_now(
            db,
            request,
            action="denied",
            record_type="form",
            record_id=f"{department}/{name}",
            reason="other_department",
        )
        raise HTTPException(403, "This form belongs to another department.")
    text = request.path_params["definition"]
    if not text.isdigit() or len(text) > 18:
        raise HTTPException(404, "There is no such form version.")
    with db.session(write=False) as session:
        row = session.get(Definition, int(text))
        if row is None or row.kind != "form" or row.department_id != department or row.name != name:
            raise HTTPException(404, "There is no such form version.")
    built = context_of(request).page_json
    body = built.get(row.id)
    if body is None:
        # A version's JSON never changes: built once per app (a few KB per form version).
        data = _for_pages(to_json(runtime.store.form(row.id)))
        body = built[row.id] = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    # A definition id never changes content: browsers and the service worker may keep it.
    headers = {"Cache-Control": "public, max-age=31536000, immutable"}
    return Response(body, media_type="application/json", headers=headers)


def routes() -> list[BaseRoute]:
    """The routes this module serves."""
    return [
        Route("/drafts/{draft}/check", check, name="draft_check"),
        Route("/drafts/{draft}/submit", submit, methods=["POST"], name="draft_submit"),
        Route("/submissions/{submission}", submission, name="submission"),
        Route("/forms/{department}/{form}/v/{definition}.json", form_json, name="form_json"),
    ]
