"""The evaluation environment: the answers an expression reads, the clock and the time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
"""The zone dates are reckoned in (``today()``, local datetime literals, rendering)."""


@dataclass(frozen=True, slots=True)
class Env:
    """Values for one evaluation: one mapping per scope frame, the current time and the zone.

    ``frames`` line up with the :class:`dsl.Scope` the expression was compiled in (frame 0 is the
    form's answers). A key missing from a frame means the answer is null. ``now`` must be an aware
    datetime; ``today()`` is ``now`` converted to ``tz``.
    """

    frames: tuple[Mapping[str, Any], ...]
    now: dt.datetime
    tz: dt.tzinfo = field(default=LONDON)

    @staticmethod
    def of(*frames: Mapping[str, Any], now: dt.datetime | None = None, tz: dt.tzinfo | None = None) -> Env:
        """An environment over ``frames`` (outermost first); ``now`` defaults to the current UTC time."""
        if now is None:
            now = dt.datetime.now(dt.UTC)
        elif now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("Env.now must be an aware datetime")
        return Env(tuple(frames), now, tz if tz is not None else LONDON)

    def push(self, frame: Mapping[str, Any]) -> Env:
        """A new environment with ``frame`` innermost (one item of a repeat)."""
        return Env((*self.frames, frame), self.now, self.tz)


__all__ = ["LONDON", "Env"]
