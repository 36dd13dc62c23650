"""Waypost renderers package."""

__all__: list[str] = []
