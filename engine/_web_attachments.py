"""Uploading and downloading attachments: ``POST /attachments`` and ``GET /attachments/{sha256}``.

The page's JavaScript uploads each photo, signature or file as soon as it is captured, before
the page is posted, and puts the returned record in a hidden input (see /tmp/wp/MARKUP.md). The
body is the file's bytes, with its type in ``Content-Type``, its name in ``X-Filename``
(URL-encoded), the SHA-256 the tablet computed in ``X-Sha256`` and when it was taken in
``X-Captured-At``; a ``multipart/form-data`` body with a ``file`` part works too. The query
parameters ``department``, ``form`` and ``field`` name the field the file is for, so its
``accept`` types and ``max_size`` are enforced at once, not only when the form is submitted.

The API serves the same two operations under ``/api/v1/attachments`` (:func:`upload`,
:func:`download`). Reading an attachment needs a reason: the user uploaded it, submitted it,
or holds a role in the submission's department that the case is for (a supervisor, or the role of
one of its tasks). Everyone else gets 404, so a hash never confirms that a file exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from engine._api_common import ApiError, api_user, endpoint, read_capped, storage
from engine._api_forms import load_form
from engine._attachments import AttachmentRejected
from engine._audit import deny, record_now
from engine._principal import Principal, require_user
from engine._tables import Attachment, Instance, Submission, Task
from forms import Form
from forms._fields import FieldType
from forms._model import Field

if TYPE_CHECKING:
    from engine._web import WebContext

__all__ = ["UPLOAD_LIMIT", "UPLOAD_QUERY", "download", "routes", "upload"]

#: The hard ceiling on one upload, whatever a field allows (25 MiB; the multipart envelope gets a
#: little more). Bodies are streamed and refused with 413 as soon as they pass it.
UPLOAD_LIMIT = 25 * 1024 * 1024
_MULTIPART_SLACK = 64 * 1024
_ATTACHMENT_TYPES = (FieldType.PHOTO, FieldType.FILE, FieldType.SIGNATURE)
_SUPERVISOR = "supervisor"
#: The query parameters of an upload: the field the file is for.
UPLOAD_QUERY = ("department", "form", "field")


def routes() -> list[BaseRoute]:
    """The browser's attachment routes (session cookie; uploads need the CSRF header)."""
    return [
        Route("/attachments", browser_upload, methods=["POST"], name="attachment_upload"),
        Route("/attachments/{sha256}", browser_download, methods=["GET"], name="attachment"),
    ]


@endpoint
async def browser_upload(request: Request) -> Response:
    """``POST /attachments``: store one file for the signed-in user; 201 with its record."""
    return await upload(request, api_user(request, write=True, query=UPLOAD_QUERY))


async def browser_download(request: Request) -> Response:
    """``GET /attachments/{sha256}``: the file, if the user may see it."""
    principal = require_user(request)  # outside `endpoint`: a signed-out browser goes to sign-in
    return await endpoint(download)(request, principal)


# Uploading -------------------------------------------------------------------------------------


def find_field(form: Form, path: str) -> Field | None:
    """The field an answer path names (``exhibits.0.photos`` or ``exhibits.photos``), or by id."""
    parts = tuple(part for part in path.split(".") if part and not part.isdigit())
    for item in form.items():
        if isinstance(item, Field) and (item.path == parts or (len(parts) == 1 and item.id == parts[0])):
            return item
    return None


def _limits(request: Request, principal: Principal) -> tuple[tuple[str, ...], int | None]:
    """The accepted types and size limit of the field the query parameters name (none: any type)."""
    params = request.query_params
    names = {key: params.get(key) for key in ("department", "form", "field")}
    if not any(names.values()):
        return (), None
    missing = [key for key, value in names.items() if not value]
    if missing:
        message = "Name the department, form and field together (missing: " + ", ".join(missing) + ")."
        raise ApiError(422, "invalid_query", message)
    department, form_name, path = (str(names[k]) for k in ("department", "form", "field"))
    _, _, store = storage(request)
    _, form = load_form(store, principal, department, form_name)
    field = find_field(form, path)
    if field is None:
        raise ApiError(404, "not_found", f"Form '{form_name}' has no field '{path}'.")
    if field.type not in _ATTACHMENT_TYPES:
        raise ApiError(422, "invalid_query", f"Field '{path}' does not take files.")
    if field.type is FieldType.FILE:
        return field.accept, field.max_size
    return ("image/*",), field.max_size  # photos and signatures are images, whatever else is said


async def upload(request: Request, principal: Principal) -> Response:
    """Check and store the uploaded file of ``request`` (raw body or multipart); 201 + record."""
    accept, max_size = await run_in_threadpool(_limits, request, principal)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        data, meta = await _multipart(request)
    else:
        data = await read_capped(request, UPLOAD_LIMIT)
        meta = {
            "filename": unquote(request.headers.get("x-filename", "")),
            "content_type": kind or "application/octet-stream",
            "sha256": request.headers.get("x-sha256"),
            "captured_at": request.headers.get("x-captured-at"),
        }
    ctx: WebContext = request.app.state.waypost
    db, _, _ = storage(request)

    def store() -> dict[str, Any]:
        with db.session() as session:
            return ctx.attachments.put(
                session,
                data,
                filename=meta["filename"] or "upload",
                content_type=meta["content_type"],
                uploaded_by=principal.user_id,
                captured_at=meta["captured_at"],
                declared_sha256=meta["sha256"],
                accept=accept,
                max_size=max_size,
            )

    try:
        record = await run_in_threadpool(store)
    except AttachmentRejected as rejected:
        status = 413 if rejected.code == "max_size" else 422
        raise ApiError(status, rejected.code, rejected.message) from None
    return JSONResponse(record, status_code=201, headers={"Cache-Control": "no-store"})


async def _multipart(request: Request) -> tuple[bytes, dict[str, Any]]:
    body = await read_capped(request, UPLOAD_LIMIT + _MULTIPART_SLACK)
    sent = False

    async def replay() -> Message:
        # The body was read (and capped) already: hand it to the form parser once more.
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise ApiError(422, "invalid_body", "Send the file in a part named 'file'.")
        data = await part.read()
        if len(data) > UPLOAD_LIMIT:
            raise ApiError(413, "too_large", f"The file must be at most {UPLOAD_LIMIT} bytes.")

        def text(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) else None

        meta = {
            "filename": part.filename or "",
            "content_type": part.content_type or "application/octet-stream",
            "sha256": text("sha256") or request.headers.get("x-sha256"),
            "captured_at": text("captured_at") or request.headers.get("x-captured-at"),
        }
        return data, meta
    finally:
        await form.close()


# Downloading -----------------------------------------------------------------------------------


def may_read(session: Any, principal: Principal, row: Attachment) -> bool:
    """True when ``principal`` may see attachment ``row`` (see the module docstring)."""
    if row.uploaded_by == principal.user_id:
        return True
    if row.submission_id is None:
        return False
    submission = session.get(Submission, row.submission_id)
    if submission is None:
        return False
    if submission.submitted_by == principal.user_id:
        return True
    roles = principal.roles_in(submission.department_id)
    if _SUPERVISOR in roles:
        return True
    if not roles:
        return False
    task_roles = session.scalars(
        select(Task.role)
        .join(Instance, Instance.id == Task.instance_id)
        .where(Instance.submission_id == submission.id)
    ).all()
    return bool(roles & set(task_roles))


async def download(request: Request, principal: Principal) -> Response:
    """The bytes of ``{sha256}`` if ``principal`` may read them; 404 otherwise."""
    sha = str(request.path_params["sha256"]).lower()
    ctx: WebContext = request.app.state.waypost
    db, _, _ = storage(request)

    def find() -> tuple[str, str] | None:
        with db.session(write=False) as session:
            row = ctx.attachments.row(session, sha)
            if row is None:
                return None
            if not may_read(session, principal, row):
                deny(db, session, request, record_type="attachment", record_id=sha, reason="not_permitted")
                return None
            found = row.content_type, row.filename or "download"
            submission = row.submission_id
        record_now(db, request, action="view", record_type="attachment", record_id=sha, submission=submission)
        return found

    found = await run_in_threadpool(find)
    if found is None:
        raise ApiError(404, "not_found", "There is no attachment with that SHA-256 that you can see.")
    content_type, filename = found
    etag = f'"{sha}"'
    headers = {
        "ETag": etag,
        # The bytes behind a hash never change, but who may see them can: keep it private.
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    # Stored images were checked against their bytes, so only they are shown inline; anything
    # else is a download, never rendered by the browser in this origin.
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename, safe='')}"
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    try:
        data = await run_in_threadpool(ctx.attachments.open, sha)
    except FileNotFoundError:
        raise ApiError(404, "not_found", "The attachment's file is missing from the store.") from None
    return Response(data, media_type=content_type, headers=headers)
