"""The officer's pages: home, filling a form page by page, drafts, submission (being built)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine._web_common import context_of

__all__ = ["routes"]


def home(request: Request) -> Response:
    """``/``: the author preview when the server has no database."""
    if context_of(request).db is None:
        return RedirectResponse("/preview/", status_code=303)
    return RedirectResponse("/preview/", status_code=303)


def routes() -> list[BaseRoute]:
    """The routes this module serves."""
    return [Route("/", home, name="home")]
