"""Waypost forms package."""

__all__: list[str] = []
