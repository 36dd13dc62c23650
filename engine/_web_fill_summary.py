"""Answers as people read them: the rows of a check-your-answers page and a submission's timeline.

:func:`summary_sections` walks a form's relevant pages over normalised answers (from
:func:`forms.evaluate` or stored submissions) and gives one section per page, each a list of
:class:`Row` (a repeat's row holds one sub-list per item). :func:`timeline` words a workflow
instance's events for the officer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dsl._env import LONDON
from engine._drafts import dotted
from engine._tables import InstanceEvent
from forms import Evaluation, Field, FieldType, Group, Item, Page, Repeat, Text

__all__ = ["Row", "Section", "format_when", "humanise", "summary_sections", "timeline"]

FT = FieldType


@dataclass(slots=True)
class Row:
    """One answer: its label, its value as text (or files, or repeat items) and a change link."""

    label: Text
    value: str = ""
    change: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    entries: list[tuple[str, list[Row]]] = field(default_factory=list)


@dataclass(slots=True)
class Section:
    """The answers of one page."""

    page: Page
    rows: list[Row]


def summary_sections(evaluation: Evaluation, change_url: str | None = None) -> list[Section]:
    """Every relevant page with its answered items. ``change_url`` is a format string with
    ``{page}`` and ``{anchor}`` for "Change" links (None: no links)."""
    sections = []
    for page in evaluation.pages():
        rows: list[Row] = []
        for item in page.fields:
            _rows(item, evaluation, evaluation.answers, (), page, change_url, rows)
        if rows:
            sections.append(Section(page, rows))
    return sections


def _rows(
    item: Item,
    evaluation: Evaluation,
    answers: dict[str, Any],
    prefix: tuple[Any, ...],
    page: Page,
    change_url: str | None,
    out: list[Row],
) -> None:
    value = answers.get(item.id)
    path = (*prefix, item.id)
    if value is None or evaluation.is_hidden(path):
        return
    label = item.label or Text(humanise(item.id))
    change = (
        change_url.format(page=page.id, anchor="f-" + dotted(prefix, item.id).replace(".", "-"))
        if change_url
        else None
    )
    if isinstance(item, Group):
        if isinstance(value, dict):
            for child in item.fields:
                _rows(child, evaluation, value, path, page, change_url, out)
        return
    if isinstance(item, Repeat):
        if not isinstance(value, list) or not value:
            return
        row = Row(label, change=change)
        for index, entry in enumerate(value):
            sub: list[Row] = []
            for child in item.fields:
                _rows(child, evaluation, entry, (*path, index), page, change_url, sub)
            legend = f"Item {index + 1}"
            if item.item_label is not None:
                try:
                    text = item.item_label(evaluation.env.push(entry)).strip(" :–-,()")
                except Exception:  # a label is decoration: never fail the page for it
                    text = ""
                legend = f"{legend}: {text}" if text else legend
            row.entries.append((legend, sub))
        out.append(row)
        return
    if item.type is FT.CALCULATE and item.label is None:
        return
    row = Row(label, change=None if item.type is FT.CALCULATE else change)
    if item.type in (FT.PHOTO, FT.FILE, FT.SIGNATURE):
        records = value if isinstance(value, list) else [value]
        row.files = [
            {**r, "image": str(r.get("content_type", "")).startswith("image/")}
            for r in records
            if isinstance(r, dict)
        ]
    else:
        row.value = show_value(item, value)
    out.append(row)


def show_value(f: Field, value: Any) -> str:
    """One normalised answer as an officer reads it."""
    if f.type is FT.YESNO or isinstance(value, bool):
        if value:
            return (f.yes_label or Text("Yes")).en
        return (f.no_label or Text("No")).en
    if f.type in (FT.SELECT_ONE, FT.SELECT_MANY) and f.choices is not None:
        chosen = value if isinstance(value, list) else [value]
        labels = []
        for v in chosen:
            found = f.choices.get(v) if isinstance(v, str) else None
            labels.append(found.label.en if found is not None else str(v))
        return "\n".join(labels)
    if f.type is FT.GEOPOINT and isinstance(value, dict):
        text = f"{value.get('lat')}, {value.get('lon')}"
        return text + (
            f" (accurate to {value['accuracy']:g} metres)" if value.get("accuracy") is not None else ""
        )
    if isinstance(value, (dt.date, dt.time, str)) and f.type in (FT.DATE, FT.DATETIME, FT.TIME):
        return format_when(value)
    if isinstance(value, float) and f.places is not None:
        return f"{value:.{f.places}f}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dt.date, dt.time)):
        return format_when(value)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def format_when(value: Any) -> str:
    """A date, time or datetime (or ISO text of one) in UK style and UK local time."""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        local = value.astimezone(LONDON) if value.tzinfo is not None else value
        return f"{local.day} {local:%B %Y} at {local:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    return str(value)


def humanise(ident: str) -> str:
    """``record_crime`` as "Record crime"."""
    text = ident.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


#: Instance events the officer sees, and how they read. Others (routing, tokens) are internal.
_WORDS = {
    "started": "Received and started: {workflow}",
    "step_completed": "Done: {step}",
    "step_retry": "Trying again soon: {step}",
    "task_created": "Sent to {role} ({step})",
    "task_claimed": "Picked up for review ({step})",
    "task_released": "Returned to the review queue ({step})",
    "task_completed": "Review finished ({step})",
    "task_overdue": "Review is overdue ({step})",
    "timer_fired": "Waited as planned ({step})",
    "incident": "A problem needs attention at: {step}. The support team has been told.",
    "incident_retried": "Trying again: {step}",
    "completed": "Finished",
}


def timeline(events: list[InstanceEvent], roles: dict[str, str]) -> list[tuple[str, str, str]]:
    """(what happened, ISO time, UK time as text) for the events an officer cares about, oldest first."""
    out = []
    for e in events:
        words = _WORDS.get(e.kind)
        if words is None:
            continue
        detail = e.detail if isinstance(e.detail, dict) else {}
        role = str(detail.get("role", ""))
        text = words.format(
            step=humanise(e.step or ""),
            role=roles.get(role, humanise(role) if role else "a supervisor").lower(),
            workflow=humanise(str(detail.get("workflow", "workflow"))),
        )
        out.append((text, e.at.isoformat(), format_when(e.at)))
    return out
