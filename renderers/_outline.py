"""Author previews of a form and a workflow, as plain data for the templates.

The templates never walk the models themselves: these functions turn a :class:`~forms.Form` or a
:class:`~workflows.Workflow` into small frozen rows (a term, a value, and whether the value is
code), so a template stays a loop over rows and an override template needs to know nothing of
the model classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms import Field, Form, Group, Item, Page, Repeat, Text
from workflows import EdgeKind, Step, StepKind, Workflow, format_duration

#: A long shared list (offence codes run to thousands) is cut short in the outline.
MAX_CHOICES_SHOWN = 25


@dataclass(frozen=True, slots=True)
class Detail:
    """One row of a definition list: ``value`` is shown as code when ``code`` is set.

    ``cy`` is the Welsh text of a bilingual value (None when the author wrote none).
    """

    term: str
    value: str
    code: bool = False
    cy: str | None = None


@dataclass(frozen=True, slots=True)
class ChoiceRow:
    """One option of a select field: the stored value and its label."""

    value: str
    label: Text


@dataclass(frozen=True, slots=True)
class ItemOutline:
    """A field, group or repeat of a form, with its nested items for groups and repeats."""

    id: str
    type: str
    line: int
    label: Text | None
    hint: Text | None
    details: tuple[Detail, ...]
    list_name: str | None = None
    choices: tuple[ChoiceRow, ...] = ()
    more_choices: int = 0
    children: tuple[ItemOutline, ...] = ()


@dataclass(frozen=True, slots=True)
class PageOutline:
    """One page of a form: ``number`` counts from 1."""

    id: str
    number: int
    line: int
    title: Text | None
    description: Text | None
    relevant: str | None
    items: tuple[ItemOutline, ...]


@dataclass(frozen=True, slots=True)
class FormOutline:
    """What an author needs to review a form: its identity, then every page and field."""

    id: str
    title: Text
    description: Text | None
    version: str | None
    content_hash: str
    classification: str
    statement: bool
    pages: tuple[PageOutline, ...]
    question_count: int


@dataclass(frozen=True, slots=True)
class RouteRow:
    """A way out of a step: ``label`` says when (``if``, ``otherwise``, ``next``, ...)."""

    label: str
    condition: str | None
    goto: str


@dataclass(frozen=True, slots=True)
class StepOutline:
    """One step of a workflow with what it does and where it leads."""

    id: str
    kind: str
    line: int
    is_start: bool
    details: tuple[Detail, ...]
    routes: tuple[RouteRow, ...]


@dataclass(frozen=True, slots=True)
class WorkflowOutline:
    """What an author needs to review a workflow: its trigger, then its steps in written order."""

    id: str
    title: str
    version: str | None
    content_hash: str
    department: str
    trigger_form: str
    start: str
    steps: tuple[StepOutline, ...]


def form_outline(form: Form) -> FormOutline:
    """The author's outline of ``form``."""
    pages = tuple(_page(page, number) for number, page in enumerate(form.pages, start=1))
    questions = sum(1 for item in form.items() if isinstance(item, Field) and item.takes_answer)
    return FormOutline(
        id=form.id,
        title=form.title,
        description=form.description,
        version=form.version,
        content_hash=form.content_hash,
        classification=form.classification,
        statement=form.statement,
        pages=pages,
        question_count=questions,
    )


def workflow_outline(workflow: Workflow) -> WorkflowOutline:
    """The author's outline of ``workflow``: steps in the order written, each with its routes."""
    routes: dict[str, list[RouteRow]] = {}
    for edge in workflow.routes():
        if edge.kind is EdgeKind.ROUTE:
            label = "if" if edge.when is not None else "otherwise"
        else:
            label = {EdgeKind.NEXT: "next", EdgeKind.BRANCH: "branch", EdgeKind.OVERDUE: "when overdue"}[
                edge.kind
            ]
        routes.setdefault(edge.step, []).append(RouteRow(label, edge.when, edge.goto))
    steps = tuple(
        StepOutline(
            id=step.id,
            kind=step.kind.value,
            line=step.position.line,
            is_start=step.id == workflow.start,
            details=_step_details(step),
            routes=tuple(routes.get(step.id, ())),
        )
        for step in workflow.steps.values()
    )
    return WorkflowOutline(
        id=workflow.id,
        title=workflow.title,
        version=workflow.version,
        content_hash=workflow.content_hash,
        department=workflow.department,
        trigger_form=workflow.trigger_form,
        start=workflow.start,
        steps=steps,
    )


def _page(page: Page, number: int) -> PageOutline:
    return PageOutline(
        id=page.id,
        number=number,
        line=page.position.line,
        title=page.title,
        description=page.description,
        relevant=page.relevant.source if page.relevant is not None else None,
        items=tuple(_item(item) for item in page.fields),
    )


def _item(item: Item) -> ItemOutline:
    details: list[Detail] = []
    if len(item.path) > 1:
        details.append(Detail("Answer path", ".".join(item.path), code=True))
    if item.relevant is not None:
        details.append(Detail("Shown when", item.relevant.source, code=True))
    if isinstance(item, Group):
        children = tuple(_item(child) for child in item.fields)
        return ItemOutline(
            item.id, "group", item.position.line, item.label, item.hint, tuple(details), children=children
        )
    if isinstance(item, Repeat):
        details.append(Detail("Items", _range(item.min_items, item.max_items)))
        if item.item_label is not None:
            details.append(Detail("Item label", item.item_label.source, code=True))
        children = tuple(_item(child) for child in item.fields)
        return ItemOutline(
            item.id, "repeat", item.position.line, item.label, item.hint, tuple(details), children=children
        )
    details.extend(_field_details(item))
    choices: tuple[ChoiceRow, ...] = ()
    more = 0
    if item.choices is not None:
        every = item.choices.choices
        choices = tuple(ChoiceRow(c.value, c.label) for c in every[:MAX_CHOICES_SHOWN])
        more = max(len(every) - MAX_CHOICES_SHOWN, 0)
    return ItemOutline(
        item.id,
        item.type.value,
        item.position.line,
        item.label,
        item.hint,
        tuple(details),
        list_name=item.list_name,
        choices=choices,
        more_choices=more,
    )


def _field_details(field: Field) -> list[Detail]:
    rows: list[Detail] = []
    if field.value is not None:
        rows.append(Detail("Value", field.value.source, code=True))
    if field.takes_answer:
        if field.required_expr is not None:
            rows.append(Detail("Required when", field.required_expr.source, code=True))
        else:
            rows.append(Detail("Required", "Yes" if field.required else "No"))
    _text(rows, "Required message", field.required_message)
    if field.constraint is not None:
        rows.append(Detail("Constraint", field.constraint.source, code=True))
    _text(rows, "Constraint message", field.message)
    if field.warning is not None:
        rows.append(Detail("Warning when", field.warning.when.source, code=True))
        _text(rows, "Warning message", field.warning.message)
    if field.default is not None:
        rows.append(Detail("Default", _plain(field.default), code=True))
    if field.default_expr is not None:
        rows.append(Detail("Default expression", field.default_expr.source, code=True))
    if field.read_only:
        rows.append(Detail("Read only", "Yes"))
    if field.min_length is not None or field.max_length is not None:
        rows.append(Detail("Length", _range(field.min_length, field.max_length, unit=" characters")))
    if field.pattern is not None:
        rows.append(Detail("Pattern", field.pattern, code=True))
    _text(rows, "Pattern message", field.pattern_message)
    if field.rows is not None:
        rows.append(Detail("Rows", str(field.rows)))
    if field.min is not None or field.max is not None:
        rows.append(Detail("Bounds", _range(field.min, field.max)))
    if field.places is not None:
        rows.append(Detail("Decimal places", str(field.places)))
    _text(rows, "Yes label", field.yes_label)
    _text(rows, "No label", field.no_label)
    if field.choice_filter is not None:
        rows.append(Detail("Choice filter", field.choice_filter.source, code=True))
    if field.appearance is not None:
        rows.append(Detail("Appearance", field.appearance))
    if field.min_selected is not None or field.max_selected is not None:
        rows.append(Detail("Options selected", _range(field.min_selected, field.max_selected)))
    if field.max_size is not None:
        rows.append(Detail("Largest file", _size(field.max_size)))
    if field.accept:
        rows.append(Detail("File types", ", ".join(field.accept), code=True))
    if field.max_accuracy is not None:
        rows.append(Detail("Worst accuracy", f"{field.max_accuracy:g} metres"))
    return rows


def _step_details(step: Step) -> tuple[Detail, ...]:
    rows: list[Detail] = []
    if step.kind is StepKind.CALL and step.call is not None:
        call = step.call
        rows.append(Detail("Plugin", call.plugin, code=True))
        if call.connection is not None:
            rows.append(Detail("Connection", call.connection, code=True))
        if call.inputs.entries:
            rows.append(Detail("Inputs", ", ".join(call.inputs.entries), code=True))
        if call.outputs is not None and call.outputs.entries:
            rows.append(Detail("Keeps", ", ".join(call.outputs.entries), code=True))
        rows.append(Detail("Timeout", format_duration(call.timeout)))
        retry = call.retry
        rows.append(Detail("Attempts", f"{retry.attempts} ({retry.backoff} back-off)"))
    elif step.kind is StepKind.TASK and step.task is not None:
        task = step.task
        rows.append(Detail("Role", f"{task.role} ({task.department})", code=True))
        rows.append(Detail("Form", task.form, code=True))
        if task.title is not None:
            rows.append(Detail("Title", task.title.source, code=True))
        if task.due is not None:
            rows.append(Detail("Due", format_duration(task.due)))
    elif step.kind is StepKind.WAIT and step.wait is not None:
        if step.wait.seconds is not None:
            rows.append(Detail("Wait for", format_duration(step.wait.seconds)))
        if step.wait.until is not None:
            rows.append(Detail("Wait until", step.wait.until.source, code=True))
    elif step.kind is StepKind.JOIN and step.join is not None:
        rows.append(Detail("Joins", step.join, code=True))
    return tuple(rows)


def _text(rows: list[Detail], term: str, text: Text | None) -> None:
    if text is not None:
        rows.append(Detail(term, text.en, cy=text.cy))


def _range(low: Any, high: Any, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{_plain(low)} to {_plain(high)}{unit}"
    if low is not None:
        return f"at least {_plain(low)}{unit}"
    if high is not None:
        return f"at most {_plain(high)}{unit}"
    return "any number"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _size(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"
