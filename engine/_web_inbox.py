"""Routes of the web app (being built: see the module's owner)."""

from __future__ import annotations

from starlette.routing import BaseRoute

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    """The routes this module serves."""
    return []
