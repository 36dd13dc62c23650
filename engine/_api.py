"""The JSON API for native clients, mounted at ``/api/v1`` (see docs/api.md).

Clients authenticate with an API token (``Authorization: Bearer wpt_...``); a browser session
works too, and then every POST needs the ``X-CSRF-Token`` header. Every error is
``{"error": {"code", "message", "fields"?}}`` (:mod:`engine._api_common`), including those for
a path or method the API does not have. The endpoints live in :mod:`engine._api_forms`,
:mod:`engine._api_submissions` and :mod:`engine._api_tasks`; attachments share their code with
the browser's routes in :mod:`engine._web_attachments`. :mod:`engine._openapi` describes them all.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from engine import _api_forms as forms
from engine import _api_submissions as submissions
from engine import _api_tasks as tasks
from engine._api_common import ApiError, api_user, endpoint
from engine._openapi import openapi_document
from engine._web_attachments import UPLOAD_QUERY, download, upload

__all__ = ["api_routes", "routes"]

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


@endpoint
async def openapi(request: Request) -> Response:
    """``GET /openapi.json``: the OpenAPI 3.1 document (public, so tools can read it)."""
    server = request.scope.get("root_path", "") or "/api/v1"
    return JSONResponse(openapi_document(server), headers={"Cache-Control": "no-cache"})


@endpoint
async def upload_attachment(request: Request) -> Response:
    """``POST /attachments``: store one file (see :func:`engine._web_attachments.upload`)."""
    return await upload(request, api_user(request, write=True, query=UPLOAD_QUERY))


@endpoint
async def get_attachment(request: Request) -> Response:
    """``GET /attachments/{sha256}``: an attachment's bytes, if the caller may see them."""
    return await download(request, api_user(request))


def api_routes() -> list[Route]:
    """The API's own routes (without the JSON fallback for unknown paths)."""
    return [
        Route("/openapi.json", openapi, methods=["GET"], name="api_openapi"),
        Route("/forms", forms.list_forms, methods=["GET"], name="api_forms"),
        Route("/forms/{department}/{form}", forms.form_definition, methods=["GET"], name="api_form"),
        Route(
            "/forms/{department}/{form}/schema", forms.form_schema, methods=["GET"], name="api_form_schema"
        ),
        Route("/submissions", submissions.list_submissions, methods=["GET"], name="api_submissions"),
        Route("/submissions", submissions.create_submission, methods=["POST"], name="api_submit"),
        Route("/submissions/{id}", submissions.get_submission, methods=["GET"], name="api_submission"),
        Route("/tasks", tasks.list_tasks, methods=["GET"], name="api_tasks"),
        Route("/tasks/{id}", tasks.get_task, methods=["GET"], name="api_task"),
        Route("/tasks/{id}/claim", tasks.claim_task, methods=["POST"], name="api_task_claim"),
        Route("/tasks/{id}/release", tasks.release_task, methods=["POST"], name="api_task_release"),
        Route("/tasks/{id}/complete", tasks.complete_task, methods=["POST"], name="api_task_complete"),
        Route("/attachments", upload_attachment, methods=["POST"], name="api_attachment_upload"),
        Route("/attachments/{sha256}", get_attachment, methods=["GET"], name="api_attachment"),
    ]


def routes() -> list[BaseRoute]:
    """The routes mounted at ``/api/v1``: the API, then a JSON 404/405 for anything else."""
    own = api_routes()

    @endpoint
    async def fallback(request: Request) -> Response:
        # Reached when no route matched fully. A route that matched the path but not the method
        # makes it a 405 with the methods that path has; otherwise there is no such path.
        allowed: set[str] = set()
        for route in own:
            for method in ("GET", "POST"):  # every API route has one of these
                found, _ = route.matches({**request.scope, "method": method})
                if found is Match.FULL and route.methods:
                    allowed |= route.methods
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        raise ApiError(404, "not_found", f"There is no API endpoint at {request.url.path}.")

    return [*own, Route("/{rest:path}", fallback, methods=_ALL_METHODS, name="api_fallback")]
