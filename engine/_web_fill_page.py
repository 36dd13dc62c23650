"""One page of a draft: saving what was posted, acting on the button pressed, rendering the page.

The buttons (``_action``): ``continue`` (the default) validates only this page and moves on to
the next relevant page; ``save`` goes home; ``add:<repeat path>`` and
``remove:<repeat path>.<n>`` change a repeat; ``detach:<path>:<sha256>`` removes one file. All
of them save the posted fields first, so nothing typed is ever lost.

Without JavaScript, answering "yes" can reveal questions the officer has not seen yet (they were
hidden when the page was drawn). Their "required" errors would be unfair, so on "continue" the
page is shown again with a notice instead; a page posted by the JS runtime (field ``_js``) shows
them all, as the runtime had already revealed those questions.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from engine._attachments import AttachmentRejected, record_of
from engine._drafts import FormData, locate, max_items, merge_items, new_entry
from engine._principal import Principal
from engine._tables import Attachment, Draft
from engine._web_common import context_of, page
from engine._web_fill_common import DraftState, draft_answers, form_of, own_draft, page_of
from engine._web_fill_view import dom_id, error_links, item_views
from forms import AnswerError, Evaluation, Field, FieldType, Form, Item, Page, Repeat, evaluate
from forms._coerce import SHA256_RE
from forms._fields import DEFAULT_MAX_SIZE
from forms._model import walk

__all__ = ["PagePost", "render_page", "save_page"]

_RECORD_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class PagePost:
    """What the browser posted for one page (already read from the request)."""

    draft_id: str
    page_id: str
    data: FormData
    uploads: dict[str, list[tuple[str, str, bytes]]]


def save_page(request: Request, user: Principal, post: PagePost) -> Response:
    """Save the posted page into its draft and answer (runs in a worker thread)."""
    ctx = context_of(request)
    db, runtime = ctx.require_storage()
    with db.session() as session:
        draft = own_draft(session, post.draft_id, user, request=request, lock=True)
        form = form_of(runtime.store, draft)
        the_page = page_of(form, post.page_id)
        now = runtime.clock()
        old_raw: dict[str, Any] = draft.answers or {}
        raw = copy.deepcopy(old_raw)
        upload_errors: dict[str, str] = {}
        reader = _Attachments(session, ctx.attachments, user, post, upload_errors)
        merge_items(the_page.fields, raw, post.data, reader)
        state = DraftState(draft)
        ids = {item.id for item in walk(the_page.fields)}
        state.ack = (state.ack - ids) | {a for a in post.data.getlist("_ack") if a in ids}
        action = post.data.get("_action", 200) or "continue"
        evaluation = evaluate(form, draft_answers(form, raw), now=now)
        changed = _act(the_page.fields, raw, action, evaluation)

        def store() -> None:
            draft.answers = raw
            draft.page = the_page.id
            flag_modified(draft, "answers")
            state.save(draft, now)

        errors = [AnswerError(tuple(p.split(".")), "upload", m) for p, m in upload_errors.items()]
        if changed is not None:
            store()
            if errors:
                return render_page(
                    request, draft, form, the_page, raw, state, now=now, errors=errors, status=422
                )
            return RedirectResponse(f"/drafts/{draft.id}/pages/{the_page.id}#item-{changed}", status_code=303)
        if action == "save":
            store()
            return RedirectResponse(f"/?saved={draft.id}", status_code=303)
        if action != "continue":
            raise HTTPException(400, "That button is not on this page. Go back and try again.")
        store()
        result = form.validate(
            draft_answers(form, raw), coerce=True, pages=[the_page.id], acknowledged=state.ack, now=now
        )
        errors += list(result.blocking)
        notice = False
        if errors and not post.data.has("_js"):
            before = evaluate(form, draft_answers(form, old_raw), now=now)
            unseen = [e for e in errors if e.code != "upload" and before.is_hidden(_item_path(e.path))]
            if unseen:
                errors = [e for e in errors if e not in unseen]
                notice = not errors
        if errors or notice or result.warnings:
            status = 422 if errors else 200
            shown = errors + list(result.warnings)
            return render_page(
                request,
                draft,
                form,
                the_page,
                raw,
                state,
                now=now,
                errors=shown,
                status=status,
                notice=notice,
            )
        pages = evaluate(form, draft_answers(form, raw), now=now).pages()
        target = f"/drafts/{draft.id}/check"
        if request.query_params.get("return") != "check":
            later = [p for p in pages if form.pages.index(p) > form.pages.index(the_page)]
            if later:
                target = f"/drafts/{draft.id}/pages/{later[0].id}"
        draft.page = target.rsplit("/", 1)[-1] if "/pages/" in target else draft.page
        return RedirectResponse(target, status_code=303)


def _item_path(path: tuple[Any, ...]) -> tuple[Any, ...]:
    # Error paths written from dotted text carry indexes as text: make them ints again.
    return tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in path)


def _act(items: tuple[Item, ...], raw: dict[str, Any], action: str, evaluation: Evaluation) -> str | None:
    """Do an add, remove or detach action; the DOM id of what changed, or None for others."""
    verb, _, rest = action.partition(":")
    if verb == "detach":
        path, _, sha = rest.rpartition(":")
        found = locate(items, raw, path)
        if found is None or not isinstance(found[0], Field) or isinstance(found[2], int):
            raise HTTPException(400, "That file is not on this page.")
        _, container, key = found
        value = container.get(key)
        if isinstance(value, list):
            container[key] = [r for r in value if not (isinstance(r, dict) and r.get("sha256") == sha)]
        elif isinstance(value, dict) and value.get("sha256") == sha:
            container.pop(key)
        return dom_id(path)[2:]
    if verb not in ("add", "remove"):
        return None
    found = locate(items, raw, rest)
    if found is None or not isinstance(found[0], Repeat):
        raise HTTPException(400, "That list is not on this page.")
    repeat, container, key = found[0], found[1], found[2]
    if verb == "add" and isinstance(key, str):
        entries = container.get(key)
        entries = entries if isinstance(entries, list) else []
        if len(entries) < max_items(repeat):
            entries.append(new_entry(repeat, evaluation.env))
        container[key] = entries
        return dom_id(rest)[2:]
    if verb == "remove" and isinstance(key, int):
        if len(container) > repeat.min_items:
            container.pop(key)
        return dom_id(rest.rpartition(".")[0])[2:]
    raise HTTPException(400, "That list is not on this page.")


class _Attachments:
    """Reads a field's files: the posted records (only rows this user uploaded) plus uploads."""

    def __init__(
        self, session: Session, store: Any, user: Principal, post: PagePost, errors: dict[str, str]
    ) -> None:
        self.session, self.store, self.user, self.post, self.errors = session, store, user, post, errors

    def __call__(self, path: str, f: Field) -> list[dict[str, Any]] | None:
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        for text in self.post.data.values.get(path + ".attachment", [])[:50]:
            sha = _sha_of(text[:_RECORD_LENGTH])
            if sha is None or sha in seen:
                continue
            row = self.session.get(Attachment, sha)
            if row is not None and row.uploaded_by == self.user.user_id:
                records.append(record_of(row))
                seen.add(sha)
        for filename, content_type, body in self.post.uploads.get(path, []):
            if self.store is None:
                self.errors[path] = "Files cannot be uploaded to this server."
                break
            accept = f.accept if f.type is FieldType.FILE else ("image/*",)
            try:
                record = self.store.put(
                    self.session,
                    body,
                    filename=filename,
                    content_type=content_type,
                    uploaded_by=self.user.user_id,
                    accept=accept,
                    max_size=f.max_size or DEFAULT_MAX_SIZE,
                )
            except AttachmentRejected as exc:
                self.errors[path] = exc.message
                continue
            if record["sha256"] not in seen:
                records.append(record)
                seen.add(record["sha256"])
        return records


def _sha_of(text: str) -> str | None:
    try:
        record = json.loads(text)
    except ValueError:
        return None
    sha = record.get("sha256") if isinstance(record, dict) else None
    return sha if isinstance(sha, str) and SHA256_RE.search(sha) else None


def render_page(
    request: Request,
    draft: Draft,
    form: Form,
    the_page: Page,
    raw: dict[str, Any],
    state: DraftState,
    *,
    now: datetime,
    errors: list[AnswerError] | None = None,
    status: int = 200,
    notice: bool = False,
    evaluation: Evaluation | None = None,
) -> Response:
    """The page of ``draft`` with ``raw`` answers and any errors and warnings to show
    (``evaluation``, when given, must be of exactly ``raw``)."""
    if evaluation is None:
        evaluation = evaluate(form, draft_answers(form, raw), now=now)
    by_path: dict[str, AnswerError] = {}
    for e in errors or ():
        by_path.setdefault(".".join(str(p) for p in e.path), e)
    views = item_views(the_page.fields, raw, evaluation=evaluation, errors=by_path, acknowledged=state.ack)
    pages = evaluation.pages()
    index = pages.index(the_page) if the_page in pages else 0
    back = f"/drafts/{draft.id}/pages/{pages[index - 1].id}" if index > 0 else "/"
    blocking = [e for e in by_path.values() if e.blocking]
    warnings = [e for e in by_path.values() if not e.blocking]
    return page(
        request,
        "fill_page.html",
        status=status,
        form=form,
        form_page=the_page,
        draft_id=draft.id,
        form_json=f"/forms/{draft.department_id}/{draft.form_name}/v/{draft.definition_id}.json",
        # The answers of the other pages, for the page's script: relevance and calculations here
        # may read them (this page's own answers are in its inputs).
        other_answers={k: v for k, v in raw.items() if k not in {i.id for i in the_page.fields}},
        views=views,
        error_links=error_links(blocking),
        warning_links=error_links(warnings),
        number=index + 1,
        total=len(pages),
        back=back,
        notice=notice,
        return_to=request.query_params.get("return") == "check",
        has_buttons=any(_has_buttons(v) for v in walk(the_page.fields)),
    )


def _has_buttons(item: Item) -> bool:
    return isinstance(item, Repeat) or (
        isinstance(item, Field) and item.type in (FieldType.PHOTO, FieldType.FILE, FieldType.SIGNATURE)
    )
