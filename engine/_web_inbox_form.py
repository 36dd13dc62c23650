"""The task form of a claimed task: reading what was posted, and what the page shows of it.

A task form is short, so the inbox shows every relevant page of it at once, on the case page,
each under its page title. Posts are read with the officer pages' own helpers
(:mod:`engine._drafts`: dotted names, GOV.UK date parts, ``<path>.attachment`` records) and
shown with the same view objects and macros (:func:`engine._web_fill_view.item_views`,
``fields.html``), so the markup, ids, error summary and the page script work the same everywhere.

Read-only fields with a default (``reviewed_at: now()``) are set by the server when the task is
completed: the browser never sends them, and a value it did send would not be trusted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine._attachments import AttachmentRejected, AttachmentStore, record_of
from engine._drafts import FormData, apply_defaults, env_for, merge_items, to_answers
from engine._tables import Attachment
from engine._web_fill_view import error_links, item_views
from forms import AnswerError, Field, FieldType, Form, Group, Item, evaluate
from forms._coerce import SHA256_RE
from forms._fields import DEFAULT_MAX_SIZE

__all__ = ["MAX_FIELDS", "TaskPost", "first_raw", "form_context", "posted_answers", "posted_raw"]

#: More inputs than any task form has: a bigger post is refused rather than read.
MAX_FIELDS = 2000
_MAX_RECORD = 2000  # characters of one attachment record: far above a real one


def _items(form: Form) -> tuple[Item, ...]:
    return tuple(item for page in form.pages for item in page.fields)


def _read_only_defaults(items: Iterable[Item], defaults: Mapping[str, Any], raw: dict[str, Any]) -> None:
    for item in items:
        if isinstance(item, Group) and isinstance(defaults.get(item.id), dict):
            sub = raw.get(item.id)
            sub = sub if isinstance(sub, dict) else {}
            _read_only_defaults(item.fields, defaults[item.id], sub)
            if sub:
                raw[item.id] = sub
        elif isinstance(item, Field) and item.read_only and item.id in defaults:
            raw[item.id] = defaults[item.id]


@dataclass(frozen=True, slots=True)
class TaskPost:
    """A posted task form, read from the request: text values by name, and uploaded files by
    field path as (filename, content type, bytes) for browsers without the page script."""

    values: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, list[tuple[str, str, bytes]]] = field(default_factory=dict)


def _sha_of(text: str) -> str | None:
    try:
        record = json.loads(text[:_MAX_RECORD])
    except ValueError:
        return None
    sha = record.get("sha256") if isinstance(record, dict) else None
    return sha if isinstance(sha, str) and SHA256_RE.search(sha) else None


def _path(dotted: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


class _Files:
    """A field's files: the posted records of attachments this user uploaded (read back from
    their rows, so a record is never taken on trust), then any files uploaded with the post."""

    def __init__(self, session: Session, post: TaskPost, user_id: str, store: AttachmentStore | None) -> None:
        self.session, self.post, self.user_id, self.store = session, post, user_id, store
        self.errors: list[AnswerError] = []

    def __call__(self, path: str, f: Field) -> list[dict[str, Any]] | None:
        posted = self.post.values.get(path + ".attachment")
        uploads = self.post.uploads.get(path, [])
        if posted is None and not uploads:
            return None
        records: dict[str, dict[str, Any]] = {}
        for sha in filter(None, (_sha_of(text) for text in (posted or [])[:50])):
            row = self.session.get(Attachment, sha)
            if row is not None and row.uploaded_by == self.user_id:
                records[sha] = record_of(row)
        for filename, content_type, body in uploads:
            if self.store is None:
                self.errors.append(
                    AnswerError(_path(path), "upload", "Files cannot be uploaded to this server.")
                )
                break
            try:
                record = self.store.put(
                    self.session,
                    body,
                    filename=filename,
                    content_type=content_type,
                    uploaded_by=self.user_id,
                    accept=f.accept if f.type is FieldType.FILE else ("image/*",),
                    max_size=f.max_size or DEFAULT_MAX_SIZE,
                )
            except AttachmentRejected as exc:
                self.errors.append(AnswerError(_path(path), exc.code, exc.message))
                continue
            records.setdefault(record["sha256"], record)
        return list(records.values())


def posted_raw(
    session: Session,
    form: Form,
    post: TaskPost,
    *,
    user_id: str,
    now: datetime,
    store: AttachmentStore | None = None,
) -> tuple[dict[str, Any], list[AnswerError]]:
    """The raw (browser-shaped) answers of a posted task form, and the uploads refused.

    Files come as ``<path>.attachment`` records of attachments this user uploaded (any other is
    dropped: nobody attaches a file they have not seen) or, without the page script, as file
    parts stored in ``store``. Raises ValueError for more than :data:`MAX_FIELDS` inputs.
    """
    if sum(len(v) for v in post.values.values()) > MAX_FIELDS:
        raise ValueError("too many inputs in one form")
    files = _Files(session, post, user_id, store)
    raw: dict[str, Any] = {}
    items = _items(form)
    merge_items(items, raw, FormData(post.values), files)
    defaults: dict[str, Any] = {}
    apply_defaults(items, defaults, env_for({}, now))
    _read_only_defaults(items, defaults, raw)
    return raw, files.errors


def posted_answers(form: Form, raw: Mapping[str, Any]) -> dict[str, Any]:
    """What ``Form.validate(coerce=True)`` reads from the raw answers."""
    return to_answers(_items(form), raw)


def first_raw(form: Form, now: datetime) -> dict[str, Any]:
    """The raw answers a task form starts with: its fields' defaults."""
    raw: dict[str, Any] = {}
    apply_defaults(_items(form), raw, env_for({}, now))
    return raw


def form_context(
    form: Form,
    raw: Mapping[str, Any],
    errors: Sequence[AnswerError],
    *,
    department: str,
    definition_id: int,
    now: datetime,
) -> dict[str, Any]:
    """The template context of the task form: ``form_pages`` ((title, item views) per relevant
    page), ``error_list`` ((href, message) per blocking error, in form order) and ``form_json``
    (the URL of the form's JSON, for the page script's live checks)."""
    by_path: dict[str, AnswerError] = {}
    for error in errors:
        by_path.setdefault(".".join(str(p) for p in error.path), error)
    evaluation = evaluate(form, to_answers(_items(form), raw), now=now)
    pages = [
        (page.title, item_views(page.fields, raw, evaluation=evaluation, errors=by_path))
        for page in evaluation.pages()
    ]
    return {
        "form_pages": pages,
        "error_list": error_links([e for e in errors if e.blocking]),
        "form_json": f"/forms/{department}/{form.id}/v/{definition_id}.json",
    }
