"""What every page of the web app shares: rendering with the signed-in user and CSRF token.

Route modules render through :func:`page`, so every template sees the same context: ``site``
(name, version), ``user`` (the :class:`~engine._principal.Principal`, or None), ``csrf_token``
(to put in every form that posts) and ``path`` (the current URL path, for navigation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from engine._principal import Principal, mask_csrf

if TYPE_CHECKING:
    from engine._web import WebContext

__all__ = ["NO_STORE", "context_of", "page", "principal_of"]

#: Pages with personal data are never kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


def context_of(request: Request) -> WebContext:
    """The app's shared :class:`~engine._web.WebContext`."""
    ctx: WebContext = request.app.state.waypost
    return ctx


def principal_of(request: Request) -> Principal | None:
    """The signed-in user of ``request``, or None."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


def page(request: Request, template: str, /, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the shared context plus ``context``; never cached."""
    ctx = context_of(request)
    user = principal_of(request)
    body = ctx.renderer.render(
        template,
        site=ctx.site,
        user=user,
        csrf_token=mask_csrf(user.csrf_token) if user is not None and user.csrf_token else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)
