"""Draft answers as the browser shapes them, and turning them into answers a form validates.

A draft keeps what the officer typed, exactly (``drafts.answers``), so a page shown again shows
the same text, even text that does not validate yet. The shape ("raw answers") follows the
answer paths: groups are mappings, repeats lists of mappings; text is kept as typed; a date is
``{"day", "month", "year"}``, a datetime the same plus ``"time"``; yes/no is ``"yes"``/``"no"``;
a multiple choice a list; photos and files a list of attachment records, a signature one record;
a location ``{"lat", "lon", "accuracy"}``.

:func:`merge_items` copies one page's posted fields into the raw answers (only that page's:
other pages are untouched; an unticked checkbox means no answer). :func:`to_answers` turns raw
answers into what :meth:`forms.Form.validate` reads with ``coerce=True``. :func:`apply_defaults`
fills in the author's defaults the first time a page or a repeat item is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from dsl import Env
from dsl._env import LONDON
from forms import Field, FieldType, Group, Item, Repeat

FT = FieldType

#: Longest text kept from one input: far above any field's limit (validation reports the limit),
#: so a pasted megabyte never bloats a draft.
MAX_TEXT = 50_000
#: Repeat items kept when the author set no maximum.
MAX_ITEMS = 100
_PART_LENGTH = 12
_DATE_PARTS = ("day", "month", "year")
_GEO_PARTS = ("lat", "lon", "accuracy")
_ATTACHMENT_TYPES = frozenset({FT.PHOTO, FT.FILE, FT.SIGNATURE})

#: Reads the attachments posted for one field: (dotted path, field) -> records, or None to keep.
AttachmentReader = Callable[[str, Field], "list[dict[str, Any]] | None"]


class FormData:
    """The posted values of one page: ``get(name)`` (first value) and ``getlist(name)``."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self.values = values

    def get(self, name: str, limit: int = MAX_TEXT) -> str:
        """The first value posted as ``name`` ('' when none), cut to ``limit`` characters."""
        found = self.values.get(name)
        return found[0][:limit] if found else ""

    def getlist(self, name: str) -> list[str]:
        """Every value posted as ``name`` (at most 500, each cut to 200 characters)."""
        return [v[:200] for v in self.values.get(name, [])[:500]]

    def has(self, name: str) -> bool:
        """True when ``name`` was posted at all."""
        return name in self.values


def dotted(prefix: tuple[Any, ...], ident: str) -> str:
    """The dotted path of ``ident`` under ``prefix``: ``exhibits.0.exhibit_ref``."""
    return ".".join(str(p) for p in (*prefix, ident))


def max_items(repeat: Repeat) -> int:
    """The most items a repeat may have here (the author's maximum, else :data:`MAX_ITEMS`)."""
    return repeat.max_items if repeat.max_items is not None else MAX_ITEMS


def merge_items(
    items: tuple[Item, ...],
    raw: dict[str, Any],
    posted: FormData,
    attachments: AttachmentReader,
    prefix: tuple[Any, ...] = (),
) -> None:
    """Copy the posted values of ``items`` (and everything inside them) into ``raw``."""
    for item in items:
        path = dotted(prefix, item.id)
        if isinstance(item, Group):
            sub = raw.get(item.id)
            sub = sub if isinstance(sub, dict) else {}
            merge_items(item.fields, sub, posted, attachments, (*prefix, item.id))
            raw[item.id] = sub
        elif isinstance(item, Repeat):
            entries = raw.get(item.id)
            entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
            count = len(entries)
            text = posted.get(path + "._count", 6).strip()
            if text.isdigit():
                count = min(int(text), max_items(item))
            entries = entries[:count] + [{} for _ in range(count - len(entries))]
            for index, entry in enumerate(entries):
                merge_items(item.fields, entry, posted, attachments, (*prefix, item.id, index))
            raw[item.id] = entries
        elif item.takes_answer and not item.read_only:  # read-only: keep what the server set
            value = _posted_value(item, path, posted, attachments, raw.get(item.id))
            if value in (None, "", [], {}):
                raw.pop(item.id, None)
            else:
                raw[item.id] = value


def _posted_value(f: Field, path: str, posted: FormData, attachments: AttachmentReader, old: Any) -> Any:
    if f.type is FT.DATE:
        return _parts(posted, path, _DATE_PARTS)
    if f.type is FT.DATETIME:
        return _parts(posted, path, (*_DATE_PARTS, "time"))
    if f.type is FT.GEOPOINT:
        return _parts(posted, path, _GEO_PARTS)
    if f.type is FT.SELECT_MANY:
        return [v for v in posted.getlist(path) if v]
    if f.type in _ATTACHMENT_TYPES:
        records = attachments(path, f)
        if records is None:
            return old
        if f.type is FT.SIGNATURE:
            return records[-1] if records else None
        return records
    return posted.get(path)


def _parts(posted: FormData, path: str, names: tuple[str, ...]) -> dict[str, str] | None:
    parts = {name: posted.get(f"{path}.{name}", _PART_LENGTH).strip() for name in names}
    return parts if any(parts.values()) else None


def to_answers(items: tuple[Item, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers :meth:`forms.Form.validate` reads (``coerce=True``) from raw answers."""
    out: dict[str, Any] = {}
    for item in items:
        value = raw.get(item.id)
        if value is None:
            continue
        if isinstance(item, Group):
            if isinstance(value, dict):
                out[item.id] = to_answers(item.fields, value)
        elif isinstance(item, Repeat):
            if isinstance(value, list):
                out[item.id] = [to_answers(item.fields, e) if isinstance(e, dict) else {} for e in value]
        elif item.takes_answer:
            found = _answer(item, value)
            if found is not None:
                out[item.id] = found
    return out


def _answer(f: Field, value: Any) -> Any:
    if f.type is FT.DATETIME and isinstance(value, dict):
        day, month, year, time = (str(value.get(k) or "").strip() for k in (*_DATE_PARTS, "time"))
        if not (day or month or year or time):
            return None
        # An incomplete or impossible date and time becomes text that fails with the usual message.
        return f"{year}-{month.zfill(2)}-{day.zfill(2)} {time or '??'}"
    if f.type is FT.GEOPOINT and isinstance(value, dict):
        parts = {k: str(value.get(k) or "").strip() for k in _GEO_PARTS}
        if not parts["lat"] and not parts["lon"]:
            return None
        return {k: v for k, v in parts.items() if v or k != "accuracy"}
    if isinstance(value, str) and not value.strip():
        return None
    return value


def raw_value(f: Field, value: Any) -> Any:
    """A normalised answer (a default, say) in the raw shape the page shows."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        local = value.astimezone(LONDON) if value.tzinfo is not None else value
        return {
            "day": str(local.day),
            "month": str(local.month),
            "year": str(local.year),
            "time": f"{local:%H:%M}",
        }
    if isinstance(value, dt.date):
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    return value if isinstance(value, (str, dict)) else str(value)


def apply_defaults(items: tuple[Item, ...], raw: dict[str, Any], env: Env) -> None:
    """Fill in each unanswered field's default (fixed, or its ``default_expr`` in ``env``).

    Repeat items get theirs when they are added (:func:`new_entry`), not here."""
    for item in items:
        if isinstance(item, Group):
            sub = raw.get(item.id)
            sub = sub if isinstance(sub, dict) else {}
            apply_defaults(item.fields, sub, env)
            if sub:
                raw[item.id] = sub
        elif isinstance(item, Field) and item.takes_answer and item.id not in raw:
            value = item.default
            if value is None and item.default_expr is not None:
                value = item.default_expr(env)
            shaped = raw_value(item, value)
            if shaped not in (None, "", []):
                raw[item.id] = shaped


def new_entry(repeat: Repeat, env: Env) -> dict[str, Any]:
    """A new item of ``repeat`` with its fields' defaults."""
    entry: dict[str, Any] = {}
    apply_defaults(repeat.fields, entry, env.push(entry))
    return entry


def locate(items: tuple[Item, ...], raw: dict[str, Any], path: str) -> tuple[Item, Any, Any] | None:
    """The item at dotted ``path`` with the raw container it lives in and its key there
    (the list and index for a repeat item path such as ``exhibits.2``); None when ``path`` names
    nothing on this page."""
    parts = path.split(".")
    level, container = items, raw
    index = 0
    while index < len(parts):
        item = next((i for i in level if i.id == parts[index]), None)
        if item is None:
            return None
        if index == len(parts) - 1:
            return item, container, item.id
        if isinstance(item, Group):
            sub = container.get(item.id)
            if not isinstance(sub, dict):
                sub = container[item.id] = {}
            level, container, index = item.fields, sub, index + 1
        elif isinstance(item, Repeat):
            entries = container.get(item.id)
            step = parts[index + 1]
            if not isinstance(entries, list) or not step.isdigit() or int(step) >= len(entries):
                return None
            if index + 1 == len(parts) - 1:
                return item, entries, int(step)
            level, container, index = item.fields, entries[int(step)], index + 2
        else:
            return None
    return None


def env_for(answers: dict[str, Any], now: dt.datetime) -> Env:
    """An environment over normalised ``answers`` at ``now``, in UK time."""
    return Env((answers,), now.astimezone(LONDON), LONDON)


def fill_minimum(items: tuple[Item, ...], raw: dict[str, Any], env: Env) -> None:
    """Give every repeat in ``items`` its minimum number of items (new ones with defaults)."""
    for item in items:
        if isinstance(item, Group):
            sub = raw.get(item.id)
            if isinstance(sub, dict):
                fill_minimum(item.fields, sub, env)
        elif isinstance(item, Repeat):
            entries = raw.get(item.id)
            entries = entries if isinstance(entries, list) else []
            while len(entries) < item.min_items:
                entries.append(new_entry(item, env))
            for entry in entries:
                if isinstance(entry, dict):
                    fill_minimum(item.fields, entry, env.push(entry))
            if entries:
                raw[item.id] = entries
