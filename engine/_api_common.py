"""What every JSON endpoint shares: the error shape, authentication, and reading request bodies.

Every error of the API is ``{"error": {"code", "message", "fields"?}}`` with a 4xx status (5xx
only for a fault of the server itself). Endpoints raise :class:`ApiError`; :func:`endpoint`
turns it, and the HTTPExceptions of :mod:`engine._principal` (401, 403) and of the app (503),
into that shape, so no endpoint builds an error response by hand and none leaks a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from engine._principal import Principal, check_csrf, require_user

if TYPE_CHECKING:
    from engine._database import Database
    from engine._definitions import DefinitionStore
    from engine._executor import Runtime
    from engine._web import WebContext

__all__ = [
    "JSON_LIMIT",
    "ApiError",
    "Endpoint",
    "api_user",
    "body_field",
    "check_department",
    "endpoint",
    "error_response",
    "read_capped",
    "read_json",
    "storage",
]

log = logging.getLogger("waypost.api")

#: The largest JSON body accepted (answers of a long form are a few kilobytes; photos travel
#: separately as attachments).
JSON_LIMIT = 1024 * 1024
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    503: "unavailable",
}
_JSON_TYPE = re.compile(r"^application/(?:[a-z0-9.+-]+\+)?json$")

Endpoint = Callable[[Request], Awaitable[Response]]
P = ParamSpec("P")


class ApiError(Exception):
    """An error the client can act on: ``status`` (4xx), a stable ``code`` and a ``message``.

    ``fields`` lists field-level problems as ``{"path": [...], "code", "message"}``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields) if fields is not None else None
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> JSONResponse:
    """The JSON response of ``error``."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields is not None:
        body["fields"] = error.fields
    headers = {"Cache-Control": "no-store", **error.headers}
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)


def endpoint(
    func: Callable[Concatenate[Request, P], Awaitable[Response]],
) -> Callable[Concatenate[Request, P], Awaitable[Response]]:
    """Wrap an API endpoint so every failure becomes a JSON error (see the module docstring)."""

    async def wrapped(request: Request, /, *args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await func(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error)
        except HTTPException as exc:
            headers = dict(exc.headers or {})
            if exc.status_code == 401:
                headers.setdefault("WWW-Authenticate", 'Bearer realm="waypost"')
            if 300 <= exc.status_code < 400:  # a page redirect never suits an API client
                exc = HTTPException(401, "Sign in first.")
                headers = {"WWW-Authenticate": 'Bearer realm="waypost"'}
            status = exc.status_code
            code = _CODES.get(status, "error")
            return error_response(ApiError(status, code, str(exc.detail), headers=headers))
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception:
            # A fault of the server: logged with its traceback, answered in the API's shape.
            log.exception("error serving %s %s", request.method, request.url.path)
            return error_response(
                ApiError(500, "internal_error", "Something went wrong. The details are in the server's log.")
            )

    functools.update_wrapper(wrapped, func)
    return wrapped


def api_user(request: Request, *, write: bool = False, query: tuple[str, ...] = ()) -> Principal:
    """The signed-in principal (token or session); for a ``write``, a session must send the CSRF
    token in ``X-CSRF-Token`` (a bearer token needs none: a browser never sends one by itself).

    ``query`` names the query parameters the endpoint reads: any other, or one given twice, is a
    400, so a client's typo (``?limt=5``) is reported instead of silently ignored.
    """
    principal = require_user(request)
    if write:
        check_csrf(request, None)
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in query:
            raise ApiError(400, "unknown_parameter", f"This endpoint has no query parameter '{name[:40]}'.")
        if name in seen:
            raise ApiError(400, "repeated_parameter", f"Give the query parameter '{name}' once.")
        seen.add(name)
    return principal


def storage(request: Request) -> tuple[Database, Runtime, DefinitionStore]:
    """The database, runtime and definition store; 503 when the server has no database."""
    ctx: WebContext = request.app.state.waypost
    db, runtime = ctx.require_storage()
    return db, runtime, runtime.store


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes (streamed, so a
    huge upload is never held in memory)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "bad_request", "The Content-Length header is not a number.")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"The request body must be at most {limit} bytes.")


async def read_json(request: Request, *, limit: int = JSON_LIMIT) -> dict[str, Any]:
    """The body as a JSON object: 415 unless it is sent as JSON, 400 when it does not parse,
    422 when it is not an object."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not _JSON_TYPE.search(kind):
        raise ApiError(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        )
    data = await read_capped(request, limit)
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_body", "The body must be a JSON object.")
    return value


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, whatever Python's json module accepts by default.
    raise ValueError(f"{name} is not allowed in JSON")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def body_field(body: Mapping[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    """``body[name]``, checked to be a ``kind``; 422 ``invalid_body`` naming the field otherwise."""
    if name not in body or body[name] is None:
        if required:
            raise _field_error(name, "required", f"'{name}' is required.")
        return None
    value = body[name]
    if type(value) is not kind:
        words = {"str": "a string", "dict": "an object", "list": "an array"}.get(kind.__name__, kind.__name__)
        raise _field_error(name, "type", f"'{name}' must be {words}.")
    return value


def _field_error(name: str, code: str, message: str) -> ApiError:
    return ApiError(422, "invalid_body", message, fields=[{"path": [name], "code": code, "message": message}])


def check_department(principal: Principal, department: str, known: bool) -> None:
    """A user uses the forms of their own department only: 404 for an unknown department,
    403 for another department's."""
    if not known:
        raise ApiError(404, "not_found", f"There is no department '{department}'.")
    if department != principal.department_id:
        raise ApiError(403, "forbidden", f"You cannot use the forms of department '{department}'.")
