"""Waypost step plugin `pnc.person_check`: check a person against the national records service."""

from waypost_pnc_check.plugin import PersonCheckPlugin, plugin

__all__ = ["PersonCheckPlugin", "plugin"]
