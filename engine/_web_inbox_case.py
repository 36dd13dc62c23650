"""What a supervisor sees of a case: the answers, the workflow's history and its case data.

Everything here turns stored rows into plain, display-ready rows for the ``task.html`` template,
so the template needs no knowledge of field types, and nothing an officer typed is ever marked
safe (the template autoescapes every value). Answers are read back through the form the
submission was validated against (``Submission.definition_id``), so labels and choice labels are
the ones the officer saw, even after the form has changed since.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsl import Env
from dsl._env import LONDON
from engine._tables import CaseValue, InstanceEvent, User
from forms import Field, Form, Group, Item, Repeat, Text
from forms import FieldType as FT

__all__ = [
    "AnswerRow",
    "HistoryEntry",
    "answer_sections",
    "case_rows",
    "format_when",
    "history",
    "humanise",
    "user_names",
]

#: Attachment types shown as pictures; anything else is a download link.
_PICTURES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One row of a summary list.

    ``level`` is how deep the row sits inside groups and repeat items (0 at the top);
    ``heading`` rows name a group or a repeat item and carry no value. ``lines`` is the value
    as lines of text; ``pictures`` and ``files`` are attachment records; ``signature`` marks a
    signature picture.
    """

    label: Text
    lines: tuple[str, ...] = ()
    level: int = 0
    heading: bool = False
    pictures: tuple[Mapping[str, Any], ...] = ()
    files: tuple[Mapping[str, Any], ...] = ()
    signature: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """The answers of one page of the form, under the page's title."""

    title: Text | None
    rows: tuple[AnswerRow, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a case's timeline: when, and what happened in words."""

    at: dt.datetime
    when: str
    text: str


def humanise(name: str) -> str:
    """``create_crime`` -> ``Create crime``: a step or case value name, for people."""
    words = name.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def format_when(value: dt.datetime | None) -> str:
    """``2 June 2025 at 01:30`` in UK time, or an empty string."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def _date(text: str) -> str:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def _datetime(text: str) -> str:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is None:
        return text
    return format_when(when)


def _choice(f: Field, value: Any) -> str:
    choice = f.choices.get(str(value)) if f.choices is not None else None
    return choice.label.en if choice is not None else str(value)


def _attachments(value: Any) -> list[Mapping[str, Any]]:
    given = value if isinstance(value, list) else [value]
    return [a for a in given if isinstance(a, Mapping) and isinstance(a.get("sha256"), str)]


def _field_row(f: Field, value: Any, level: int) -> AnswerRow:
    label = f.label or Text(humanise(f.id))
    kind = f.type
    if kind in (FT.PHOTO, FT.FILE, FT.SIGNATURE):
        records = _attachments(value)
        pictures = tuple(r for r in records if str(r.get("content_type", "")) in _PICTURES)
        files = tuple(r for r in records if r not in pictures)
        names = tuple(str(r.get("filename", "")) for r in records)
        return AnswerRow(label, names, level, pictures=pictures, files=files, signature=kind is FT.SIGNATURE)
    if kind is FT.YESNO:
        word = f.yes_label if value is True else f.no_label
        return AnswerRow(label, (word.en if word else ("Yes" if value is True else "No"),), level)
    if kind is FT.SELECT_ONE:
        return AnswerRow(label, (_choice(f, value),), level)
    if kind is FT.SELECT_MANY:
        picked = value if isinstance(value, list) else [value]
        return AnswerRow(label, tuple(_choice(f, v) for v in picked), level)
    if kind is FT.DATE:
        return AnswerRow(label, (_date(str(value)),), level)
    if kind is FT.DATETIME:
        return AnswerRow(label, (_datetime(str(value)),), level)
    if kind is FT.GEOPOINT and isinstance(value, Mapping):
        where = f"{value.get('lat')}, {value.get('lon')}"
        accuracy = value.get("accuracy")
        extra = (f"Accurate to {accuracy:g} m",) if isinstance(accuracy, int | float) else ()
        return AnswerRow(label, (where, *extra), level)
    return AnswerRow(label, tuple(str(value).splitlines()) or ("",), level)


def _item_label(repeat: Repeat, typed: Mapping[str, Any], item: Any, number: int) -> Text:
    fallback = Text(f"{(repeat.label or Text(humanise(repeat.id))).en}: item {number}")
    if repeat.item_label is None or not isinstance(item, Mapping):
        return fallback
    try:  # the template reads the typed answers; a failure must not break the case page
        text = repeat.item_label(Env.of(typed, item))
    except Exception:
        return fallback
    return Text(text) if text.strip() else fallback


def _rows(
    items: Iterable[Item], answers: Mapping[str, Any], typed: Mapping[str, Any], level: int
) -> Iterable[AnswerRow]:
    for item in items:
        value = answers.get(item.id)
        if value is None or value == [] or value == {}:
            continue  # not answered, or not relevant: the summary shows what was given
        if isinstance(item, Group):
            yield AnswerRow(item.label or Text(humanise(item.id)), level=level, heading=True)
            inner = typed.get(item.id)
            yield from _rows(item.fields, value, inner if isinstance(inner, Mapping) else {}, level + 1)
        elif isinstance(item, Repeat):
            typed_items = typed.get(item.id)
            for number, entry in enumerate(value if isinstance(value, list) else [], start=1):
                typed_entry = typed_items[number - 1] if isinstance(typed_items, list) else entry
                yield AnswerRow(_item_label(item, typed, typed_entry, number), level=level, heading=True)
                if isinstance(entry, Mapping):
                    inner = typed_entry if isinstance(typed_entry, Mapping) else {}
                    yield from _rows(item.fields, entry, inner, level + 1)
        elif item.type is not FT.NOTE and (item.type is not FT.CALCULATE or item.label is not None):
            yield _field_row(item, value, level)  # unlabelled calculations are the author's workings


def answer_sections(form: Form, answers: Mapping[str, Any]) -> list[Section]:
    """The stored (JSON) ``answers`` of ``form`` as titled sections, one per answered page."""
    # Repeat item labels are expressions over typed values (dates as dates): read the stored
    # JSON back through the form's strict reader to get them.
    typed = form.validate(answers, coerce=False).answers
    sections = []
    for page in form.pages:
        rows = tuple(_rows(page.fields, answers, typed, 0))
        if rows:
            sections.append(Section(page.title, rows))
    return sections


def _plain(value: Any, indent: str = "") -> list[str]:
    if isinstance(value, Mapping):
        lines = []
        for key, inner in value.items():
            if isinstance(inner, Mapping | list) and inner:
                lines.append(f"{indent}{humanise(str(key))}:")
                lines.extend(_plain(inner, indent + "  "))
            else:
                lines.extend(f"{indent}{humanise(str(key))}: {text}" for text in _plain(inner))
        return lines
    if isinstance(value, list):
        return [line for inner in value for line in _plain(inner, indent)] or [f"{indent}(none)"]
    if value is None:
        return ["(none)"]
    if isinstance(value, bool):
        return ["Yes" if value else "No"]
    if isinstance(value, str):
        return [value]
    return [json.dumps(value, ensure_ascii=False)]


def case_rows(session: Session, instance_id: str) -> list[AnswerRow]:
    """The instance's case data (results of steps and tasks) as summary rows, by name."""
    rows = session.execute(
        select(CaseValue.name, CaseValue.value)
        .where(CaseValue.instance_id == instance_id)
        .order_by(CaseValue.name)
    ).all()
    return [AnswerRow(Text(humanise(name)), tuple(_plain(value))) for name, value in rows]


def user_names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """Display names of the users ``ids`` (unknown ids are left out)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    found = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {str(user_id): str(name) for user_id, name in found}


#: Timeline entries people care about, in words; the others (routes, tokens) are the engine's.
_SAYS = {
    "started": "Workflow started",
    "task_created": "Task created for the {role} role: {step}",
    "task_claimed": "Claimed by {by}",
    "task_released": "Released by {by}",
    "task_completed": "{step} completed by {by}",
    "task_overdue": "{step} is overdue",
    "step_completed": "{step}: done",
    "incident": "{step}: failed, waiting for an operator",
    "incident_retried": "{step}: tried again by an operator",
    "timer_fired": "{step}: wait over",
    "completed": "Workflow finished",
}


def _events(session: Session, instance_id: str) -> list[InstanceEvent]:
    query = select(InstanceEvent).where(InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.id)
    return [e for e in session.scalars(query) if e.kind in _SAYS]


def history(session: Session, instance_id: str) -> list[HistoryEntry]:
    """The instance's timeline in words, oldest first."""
    events = _events(session, instance_id)
    names = user_names(session, (str((e.detail or {}).get("by") or "") for e in events))
    entries = []
    for e in events:
        detail = e.detail if isinstance(e.detail, Mapping) else {}
        by = str(detail.get("by") or "")
        text = _SAYS[e.kind].format(
            step=humanise(e.step or ""),
            role=humanise(str(detail.get("role") or "")).lower(),
            by=names.get(by, "a former user"),
        )
        entries.append(HistoryEntry(e.at, format_when(e.at), text))
    return entries
