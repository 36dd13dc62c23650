"""GET ``/submissions/{id}/statement.pdf``: a submitted statement as a PDF document.

Who may read it is the rule of the submission page (:mod:`engine._web_fill_submit`): the officer
who submitted it, or a supervisor of its department; to anyone else it does not exist (404,
audited as a refusal). A form not declared ``statement: true`` has no statement document (404).
Each download is audited as an ``export`` (a disclosure, DPA 2018 s.62) with the document's
SHA-256, which is also sent in the ``X-Content-SHA256`` header so the recipient can check it.
"""

from __future__ import annotations

import hashlib

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine._audit import record_now
from engine._principal import require_user
from engine._statement_pdf import render_statement
from engine._web_common import context_of
from engine._web_fill_common import visible_submission

__all__ = ["routes"]


def statement_pdf(request: Request) -> Response:
    """The statement document of a submission (sync: Starlette runs it in a worker thread)."""
    user = require_user(request)
    ctx = context_of(request)
    db, runtime = ctx.require_storage()
    with db.session(write=False) as session:
        found = visible_submission(session, request.path_params["submission"], user, request=request)
        sub_id = found.id
        answers, received_at, definition_id = dict(found.answers), found.received_at, found.definition_id
        reference = found.reference
    form = runtime.store.form(definition_id)
    if not form.statement:
        raise HTTPException(404, "This submission is not a statement, so it has no statement document.")
    body = render_statement(form, answers, received_at=received_at, opener=ctx.attachments.open)
    digest = hashlib.sha256(body).hexdigest()
    record_now(
        db,
        request,
        action="export",
        record_type="submission",
        record_id=sub_id,
        document="statement.pdf",
        sha256=digest,
    )
    headers = {
        "X-Content-SHA256": digest,
        "Content-Disposition": f'inline; filename="statement-{reference}.pdf"',
        "Cache-Control": "no-store",  # evidence: never left in a shared or browser cache
    }
    return Response(body, media_type="application/pdf", headers=headers)


def routes() -> list[BaseRoute]:
    """The routes this module serves."""
    return [Route("/submissions/{submission}/statement.pdf", statement_pdf, name="statement_pdf")]
