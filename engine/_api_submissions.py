"""``/api/v1/submissions``: submit answers (idempotently), list one's own, read one with its timeline.

``POST /submissions`` takes ``{department, form, answers}`` as strict JSON (numbers as numbers,
dates as ``YYYY-MM-DD``). With an ``Idempotency-Key`` header, a retry with the same key and the
same body returns the first result (200 with ``Idempotent-Replayed: true``) and stores nothing;
the same key with a different body is a 409. Keys are per user and per form: the engine stores
``<user id>:<key>`` as the submission's client id, under a unique constraint, so even concurrent
retries store one submission.
"""

from __future__ import annotations

import base64
import binascii
import re
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine._api_common import ApiError, api_user, body_field, endpoint, read_json, storage
from engine._attachments import link_attachments
from engine._audit import deny, record, record_now, request_detail
from engine._database import Database
from engine._definitions import DefinitionNotFound, DefinitionStore
from engine._executor import Runtime, SubmissionResult
from engine._incidents import SubmissionConflict
from engine._principal import Principal
from engine._tables import Instance, InstanceEvent, StepRun, Submission, Task
from forms import AnswerError

__all__ = ["create_submission", "get_submission", "list_submissions", "status_of"]

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,80}$")  # printable ASCII, no spaces; fits the client id column
_BODY_KEYS = frozenset({"department", "form", "answers"})
_SUPERVISOR = "supervisor"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
_NO_STORE = {"Cache-Control": "no-store"}


def answer_errors(errors: tuple[AnswerError, ...]) -> ApiError:
    """The 422 ``invalid_answers`` error listing each blocking problem with its path."""
    fields = [{"path": list(e.path), "code": e.code, "message": e.message} for e in errors]
    count = len(fields)
    message = f"{count} answer{'s' if count != 1 else ''} need{'s' if count == 1 else ''} correcting."
    return ApiError(422, "invalid_answers", message, fields=fields)


def status_of(states: list[str]) -> str:
    """A submission's status from its workflow instances' states."""
    if not states:
        return "received"
    if "failed" in states:
        return "failed"
    if "running" in states:
        return "in_progress"
    if all(s == "cancelled" for s in states):
        return "cancelled"
    return "completed"


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not _KEY_RE.search(key):
        message = "The Idempotency-Key must be 1 to 80 printable ASCII characters without spaces."
        raise ApiError(400, "bad_idempotency_key", message)
    return key


# Per definition store (a process may hold several, tests do): the (release, form) pairs loaded.
_WARMED: weakref.WeakKeyDictionary[DefinitionStore, set[tuple[int, str]]] = weakref.WeakKeyDictionary()


def _warm(db: Database, store: DefinitionStore, department: str, form: str) -> None:
    """Load the current versions of ``form`` and its workflows before the write transaction.

    The definition store reads a version it has not cached yet through a connection of its own,
    and so does the database the first time it names its NOTIFY channel. Inside the transaction,
    that second connection could wait for a pool that concurrent submissions have drained while
    they wait for this transaction's insert: a deadlock until the pool's timeout. Loaded here,
    once per release, nothing is fetched inside.
    """
    _ = db.notify_channel  # cached on first use
    warmed = _WARMED.setdefault(store, set())
    try:
        release = store.release(department)
        if (release.id, form) in warmed:
            return
        store.current_form(department, form)
        store.workflows_for_form(department, form)
    except DefinitionNotFound:
        return  # submit() reports it
    if len(warmed) > 10_000:  # releases come and go; never grow without bound
        warmed.clear()
    warmed.add((release.id, form))


def _submit(
    db_session: Session,
    runtime: Runtime,
    store: DefinitionStore,
    principal: Principal,
    body: tuple[str, str, dict[str, Any]],
    client_id: str | None,
) -> SubmissionResult:
    department, form, answers = body
    if department != principal.department_id:
        try:
            store.release(department, session=db_session)
        except DefinitionNotFound:
            raise ApiError(404, "not_found", f"There is no department '{department}'.") from None
        raise ApiError(403, "forbidden", f"You cannot submit the forms of department '{department}'.")
    try:
        result = runtime.submit(
            db_session, department, form, answers, user_id=principal.user_id, client_id=client_id
        )
    except DefinitionNotFound:
        raise ApiError(404, "not_found", f"Department '{department}' has no form '{form}'.") from None
    except SubmissionConflict:
        message = "This Idempotency-Key was used before with a different body. Use a new key."
        raise ApiError(409, "idempotency_conflict", message) from None
    if result.ok and not result.duplicate and result.submission_id is not None:
        stored = db_session.get(Submission, result.submission_id)
        if stored is not None:
            link_attachments(db_session, stored)
    return result


@endpoint
async def create_submission(request: Request) -> Response:
    """``POST /submissions``: validate and store answers, start the form's workflows."""
    principal = api_user(request, write=True)
    key = _idempotency_key(request)
    body = await read_json(request)
    unknown = sorted(set(body) - _BODY_KEYS)
    if unknown:
        fields = [
            {"path": [k], "code": "unknown_field", "message": f"'{k}' is not expected."} for k in unknown
        ]
        raise ApiError(422, "invalid_body", "The body has unexpected members.", fields=fields)
    department = body_field(body, "department", str)
    form = body_field(body, "form", str)
    answers = body_field(body, "answers", dict)
    db, runtime, store = storage(request)
    client_id = f"{principal.user_id}:{key}" if key is not None else None

    def work() -> SubmissionResult:
        if department == principal.department_id:
            _warm(db, store, department, form)
        with db.session() as session:
            try:
                result = _submit(session, runtime, store, principal, (department, form, answers), client_id)
            except ApiError as exc:
                if exc.status == 403:  # another department's form: refused, and audited
                    deny(
                        db, session, request, record_type="department", record_id=department, reason=exc.code
                    )
                raise
            if result.ok and not result.duplicate:
                record(
                    session,
                    actor=principal.user_id,
                    action="create",
                    record_type="submission",
                    record_id=result.submission_id,
                    detail=request_detail(request, form=f"{department}/{form}"),
                )
            return result

    result = await run_in_threadpool(work)
    if not result.ok:
        raise answer_errors(result.validation.blocking)
    reply = {
        "id": result.submission_id,
        "reference": result.reference,
        "status": "received" if not result.instance_ids else "in_progress",
        "instances": list(result.instance_ids),
        "warnings": [
            {"path": list(e.path), "code": e.code, "message": e.message} for e in result.validation.warnings
        ],
    }
    headers = {"Location": f"/api/v1/submissions/{result.submission_id}", **_NO_STORE}
    if result.duplicate:
        headers["Idempotent-Replayed"] = "true"
        return JSONResponse(reply, status_code=200, headers=headers)
    return JSONResponse(reply, status_code=201, headers=headers)


# Reading -----------------------------------------------------------------------------------------


def _cursor(received_at: datetime, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{received_at.isoformat()}|{ident}".encode()).decode().rstrip("=")


def _read_cursor(text: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        when, ident = raw.split("|", 1)
        at = datetime.fromisoformat(when)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "bad_cursor", "The cursor is not one this API gave out.") from None
    if at.tzinfo is None:
        raise ApiError(400, "bad_cursor", "The cursor is not one this API gave out.")
    return at, ident


def _limit(request: Request) -> int:
    text = request.query_params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ApiError(400, "bad_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(text)


@endpoint
async def list_submissions(request: Request) -> Response:
    """``GET /submissions``: the caller's own submissions, newest first, ``limit`` at a time."""
    principal = api_user(request, query=("limit", "cursor"))
    limit = _limit(request)
    cursor = request.query_params.get("cursor")
    after = _read_cursor(cursor) if cursor else None
    db, _, _ = storage(request)

    def load() -> dict[str, Any]:
        query = select(Submission).where(Submission.submitted_by == principal.user_id)
        if after is not None:
            at, ident = after
            query = query.where(
                or_(Submission.received_at < at, and_(Submission.received_at == at, Submission.id < ident))
            )
        query = query.order_by(Submission.received_at.desc(), Submission.id.desc()).limit(limit + 1)
        with db.session(write=False) as session:
            rows = list(session.scalars(query))
            more = len(rows) > limit
            rows = rows[:limit]
            states: dict[str, list[str]] = {row.id: [] for row in rows}
            if rows:
                found = session.execute(
                    select(Instance.submission_id, Instance.state).where(
                        Instance.submission_id.in_(list(states))
                    )
                )
                for submission_id, state in found:
                    states[str(submission_id)].append(str(state))
        items = [
            {
                "id": row.id,
                "reference": row.reference,
                "department": row.department_id,
                "form": row.form_name,
                "received_at": row.received_at.isoformat(),
                "status": status_of(states[row.id]),
            }
            for row in rows
        ]
        last = rows[-1] if rows and more else None
        return {"items": items, "next_cursor": _cursor(last.received_at, last.id) if last else None}

    return JSONResponse(await run_in_threadpool(load), headers=_NO_STORE)


def _may_read(principal: Principal, row: Submission) -> bool:
    return row.submitted_by == principal.user_id or principal.has_role(_SUPERVISOR, row.department_id)


def submission_detail(session: Session, store: DefinitionStore, row: Submission) -> dict[str, Any]:
    """A submission with its answers, status, workflow instances, timeline, results and tasks."""
    instances = list(
        session.scalars(
            select(Instance)
            .where(Instance.submission_id == row.id)
            .order_by(Instance.created_at, Instance.id)
        )
    )
    ids = [i.id for i in instances]
    events = session.scalars(
        select(InstanceEvent).where(InstanceEvent.instance_id.in_(ids)).order_by(InstanceEvent.id)
    ).all()
    runs = session.scalars(
        select(StepRun)
        .where(StepRun.instance_id.in_(ids), StepRun.state == "succeeded")
        .order_by(StepRun.finished_at, StepRun.id)
    ).all()
    tasks = session.scalars(select(Task).where(Task.instance_id.in_(ids)).order_by(Task.created_at)).all()
    return {
        "id": row.id,
        "reference": row.reference,
        "department": row.department_id,
        "form": row.form_name,
        "definition_id": row.definition_id,
        "received_at": row.received_at.isoformat(),
        "status": status_of([i.state for i in instances]),
        "answers": row.answers,
        "instances": [
            {
                "id": i.id,
                "workflow": store.workflow(i.definition_id).id,
                "state": i.state,
                "created_at": i.created_at.isoformat(),
                "completed_at": i.completed_at.isoformat() if i.completed_at else None,
            }
            for i in instances
        ],
        "timeline": [
            {
                "at": e.at.isoformat(),
                "instance": e.instance_id,
                "kind": e.kind,
                "step": e.step,
                "detail": e.detail,
            }
            for e in events
        ],
        "results": [
            {
                "instance": r.instance_id,
                "step": r.step,
                "outputs": r.outputs,
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            }
            for r in runs
        ],
        "tasks": [{"id": t.id, "title": t.title, "role": t.role, "state": t.state} for t in tasks],
    }


@endpoint
async def get_submission(request: Request) -> Response:
    """``GET /submissions/{id}``: one submission, for its submitter or a supervisor of its department."""
    principal = api_user(request)
    ident = str(request.path_params["id"])
    db, _, store = storage(request)

    def load() -> dict[str, Any] | None:
        with db.session(write=False) as session:
            row = session.get(Submission, ident) if len(ident) <= 36 else None
            if row is None:
                return None
            if not _may_read(principal, row):
                deny(db, session, request, record_type="submission", record_id=row.id, reason="not_permitted")
                return None
            detail = submission_detail(session, store, row)
        record_now(db, request, action="view", record_type="submission", record_id=ident)
        return detail

    found = await run_in_threadpool(load)
    if found is None:
        raise ApiError(404, "not_found", "There is no submission with that id that you can see.")
    return JSONResponse(found, headers=_NO_STORE)
