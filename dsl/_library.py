"""The default function library: every built-in function, grouped by module."""

from __future__ import annotations

from dsl import _lib_core, _lib_dates, _lib_formats, _lib_numbers, _lib_text
from dsl._functions import FunctionLibrary

MODULES = (_lib_core, _lib_dates, _lib_text, _lib_numbers, _lib_formats)
"""The modules whose ``FUNCTIONS`` make up the default library, in documentation order."""


def default_library() -> FunctionLibrary:
    """All built-in functions, in a new library object each call (nothing global is shared)."""
    return FunctionLibrary(fn for module in MODULES for fn in module.FUNCTIONS)


__all__ = ["MODULES", "default_library"]
