"""The Waypost web app, built from data: routes, middleware, exception handlers and a lifespan.

:func:`create_app` builds a Starlette app for a :class:`WebConfig` (encode/starlette's
``Starlette(routes=[...], middleware=[...], exception_handlers={...}, lifespan=...)``). This
first slice serves the author preview of a force's definitions (:mod:`engine._web_pages`);
its lifespan migrates the database, publishes the definitions and runs the in-process
:class:`~engine._worker.Worker`, stopped gracefully when the server shuts down.

Every response carries the security headers of :data:`SECURITY_HEADERS` (a strict
Content-Security-Policy: no inline script or style anywhere), plus HSTS over https.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import _api, _web_attachments, _web_auth, _web_fill, _web_inbox, _web_statement
from engine import _web_pages as pages
from engine._attachments import AttachmentStore
from engine._database import Database
from engine._definitions import DefinitionStore
from engine._demo import demo_password, ensure_demo_users
from engine._executor import Runtime
from engine._principal import AuthMiddleware, PrincipalCache
from engine._queue import JobQueue
from engine._registry import PluginRegistry
from engine._sources import CompiledDepartment
from engine._web_preview import ForcePreview
from engine._worker import Worker
from renderers import HtmlRenderer

__all__ = ["SECURITY_HEADERS", "WebConfig", "WebContext", "create_app"]

log = logging.getLogger("waypost.web")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 500: "internal_error"}


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How to serve: the definitions ``folder`` (a force or one department) and the options.

    ``database_url`` None serves the preview without storage (and so without a worker).
    ``templates`` is a deployment's override folder; ``reload`` re-reads changed definitions
    before each page; ``worker_grace`` is how long jobs in flight may take when stopping;
    ``demo_users`` creates the demo users of :mod:`engine._demo` (for ``make run`` only).
    """

    folder: Path
    database_url: str | None = None
    worker: bool = True
    reload: bool = False
    templates: Path | None = None
    worker_grace: float = 5.0
    attachments: Path = Path("var/attachments")
    demo_users: bool = False


class WebContext:
    """What every page shares: the renderer, the definitions, the diagram cache and storage."""

    def __init__(self, config: WebConfig, registry: PluginRegistry | None = None) -> None:
        self.config = config
        self.registry = registry if registry is not None else PluginRegistry.from_entry_points()
        for problem in self.registry.errors:
            log.warning("%s", problem)
        self.renderer = HtmlRenderer(config.templates, auto_reload=config.reload)
        self.preview = ForcePreview(
            config.folder, self.registry.specs(), reload=config.reload, on_compiled=self.publish
        )
        self.diagrams = pages.DiagramCache()
        self.site: dict[str, Any] = {
            "name": config.folder.resolve().name or str(config.folder),
            "folder": str(config.folder),
            "reload": config.reload,
            "version": _version(),
        }
        self.db: Database | None = None
        self.store: DefinitionStore | None = None
        self.queue: JobQueue | None = None
        self.runtime: Runtime | None = None
        self.principals: PrincipalCache | None = None
        # Form versions as the pages' script reads them, by definition id (they never change).
        self.page_json: dict[int, bytes] = {}
        # No I/O here: the store makes its folders on the first upload.
        self.attachments = AttachmentStore(config.attachments)

    def start(self) -> None:
        """Migrate the database (when there is one), then load and publish every department."""
        if self.config.database_url is not None:
            db = Database(self.config.database_url)
            db.upgrade()
            self.db, self.store = db, DefinitionStore(db, self.registry.specs())
            self.queue = JobQueue(db)
            self.runtime = Runtime(db, self.queue, self.store, self.registry)
            self.principals = PrincipalCache(db)
            # Named once now: asked for the first time inside a request's transaction, it would
            # take a second pooled connection, which concurrent requests could have drained.
            _ = db.notify_channel
        self.preview.load()
        if self.db is not None and self.config.demo_users:
            present = ensure_demo_users(self.db, demo_password())
            log.info("demo users: %s", ", ".join(u.username for u in present) or "none")

    def require_storage(self) -> tuple[Database, Runtime]:
        """The database and runtime; 503 when the server runs the author preview only."""
        if self.db is None or self.runtime is None:
            raise HTTPException(503, "This server shows the author preview only: it has no database.")
        return self.db, self.runtime

    def publish(self, compiled: CompiledDepartment) -> None:
        """Store a department's definitions as its current release (no-op without a database)."""
        if self.db is None or self.store is None:
            return
        with self.db.session() as session:
            result = self.store.publish(session, compiled)
        if result.changed:
            log.info("published %s: %d new definition versions", compiled.department.id, len(result.created))

    def close(self) -> None:
        """Release the database connections."""
        if self.queue is not None:
            self.queue.close()
        if self.db is not None:
            self.db.dispose()
        self.db = self.store = self.queue = self.runtime = self.principals = None


def _version() -> str:
    try:
        return metadata.version("waypost")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "(not installed)"


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response (HSTS only over https)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), https=https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(headers: MutableHeaders, *, https: bool) -> None:
    """Set the security headers on ``headers`` (replacing any a page set itself)."""
    for name, value in SECURITY_HEADERS:
        headers[name] = value
    if https:
        headers[HSTS[0]] = HSTS[1]


def wants_json(request: Request) -> bool:
    """True when the client asked for JSON: a ``.json`` URL, or an Accept header without HTML."""
    if request.url.path.endswith(".json") or request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, message: str) -> Response:
    """An error as JSON ``{"error": {"code", "message"}}`` or as an HTML page, as the client prefers."""
    code = _ERROR_CODES.get(status, "error")
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    ctx: WebContext = request.app.state.waypost
    titles = {404: "Page not found", 405: "Method not allowed", 500: "Sorry, there is a problem"}
    body = ctx.renderer.render(
        "error.html", site=ctx.site, status=status, title=titles.get(status, "Error"), message=message
    )
    return HTMLResponse(body, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    if 300 <= exc.status_code < 400 and exc.headers and "Location" in exc.headers:
        return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
    if exc.status_code == 404 and exc.detail == "Not Found":  # Starlette's own: no route matched
        message = f"There is no page at {request.url.path}."
    else:
        message = str(exc.detail)
    response = error_response(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    # This handler runs outside the middleware stack (in Starlette's ServerErrorMiddleware), so
    # it adds the security headers itself. The traceback goes to the log, never to the page.
    log.error("error serving %s", request.url.path, exc_info=exc)
    message = "Something went wrong showing this page. The details are in the server's log."
    try:
        response = error_response(request, 500, message)
    except Exception:  # the error page itself failed: fall back to plain text
        response = Response(message, status_code=500, media_type="text/plain")
    add_security_headers(response.headers, https=request.url.scheme == "https")
    return response


async def _healthz(request: Request) -> Response:
    """Liveness: the process answers (a load balancer restarts it when this stops)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _readiness(ctx: WebContext) -> dict[str, str]:
    checks: dict[str, str] = {}
    if ctx.db is None:
        checks["database"] = "none: this server shows the author preview only"
    else:
        try:
            current, head = ctx.db.current_revision(), ctx.db.head_revision()
        except Exception as exc:  # unreachable server, bad credentials: the reason, not a traceback
            checks["database"] = f"unreachable: {type(exc).__name__}"
        else:
            checks["database"] = "ok"
            checks["migrations"] = "ok" if current == head else f"at {current}, newest is {head}"
    force = ctx.preview.state()
    working = [key for key, d in force.departments.items() if d.compiled is not None]
    if force.problem or not working:
        checks["definitions"] = force.problem or "no department loads"
    else:
        checks["definitions"] = "ok" if force.broken == 0 else f"{force.broken} department(s) have problems"
    return checks


async def _readyz(request: Request) -> Response:
    """Readiness: the database answers, its schema is the newest, and the definitions load.

    503 with the failing checks otherwise, so a load balancer sends officers elsewhere. A
    department with problems does not make the server unready while another one works: the
    preview shows the problems, and the others keep serving.
    """
    ctx: WebContext = request.app.state.waypost
    checks = await asyncio.to_thread(_readiness, ctx)
    failing = {k: v for k, v in checks.items() if v != "ok" and not v.endswith("have problems")}
    if ctx.db is None:
        failing.pop("database", None)
    status = 503 if failing else 200
    body = {"status": "ready" if status == 200 else "not ready", "checks": checks}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _static(request: Request) -> Response:
    ctx: WebContext = request.app.state.waypost
    asset = ctx.renderer.assets.get(request.path_params["name"])
    if asset is None:
        raise HTTPException(404, f"There is no static file {request.url.path}.")
    etag = f'"{asset.version}"'
    versioned = request.query_params.get("v") == asset.version
    headers = {
        "ETag": etag,
        # A versioned URL never changes content: browsers keep it for a year without asking.
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
    }
    if asset.gzipped:
        headers["Vary"] = "Accept-Encoding"
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if asset.gzipped and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    ctx: WebContext = app.state.waypost
    await asyncio.to_thread(ctx.start)
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    if ctx.runtime is not None and ctx.config.worker:
        worker = Worker(ctx.runtime, grace=ctx.config.worker_grace)
        task = asyncio.create_task(worker.run(stop), name="waypost-worker")
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            try:
                await task
            except Exception:  # the worker logs its own failures; shutting down must go on
                log.exception("the worker stopped with an error")
        await asyncio.to_thread(ctx.close)


def create_app(config: WebConfig, *, registry: PluginRegistry | None = None) -> Starlette:
    """The web app serving ``config``: author preview pages, ``/healthz`` and static files.

    ``registry`` defaults to the plugins installed through entry points.
    """
    preview = [
        Route("/", pages.index, name="index"),
        Route("/d/{department}", pages.department_page, name="department"),
        Route("/d/{department}/forms/{form}", pages.form_page, name="form"),
        Route("/d/{department}/forms/{form}/schema.json", pages.form_schema, name="form_schema"),
        Route("/d/{department}/workflows/{flow}", pages.workflow_page, name="workflow"),
        Route("/d/{department}/workflows/{flow}/diagram.svg", pages.workflow_diagram, name="diagram"),
    ]
    routes: list[BaseRoute] = [
        Route("/healthz", _healthz, name="healthz"),
        Route("/readyz", _readyz, name="readyz"),
        Route("/static/{name:path}", _static, name="static"),
        Mount("/preview", routes=preview, name="preview"),
        *_web_auth.routes(),
        *_web_fill.routes(),
        *_web_inbox.routes(),
        *_web_attachments.routes(),
        *_web_statement.routes(),
        Mount("/api/v1", routes=_api.routes(), name="api"),
    ]
    app = Starlette(
        routes=routes,
        # Pages are gzipped (the bundles are already, once): a tablet on 4G gets a fifth of the
        # bytes. The CSRF token in each page is masked afresh, so compression reveals nothing.
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=1000),
            Middleware(AuthMiddleware),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=_lifespan,
    )
    app.state.waypost = WebContext(config, registry)
    return app
