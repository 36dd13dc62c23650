"""A generated department for the ``check`` suite: one large form and one large shared list.

The form mixes every common field type, puts some fields in groups and one repeat, and gives
about a fifth of the fields an expression (relevance, a constraint, a ``required`` condition, a
choice filter or a calculation), each referring only to fields defined earlier at the top
level (or to earlier siblings inside the repeat), so the form always loads cleanly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LIST_NAME = "offences"
FORM_ID = "big_form"
GROUPS = 10
"""Distinct values of the list's ``group`` column (used by choice filters)."""

DEPARTMENT_YAML = """\
department: bench
title: Benchmark department
roles:
  officer: {title: Police officer}
"""

_KINDS = (
    "text",
    "integer",
    "decimal",
    "date",
    "yesno",
    "select_one",
    "select_big",
    "select_many",
    "email",
    "uk_postcode",
    "textarea",
    "time",
    "uk_phone",
    "datetime",
)


def list_csv(rows: int) -> str:
    """A shared choice list of ``rows`` rows with ``value``, ``label`` and ``group`` columns."""
    lines = ["value,label,group"]
    lines.extend(f"off_{i:04d},Offence number {i},g{i % GROUPS}" for i in range(rows))
    return "\n".join(lines) + "\n"


@dataclass
class _Known:
    """The latest top-level field of each kind, for expressions to refer to."""

    last: dict[str, str] = field(default_factory=dict)
    expressions: int = 0


def _base(fid: str, kind: str, index: int) -> str:
    label = f"label: Question {index}"
    if kind == "text":
        extra = ", pattern: '[A-Z]{2}[0-9]{2,6}'" if index % 4 == 0 else ""
        return f"{{id: {fid}, type: text, {label}, max_length: 120{extra}"
    if kind == "integer":
        return f"{{id: {fid}, type: integer, {label}, min: 0, max: {index * 10 + 100}"
    if kind == "decimal":
        return f"{{id: {fid}, type: decimal, {label}, min: 0, max: 1000, places: 2"
    if kind == "date":
        return f"{{id: {fid}, type: date, {label}, min: 1900-01-01"
    if kind in ("select_one", "select_many"):
        options = ", ".join(f"opt_{j}" for j in range(6))
        extra = ", min_selected: 1" if kind == "select_many" else ""
        return f"{{id: {fid}, type: {kind}, {label}, choices: [{options}]{extra}"
    if kind == "select_big":
        return f"{{id: {fid}, type: select_one, {label}, choices: {LIST_NAME}, appearance: autocomplete"
    return f"{{id: {fid}, type: {kind}, {label}"


def _expression(fid: str, me: str, kind: str, known: _Known) -> str:
    """An expression key for field ``fid`` (called ``me`` in its own expressions: inside a group
    that is ``group.fid``) using earlier fields, or "" when none fits yet."""
    last = known.last
    if kind == "select_big":
        return f", choice_filter: \"choice.group == 'g{len(fid) % GROUPS}'\""
    if kind == "integer" and "integer" in last:
        return f', constraint: "{me} <= {last["integer"]} * 2 or {last["integer"]} == null"'
    if kind == "date":
        return f', constraint: "{me} <= today()", message: Must not be in the future'
    if kind == "text" and "yesno" in last:
        return f', relevant: "{last["yesno"]}", required: true'
    if kind == "textarea" and "select_one" in last:
        return f", relevant: \"{last['select_one']} in ['opt_1', 'opt_2']\""
    if kind == "email" and "yesno" in last:
        return f', required: "{last["yesno"]} and len({last.get("text", me)}) > 0"'
    if "integer" in last:
        return f', relevant: "{last["integer"]} > 3"'
    return ""


def _field(index: int, known: _Known, top_level: bool, group: str = "") -> str:
    kind = _KINDS[index % len(_KINDS)]
    fid = f"{kind}_{index}"
    text = _base(fid, kind, index)
    if index % 8 == 2:  # with the calculations, about one item in five has an expression
        expr = _expression(fid, f"{group}.{fid}" if group else fid, kind, known)
        if expr:
            known.expressions += 1
            text += expr
    elif index % 7 == 0:
        text += ", required: true"
    if top_level:
        known.last[kind] = fid
    return text + "}"


def _calculation(index: int, known: _Known) -> str | None:
    last = known.last
    if "date" in last and "text" in last and "select_many" in last:
        known.expressions += 1
        value = (
            f"years_between({last['date']}, today())",
            f"count_selected({last['select_many']})",
            f"{last['text']} + ' (' + text(len({last['text']})) + ')'",
        )[index % 3]
        return f'{{id: calc_{index}, type: calculate, value: "{value}"}}'
    return None


def form_yaml(fields: int, pages: int = 20) -> tuple[str, int, int]:
    """The form's YAML text, its number of items (every field, calculation, group and repeat,
    nested ones included) and its number of expressions."""
    known = _Known()
    per_page = max(fields // pages, 1)
    lines = [f"form: {FORM_ID}", 'version: "1"', "title: Generated benchmark form", "pages:"]
    made = 0
    for page in range(pages):
        if made >= fields:
            break
        lines += [f"  - id: page_{page}", f"    title: Page {page}", "    fields:"]
        budget = per_page if page < pages - 1 else fields - made
        for line in _page_items(page, min(budget, fields - made), made, known):
            lines.append(f"      {line}" if not line.startswith(" ") else line)
        made += min(budget, fields - made)
    return "\n".join(lines) + "\n", made, known.expressions


def _page_items(page: int, count: int, start: int, known: _Known) -> Iterator[str]:
    """``count`` items of one page (containers and calculations included): every fourth page
    nests ten fields in a group, page 10 twelve in a repeat, and every twelfth item is a
    calculation."""
    container = "group" if page % 4 == 1 else ("repeat" if page == 10 else None)
    nested = min(12 if container == "repeat" else 10, count - 1) if container and count > 1 else 0
    plain = count - nested - (1 if nested else 0)
    for offset in range(plain):
        index = start + offset
        calc = _calculation(index, known) if offset % 12 == 11 else None
        yield "- " + (calc if calc is not None else _field(index, known, True))
    if nested:
        yield f"- id: {container}_{page}"
        yield f"        type: {container}"
        yield f"        label: Section {page}"
        if container == "repeat":
            yield "        min: 0"
            yield "        max: 50"
        yield "        fields:"
        inner = _Known(dict(known.last))
        for offset in range(nested):
            index = start + plain + 1 + offset
            in_group = f"group_{page}" if container == "group" else ""
            yield "          - " + _field(index, inner, container == "repeat", in_group)
        known.expressions += inner.expressions


def write_department(folder: Path, fields: int, list_rows: int) -> dict[str, int]:
    """Write the department into ``folder``; return what it holds (fields, expressions, ...)."""
    text, made, expressions = form_yaml(fields)
    (folder / "forms").mkdir(parents=True, exist_ok=True)
    (folder / "lists").mkdir(parents=True, exist_ok=True)
    (folder / "department.yaml").write_text(DEPARTMENT_YAML, encoding="utf-8")
    (folder / "lists" / f"{LIST_NAME}.csv").write_text(list_csv(list_rows), encoding="utf-8")
    (folder / "forms" / f"{FORM_ID}.yaml").write_text(text, encoding="utf-8")
    return {
        "fields": made,
        "expressions": expressions,
        "list_rows": list_rows,
        "yaml_lines": text.count("\n"),
        "yaml_bytes": len(text.encode("utf-8")),
    }


__all__ = ["FORM_ID", "LIST_NAME", "form_yaml", "list_csv", "write_department"]
