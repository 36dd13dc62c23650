"""Shared choice lists: ``lists/<name>.csv`` and ``lists/<name>.yaml``, and inline choices.

A CSV list has a header row with at least ``value`` and ``label``; ``label_cy`` gives Welsh
labels and any other column (``category``) becomes a text column a ``choice_filter`` can test
as ``choice.category``. Lists can be large (tens of thousands of rows), so the CSV path is one
pass of the csv module with no per-row schema work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from dsl import (
    DefinitionError,
    Diagnostics,
    Position,
    Source,
    YMap,
    YNode,
    YScalar,
    YSeq,
    did_you_mean,
    key_name,
    load_yaml,
    to_json,
)
from forms._canonical import get, text_of, text_value
from forms._fields import RESERVED_WORDS
from forms._schemacheck import check_definition
from forms._text import Choice, ChoiceList, Text

_COLUMN_HINT = "a column name is letters, digits and _, starting with a letter, so that choice.<column> works"


def list_name(name: str) -> str:
    """The list's name as forms refer to it: the file name without folders or extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def _bad_column(column: str) -> bool:
    return not column.isidentifier() or not column.isascii() or column in RESERVED_WORDS


def load_list(text: str, name: str) -> ChoiceList:
    """Load a shared choice list from the text of ``name`` (``.csv``, ``.yaml`` or ``.yml``).

    Raises :class:`~dsl.DefinitionError` with every problem found (bad header, duplicate or
    empty values, rows of the wrong length), each at its line.
    """
    lower = name.lower()
    if lower.endswith(".csv"):
        return _load_csv(text, name)
    if lower.endswith((".yaml", ".yml")):
        root = load_yaml(text, name)
        diagnostics = Diagnostics()
        check_definition(root, to_json(root), "list", diagnostics)
        diagnostics.raise_if_errors()
        items = root.items if isinstance(root, YSeq) else ()
        choices = build_choices(items, diagnostics, "the list")
        diagnostics.raise_if_errors()
        return _make(list_name(name), choices, root.pos)
    raise DefinitionError.at(
        Position(Source(name, text), 1, 1),
        f"cannot load list '{name}': a list file ends in .csv, .yaml or .yml",
    )


def _make(name: str, choices: list[Choice], position: Position) -> ChoiceList:
    columns: dict[str, None] = {}
    for choice in choices:
        for column in choice.data:
            columns[column] = None
    return ChoiceList(name, tuple(choices), tuple(columns), position)


def _load_csv(text: str, name: str) -> ChoiceList:
    source = Source(name, text)
    diagnostics = Diagnostics()
    # skipinitialspace: hand-written lists often have "a, b"; a quote after the space still quotes.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), skipinitialspace=True)
    try:
        header = [cell.strip() for cell in next(reader, [])]
    except csv.Error as exc:
        raise DefinitionError.at(Position(source, 1, 1), f"invalid CSV: {exc}") from None
    start = Position(source, 1, 1)
    if not any(header):
        raise DefinitionError.at(
            start,
            "the list is empty: the first row must name the columns",
            "start with a header row such as: value,label",
        )
    for needed in ("value", "label"):
        if needed not in header:
            close = did_you_mean(needed, header)
            hint = (
                f"{close} (rename it to '{needed}')"
                if close
                else "the header row needs value and label columns"
            )
            diagnostics.error(start, f"the header row has no '{needed}' column", hint)
    seen: set[str] = set()
    for column in header:
        if column in seen:
            diagnostics.error(start, f"the header row names column '{column}' twice")
        elif column and column not in ("value", "label", "label_cy") and _bad_column(column):
            diagnostics.error(start, f"column '{column}' cannot be used in a choice_filter", _COLUMN_HINT)
        seen.add(column)
    diagnostics.raise_if_errors()
    value_at, label_at = header.index("value"), header.index("label")
    cy_at = header.index("label_cy") if "label_cy" in header else -1
    extras = [(i, c) for i, c in enumerate(header) if c not in ("value", "label", "label_cy")]
    width = len(header)
    first_line: dict[str, int] = {}
    choices: list[Choice] = []
    line = reader.line_num
    try:
        for row in reader:
            row_line, line = line + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            pos = Position(source, row_line, 1)
            if len(row) != width:
                cells = f"{len(row)} cell" + ("" if len(row) == 1 else "s")
                diagnostics.error(
                    pos,
                    f"this row has {cells} but the header has {width} columns",
                    "put a value containing a comma in double quotes",
                )
                continue
            value = row[value_at].strip()
            label = row[label_at].strip()
            if not value:
                diagnostics.error(pos, "this row has no value")
                continue
            if value in first_line:
                diagnostics.error(
                    pos,
                    f"duplicate value '{value}' (first at line {first_line[value]})",
                    "values are unique within a list",
                )
                continue
            first_line[value] = row_line
            if not label:
                diagnostics.error(pos, f"the row for '{value}' has no label")
                continue
            welsh = row[cy_at].strip() or None if cy_at >= 0 else None
            data = {column: row[i].strip() for i, column in extras}
            choices.append(Choice(value, Text(label, welsh), data, pos))
    except csv.Error as exc:
        diagnostics.error(Position(source, reader.line_num, 1), f"invalid CSV: {exc}")
    if not choices and not diagnostics.has_errors:
        diagnostics.error(start, "the list has no rows", "add one row per choice under the header")
    diagnostics.raise_if_errors()
    return _make(list_name(name), choices, start)


def build_choices(items: Iterable[YNode], diagnostics: Diagnostics, where: str) -> list[Choice]:
    """Choices from YAML items (bare values or ``{value, label, ...}`` mappings), checking that
    values are present and unique; ``where`` names the list or field for messages."""
    choices: list[Choice] = []
    first: dict[str, tuple[int, YNode]] = {}
    for number, item in enumerate(items, start=1):
        if isinstance(item, YScalar):
            value, label, data = text_value(item), None, dict[str, str]()
        elif isinstance(item, YMap):
            value = text_value(get(item, "value"))
            label = text_of(get(item, "label"))
            data = {}
            for key, cell in item.items():
                column = key_name(key)
                if column in ("value", "label"):
                    continue
                if "label" not in item and did_you_mean(column, ["label"]):
                    diagnostics.error(
                        key.pos,
                        f"unknown key '{column}' in choice {number} of {where}",
                        "did you mean 'label'?",
                    )
                elif _bad_column(column):
                    diagnostics.error(
                        key.pos, f"column '{column}' cannot be used in a choice_filter", _COLUMN_HINT
                    )
                elif (cell_text := text_value(cell)) is not None:
                    data[column] = cell_text
        else:
            continue  # the schema has reported it
        if value is None or not value.strip():
            diagnostics.error(item.pos, f"choice {number} of {where} has no value")
            continue
        if value in first:
            number_first, node_first = first[value]
            diagnostics.error(
                item.pos,
                f"duplicate choice value '{value}' in {where} "
                f"(choice {number_first}, line {node_first.pos.line}, has it too)",
                "values are unique within a list",
            )
            continue
        first[value] = (number, item)
        choices.append(Choice(value, label or Text(value), data, item.pos))
    return choices
