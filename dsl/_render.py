"""How values are written as text: in templates and by the ``text()`` function.

The rules are part of the language (docs/expressions.md) and shared with the browser runtime:
null is empty, whole numbers have no ".0", booleans are "yes"/"no", dates are YYYY-MM-DD, times
HH:MM and datetimes YYYY-MM-DDTHH:MM in UK local time. Lists are joined with ", ", an attachment
shows its file name and a geopoint "lat, lon"; any other record renders as empty text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from dsl._env import LONDON


def render(value: Any) -> str:
    """``value`` as an author sees it in a rendered template."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return render_number(value)
    if isinstance(value, dt.datetime):
        local = value.astimezone(LONDON) if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(render(item) for item in value)
    if isinstance(value, Mapping):
        if "filename" in value:
            return render(value.get("filename"))
        if "lat" in value and "lon" in value:
            return f"{render(value.get('lat'))}, {render(value.get('lon'))}"
        return ""
    return str(value)


def render_number(value: float) -> str:
    """A float without a trailing ".0" when it is whole; non-finite values render as empty text."""
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


__all__ = ["render", "render_number"]
