"""An instance's data as expressions see it, rebuilt from rows for each transaction.

Expressions in a workflow read two frames (docs/workflows.md): frame 0 is the submitted form's
answers, frame 1 the case data: the ``submission`` record, each task step's result (a record of
its form's answers, named by the step) and every ``out`` name. The rows hold JSON; here the
values get their types back, so a date is a :class:`datetime.date` again:

* the answers are read back through the pinned form itself (``Form.validate`` in strict JSON
  mode, at the time they were received), exactly the normalisation they were stored with;
* a task result the same way, through the task's pinned form;
* an ``out`` value by the static type the workflow gives its name.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from dsl import Env
from dsl._types import Kind, Type
from engine._tables import CaseValue, Instance, Submission
from workflows import StepKind, Workflow, to_json_value

if TYPE_CHECKING:
    from engine._definitions import DefinitionStore

__all__ = ["CaseData", "SubmissionCache", "from_json", "load_case"]


@dataclass(slots=True)
class CaseData:
    """The two frames of one instance: typed answers and typed case data."""

    answers: dict[str, Any]
    case: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)

    def env(self, now: dt.datetime) -> Env:
        """The environment workflow expressions are evaluated in."""
        return Env.of(self.answers, self.case, now=now)

    def with_result(self, result: Any, now: dt.datetime) -> Env:
        """The environment of an ``out`` mapping: ``result`` is the plugin's output."""
        return Env.of(self.answers, self.case, {"result": result}, now=now)


class SubmissionCache:
    """Typed answers of recent submissions: a submission never changes, so it is read once.

    Thread-safe; holds at most ``size`` submissions (least recently used go first).
    """

    def __init__(self, size: int = 2048) -> None:
        self._items: OrderedDict[str, tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(
        self, session: Session, store: DefinitionStore, submission_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The typed answers and the ``submission`` record of a stored submission."""
        with self._lock:
            found = self._items.get(submission_id)
            if found is not None:
                self._items.move_to_end(submission_id)
                return found
        submission = session.get(Submission, submission_id)
        if submission is None:
            return {}, {}
        form = store.form(submission.definition_id)
        answers = form.validate(submission.answers or {}, coerce=False, now=submission.received_at).answers
        record = {
            "id": submission.id,
            "reference": submission.reference,
            "submitted_at": submission.received_at,
            "submitted_by": submission.submitted_by,
        }
        with self._lock:
            self._items[submission_id] = (answers, record)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return answers, record


def load_case(
    session: Session,
    store: DefinitionStore,
    instance: Instance,
    workflow: Workflow,
    submissions: SubmissionCache | None = None,
) -> CaseData:
    """Read the answers and case data of ``instance`` (pinned to ``workflow``)."""
    answers: dict[str, Any] = {}
    case: dict[str, Any] = {}
    if instance.submission_id is not None:
        cache = submissions if submissions is not None else SubmissionCache(1)
        given, record = cache.get(session, store, instance.submission_id)
        # Copies: expressions never change them, but the cache is shared between threads.
        answers = dict(given)
        if record:
            case["submission"] = dict(record)
    form_ids = store.form_ids(instance.definition_id)
    raw: dict[str, Any] = {}
    table = cast(Table, CaseValue.__table__)
    rows = session.connection().execute(
        select(table.c.name, table.c.value).where(table.c.instance_id == instance.id)
    )
    for name, value in rows:
        raw[name] = value
        case[name] = typed_value(store, workflow, form_ids, name, value)
    return CaseData(answers, case, raw)


def typed_value(
    store: DefinitionStore, workflow: Workflow, form_ids: Mapping[str, int], name: str, value: Any
) -> Any:
    """One case value with its type back (see the module docstring)."""
    step = workflow.steps.get(name)
    if step is not None and step.kind is StepKind.TASK and step.task is not None:
        ident = form_ids.get(step.task.form)
        if ident is not None and isinstance(value, dict):
            return store.form(ident).validate(value, coerce=False).answers
    vtype = workflow.case_types.get(name)
    return from_json(value, vtype) if vtype is not None else value


def set_value(
    session: Session, data: CaseData, instance_id: str, name: str, value: Any, *, loaded: bool, **row: Any
) -> None:
    """Store case value ``name`` (JSON) and keep ``data`` in step with it.

    ``loaded`` says that ``data`` holds every stored value of the instance (it came from
    :func:`load_case`), so whether the row exists is known without asking the database.
    """
    stored = to_json_value(value)
    exists = name in data.raw if loaded else session.get(CaseValue, (instance_id, name)) is not None
    if exists:
        session.execute(
            update(CaseValue)
            .where(CaseValue.instance_id == instance_id, CaseValue.name == name)
            .values(value=stored, **row)
            .execution_options(synchronize_session=False)
        )
    else:
        session.execute(insert(CaseValue).values(instance_id=instance_id, name=name, value=stored, **row))
    data.raw[name] = stored


def from_json(value: Any, vtype: Type) -> Any:
    """``value`` read from JSON as a value of static type ``vtype`` (ISO text to dates...).

    A value that does not have the expected shape is returned as it is: the expression language
    treats a value of the wrong type like any other value it cannot use.
    """
    if value is None:
        return None
    kind = vtype.kind
    try:
        if kind is Kind.DATE and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind is Kind.DATETIME and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if kind is Kind.TIME and isinstance(value, str):
            return dt.time.fromisoformat(value)
    except ValueError:
        return value
    if kind is Kind.LIST and isinstance(value, list) and vtype.item is not None:
        item = vtype.item
        return [from_json(v, item) for v in value]
    if kind is Kind.RECORD and isinstance(value, dict) and vtype.record is not None:
        symbols = vtype.record.symbols
        return {k: from_json(v, symbols[k].type) if k in symbols else v for k, v in value.items()}
    return value
