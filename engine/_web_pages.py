"""The pages of the author preview: the force, a department, a form, a workflow and its diagram.

Every endpoint is a plain function of the request, run by Starlette in a worker thread, because
each may compile definitions (``--reload``) or run Graphviz. What they share (the renderer, the
definitions, the diagram cache) is the :class:`~engine._web.WebContext` in ``app.state.waypost``.
An unknown department, form or workflow raises ``HTTPException(404)``, which the app's handler
turns into an HTML page or a JSON error, whichever the client asked for.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from engine._principal import require_user
from engine._web_preview import DepartmentState
from renderers import form_outline, workflow_outline

if TYPE_CHECKING:
    from engine._web import WebContext

__all__ = [
    "DiagramCache",
    "GraphvizFailed",
    "GraphvizMissing",
    "department_page",
    "form_page",
    "form_schema",
    "index",
    "workflow_diagram",
    "workflow_page",
]

DOT_TIMEOUT = 30.0
# The preview is for authors editing files: a page must always show the files as they are now.
_NO_CACHE = {"Cache-Control": "no-cache"}
UNPROCESSABLE = 422

GRAPHVIZ_MISSING = (
    "The diagram cannot be drawn: Graphviz is not installed on this server.\n"
    "Install it (the `graphviz` package of your system provides the `dot` command) and reload.\n"
    "Meanwhile `waypost diagram WORKFLOW.yaml` prints the workflow as Mermaid text.\n"
)


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` command is not on the PATH."""


class GraphvizFailed(RuntimeError):
    """``dot`` ran but could not draw the graph (its error output is the message)."""


class DiagramCache:
    """SVG drawings of workflows by content hash: a version is drawn once, then served from memory."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def svg(self, key: str, dot: str) -> bytes:
        """The SVG of DOT text ``dot``, cached under ``key`` (the workflow's content hash).

        Raises :class:`GraphvizMissing` or :class:`GraphvizFailed`; failures are not cached, so
        installing Graphviz takes effect at the next request.
        """
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        executable = shutil.which("dot")
        if executable is None:
            raise GraphvizMissing(GRAPHVIZ_MISSING)
        try:
            # Our own DOT text (every label escaped by workflows._diagram) on stdin; no shell.
            done = subprocess.run(  # noqa: S603 - fixed executable found on PATH
                [executable, "-Tsvg"],
                input=dot.encode("utf-8"),
                capture_output=True,
                timeout=DOT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise GraphvizFailed(f"Graphviz could not be run: {error}") from error
        if done.returncode != 0 or not done.stdout:
            raise GraphvizFailed("Graphviz failed: " + done.stderr.decode("utf-8", "replace").strip())
        with self._lock:
            self._cache[key] = done.stdout
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return done.stdout


def _context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.waypost
    # With a database there are users, and the preview is for signed-in staff only. Without one
    # (an author's own machine, listening on 127.0.0.1) there is nobody to sign in as.
    if ctx.db is not None:
        require_user(request)
    return ctx


def _department(request: Request) -> tuple[WebContext, DepartmentState]:
    ctx = _context(request)
    key = request.path_params["department"]
    state = ctx.preview.state().departments.get(key)
    if state is None:
        raise HTTPException(404, f"There is no department '{key}' in {ctx.site['name']}.")
    return ctx, state


def _definition(request: Request, kind: str, param: str) -> tuple[WebContext, DepartmentState, str]:
    ctx, state = _department(request)
    name = request.path_params[param]
    if not state.defines(kind, name):
        what = kind.rstrip("s")
        raise HTTPException(404, f"The department '{state.key}' has no {what} '{name}'.")
    return ctx, state, name


def _html(ctx: WebContext, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = ctx.renderer.render(template, site=ctx.site, preview=True, **context)
    return HTMLResponse(body, status_code=status, headers=_NO_CACHE)


def _problems(ctx: WebContext, state: DepartmentState, what: str, name: str) -> HTMLResponse:
    return _html(ctx, "problems.html", UNPROCESSABLE, dept=state.summary, what=what, name=name)


def _file(state: DepartmentState, kind: str, name: str) -> str:
    sources = state.sources
    files = getattr(sources, kind) if sources is not None else {}
    source = files.get(name)
    return source.name if source is not None else f"{state.folder}/{kind}/{name}.yaml"


def index(request: Request) -> Response:
    """``/preview/``: every department with its forms, workflows and check status."""
    ctx = _context(request)
    force = ctx.preview.state()
    departments = [d.summary for d in force.departments.values()]
    return _html(ctx, "index.html", departments=departments, broken=force.broken, force_problem=force.problem)


def department_page(request: Request) -> Response:
    """``/d/{department}``: the department's roles, forms, workflows and problems."""
    ctx, state = _department(request)
    return _html(ctx, "department.html", dept=state.summary)


def form_page(request: Request) -> Response:
    """``/d/{department}/forms/{form}``: the form's outline, or its department's problems."""
    ctx, state, name = _definition(request, "forms", "form")
    if state.compiled is None:
        return _problems(ctx, state, "form", name)
    form = state.compiled.forms[name]
    return _html(
        ctx, "form.html", dept=state.summary, form=form_outline(form), file=_file(state, "forms", name)
    )


def form_schema(request: Request) -> Response:
    """``/d/{department}/forms/{form}/schema.json``: the JSON Schema of the form's answers."""
    _, state, name = _definition(request, "forms", "form")
    if state.compiled is None:
        return _definition_error(state)
    schema = state.compiled.forms[name].json_schema()
    return JSONResponse(schema, headers=_NO_CACHE)


def workflow_page(request: Request) -> Response:
    """``/d/{department}/workflows/{flow}``: trigger, diagram and the steps in order."""
    ctx, state, name = _definition(request, "workflows", "flow")
    if state.compiled is None:
        return _problems(ctx, state, "workflow", name)
    flow = state.compiled.workflows[name]
    return _html(
        ctx,
        "workflow.html",
        dept=state.summary,
        flow=workflow_outline(flow),
        file=_file(state, "workflows", name),
        diagram_url=f"{request.url.path}/diagram.svg?v={flow.content_hash[:12]}",
    )


def workflow_diagram(request: Request) -> Response:
    """``.../diagram.svg``: the workflow drawn by Graphviz; 503 with the reason when it is missing."""
    ctx, state, name = _definition(request, "workflows", "flow")
    if state.compiled is None:
        return PlainTextResponse(
            f"The department '{state.key}' has problems, so the workflow cannot be drawn.\n",
            status_code=UNPROCESSABLE,
        )
    flow = state.compiled.workflows[name]
    try:
        svg = ctx.diagrams.svg(flow.content_hash, flow.to_dot())
    except GraphvizMissing as error:
        return PlainTextResponse(str(error), status_code=503, headers={"Retry-After": "3600"})
    except GraphvizFailed as error:
        return PlainTextResponse(f"{error}\n", status_code=500)
    # The URL carries the content hash, so a browser may keep a drawing as long as it likes.
    versioned = request.query_params.get("v") == flow.content_hash[:12]
    cache = "public, max-age=31536000, immutable" if versioned else "no-cache"
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": cache})


def _definition_error(state: DepartmentState) -> JSONResponse:
    body = {
        "error": {
            "code": "definition_error",
            "message": f"The department '{state.key}' has {state.summary.status.lower()}.",
            "problems": list(state.summary.problems),
        }
    }
    return JSONResponse(body, status_code=UNPROCESSABLE, headers=_NO_CACHE)
