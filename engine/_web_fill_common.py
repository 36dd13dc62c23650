"""What the officer's pages share: finding a user's own draft, its pinned form, its state.

A draft belongs to the user who started it: every route loads it through :func:`own_draft`,
which answers 404 for anyone else's (existence itself must not leak). Besides the raw answers a
draft keeps two small lists in its ``acknowledged`` column: the ids of fields whose warnings
the officer acknowledged (``ack``) and the pages whose defaults were filled in (``seen``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from engine._audit import deny
from engine._definitions import DefinitionNotFound, DefinitionStore
from engine._drafts import to_answers
from engine._principal import Principal, check_csrf
from engine._tables import Draft, Instance, Submission
from forms import Form, Item, Page

__all__ = [
    "STATUS_LABELS",
    "DraftState",
    "all_items",
    "draft_answers",
    "form_of",
    "own_draft",
    "posted_csrf",
    "status_of",
    "visible_submission",
]

#: How an officer sees a workflow instance's state.
STATUS_LABELS = {
    "running": "In progress",
    "completed": "Done",
    "failed": "Needs attention",
    "cancelled": "Cancelled",
}
_DRAFT_ID_LENGTH = 36


def own_draft(
    session: Session, draft_id: str, principal: Principal, *, request: Request, lock: bool = False
) -> Draft:
    """The draft ``draft_id`` of the signed-in user; 404 when there is none of theirs.

    Asking for someone else's draft gets the same 404, and is audited (``request`` says who).
    """
    if len(draft_id) > _DRAFT_ID_LENGTH:
        raise HTTPException(404, "There is no such draft.")
    query = select(Draft).where(Draft.id == draft_id, Draft.user_id == principal.user_id)
    if lock:
        query = query.with_for_update()
    draft = session.scalars(query).first()
    if draft is None:
        if session.get(Draft, draft_id) is not None:  # it exists: another officer's
            db = request.app.state.waypost.db
            deny(db, session, request, record_type="draft", record_id=draft_id, reason="not_owner")
        raise HTTPException(404, "There is no such draft. It may have been submitted or deleted.")
    return draft


def visible_submission(
    session: Session, submission_id: str, principal: Principal, *, request: Request
) -> Submission:
    """The submission ``submission_id`` if the signed-in user may see it: its submitter, or a
    supervisor of its department. Otherwise 404 (whether or not it exists), and an attempt on one
    that exists is audited. The one rule for the submission page and its documents."""
    found = session.get(Submission, submission_id[:_DRAFT_ID_LENGTH])
    if found is not None and (
        found.submitted_by == principal.user_id or principal.has_role("supervisor", found.department_id)
    ):
        return found
    if found is not None:
        db = request.app.state.waypost.db
        deny(db, session, request, record_type="submission", record_id=found.id, reason="not_permitted")
    raise HTTPException(404, "There is no such submission.")


def form_of(store: DefinitionStore, draft: Draft) -> Form:
    """The form version the draft is pinned to."""
    try:
        return store.form(draft.definition_id)
    except DefinitionNotFound as exc:  # pragma: no cover - definitions are never deleted
        raise HTTPException(404, "The form this draft was started on no longer exists.") from exc


def all_items(form: Form) -> tuple[Item, ...]:
    """The top-level items of every page of ``form``."""
    return tuple(item for page in form.pages for item in page.fields)


def draft_answers(form: Form, raw: dict[str, Any]) -> dict[str, Any]:
    """The draft's raw answers as :meth:`forms.Form.validate` reads them (coerce mode)."""
    return to_answers(all_items(form), raw)


def page_of(form: Form, page_id: str) -> Page:
    """The page ``page_id`` of ``form``; 404 when there is none."""
    for page in form.pages:
        if page.id == page_id:
            return page
    raise HTTPException(404, "This form has no such page.")


class DraftState:
    """The acknowledged warnings and seen pages kept with a draft (see the module docstring)."""

    def __init__(self, draft: Draft) -> None:
        stored = draft.acknowledged if isinstance(draft.acknowledged, dict) else {}
        self.ack: set[str] = {str(a) for a in stored.get("ack", []) if isinstance(a, str)}
        self.seen: set[str] = {str(s) for s in stored.get("seen", []) if isinstance(s, str)}

    def save(self, draft: Draft, now: datetime) -> None:
        """Write the state (and a new ``updated_at``) into ``draft``."""
        draft.acknowledged = {"ack": sorted(self.ack), "seen": sorted(self.seen)}
        draft.updated_at = now


async def posted_csrf(request: Request) -> None:
    """Check the CSRF token of a form post (field ``csrf_token`` or the header); 403 if wrong."""
    try:
        form = await request.form()
        token = form.get("csrf_token")
    except Exception:  # a body that is not a form: the header may still carry the token
        token = None
    check_csrf(request, token if isinstance(token, str) else None)


def status_of(states: list[str]) -> str:
    """One label for the instances a submission started (none: the submission is simply done)."""
    if "failed" in states:
        return STATUS_LABELS["failed"]
    if "running" in states:
        return STATUS_LABELS["running"]
    return STATUS_LABELS["completed"]


def instance_states(session: Session, submission_ids: list[str]) -> dict[str, list[str]]:
    """The states of the instances each submission started, by submission id."""
    found: dict[str, list[str]] = {s: [] for s in submission_ids}
    if not submission_ids:
        return found
    rows = session.execute(
        select(Instance.submission_id, Instance.state).where(Instance.submission_id.in_(submission_ids))
    )
    for sub, state in rows:
        if sub is not None:
            found.setdefault(sub, []).append(state)
    return found
