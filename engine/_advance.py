"""Moving an instance's tokens through its workflow graph (called under the instance's lock).

A token is one position in the graph (more than one inside parallel branches, or when an overdue
task starts its escalation path). Its ``state``:

* ``active``: it has arrived at ``step`` and must enter it;
* ``leaving``: ``step`` has finished (a plugin returned, a task was completed, a timer fired, a
  join was complete) and the token follows the step's routes;
* ``waiting``: parked at ``step`` until a job or a person moves it on;
* ``done``: finished (it reached an end, or merged into its parallel step at a join).

:class:`Advance` takes every ``active`` and ``leaving`` token as far as it can go without
waiting: decisions, ends, parallel splits and joins are instant; a call, a task or a wait
creates its step run (and job) and parks the token. Everything happens in the caller's
transaction, so the routing, the new rows, the jobs and the timeline events commit together with
whatever finished the previous step, or not at all.

Branch paths name where a token came from: the branches of parallel step ``P`` started by token
``12`` are ``P.12:<branch step>``, nested under the parent's own path with ``/``. A join of
``P`` waits until a token of every branch of that split has arrived; a token that reaches the
join from anywhere else (an escalation path, say) ends there, so nothing after the join runs
twice.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from dsl._env import LONDON
from engine._casedata import CaseData
from engine._tables import Department, Instance, InstanceEvent, StepRun, Task, Token
from workflows import Step, StepKind, Workflow

if TYPE_CHECKING:
    from engine._executor import Runtime

__all__ = ["MAX_MOVES", "Advance", "WorkflowLoop", "call_payload", "child_branch", "event"]

MAX_MOVES = 10_000
"""How many moves one advance may make before the workflow is declared to loop without waiting."""


class WorkflowLoop(RuntimeError):
    """The instance kept moving without ever waiting (a loop of decisions)."""


_EVENTS = "waypost_events"
_RUNS = cast(Table, StepRun.__table__)
_TIMELINE = cast(Table, InstanceEvent.__table__)


def event(
    session: Session, instance_id: str, kind: str, at: datetime, step: str | None = None, **detail: Any
) -> None:
    """Add one entry to the instance's timeline.

    Entries wait in the session and are written together, in order, just before the
    transaction commits (one insert instead of one per entry); a rollback drops them.
    """
    pending = session.info.get(_EVENTS)
    if pending is None:
        pending = session.info[_EVENTS] = []
        sa_event.listen(session, "before_commit", _write_events, once=True)
        sa_event.listen(session, "after_soft_rollback", _drop_events, once=True)
    pending.append(
        {"instance_id": instance_id, "at": at, "kind": kind, "step": step, "detail": detail or None}
    )


def _write_events(session: Session) -> None:
    pending = session.info.pop(_EVENTS, None)
    if pending:
        session.connection().execute(insert(_TIMELINE), pending)


def _drop_events(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        # Only a savepoint was rolled back: the transaction and its entries go on.
        sa_event.listen(session, "after_soft_rollback", _drop_events, once=True)
        return
    session.info.pop(_EVENTS, None)


def call_payload(run: StepRun, definition_id: int) -> dict[str, Any]:
    """What a ``run_step`` job carries: enough for its first attempt without reading the database."""
    return {
        "run": run.id,
        "instance": run.instance_id,
        "step": run.step,
        "key": run.idempotency_key,
        "inputs": run.inputs,
        "definition": definition_id,
    }


def child_branch(parent: str, segment: str) -> str:
    """The branch path of a token started from a token on ``parent``."""
    return f"{parent}/{segment}" if parent else segment


def edge_id(step: Step, index: int) -> str:
    """The id of route ``index`` of ``step``, as :meth:`workflows.Workflow.routes` names it."""
    return f"{step.id}#{index + 1}" if step.decides else f"{step.id}#next"


class Advance:
    """Moves the tokens of one locked instance until each is parked or done."""

    def __init__(
        self,
        runtime: Runtime,
        session: Session,
        instance: Instance,
        workflow: Workflow,
        case: CaseData,
        now: datetime,
    ) -> None:
        self.rt = runtime
        self.session = session
        self.instance = instance
        self.workflow = workflow
        self.case = case
        self.now = now
        self.step: str | None = None  # the step being worked on, named in an incident if it fails
        self.moves = 0
        self._visits: dict[str, int] | None = None
        self.tokens: list[Token] = list(
            session.scalars(
                select(Token)
                .where(Token.instance_id == instance.id, Token.state != "done")
                .order_by(Token.id)
            )
        )

    def finish(self, run: StepRun) -> None:
        """The step run ``run`` has finished: its token leaves the step (if it still waits there)."""
        for token in self.tokens:
            if token.id == run.token_id and token.state == "waiting" and token.step == run.step:
                token.state = "leaving"

    def add_token(self, step: str, branch: str) -> Token:
        """A new active token at ``step`` (a parallel branch or an escalation path)."""
        token = Token(
            instance_id=self.instance.id,
            step=step,
            branch=branch,
            state="active",
            visit=0,
            created_at=self.now,
        )
        self.session.add(token)
        self.session.flush()
        self.tokens.append(token)
        return token

    def run(self) -> None:
        """Move every active or leaving token; complete the instance when no token is left."""
        while True:
            pending = [t for t in self.tokens if t.state in ("active", "leaving")]
            if not pending:
                break
            for token in pending:
                self._move(token)
        # The instance row itself changes only with its state (its position is in the tokens).
        if all(t.state == "done" for t in self.tokens) and self.instance.state == "running":
            self.instance.state = "completed"
            self.instance.completed_at = self.now
            self.instance.updated_at = self.now
            self.instance.lock_version += 1
            self._event("completed")

    # One token -------------------------------------------------------------------------------

    def _move(self, token: Token) -> None:
        while token.state in ("active", "leaving"):
            self.moves += 1
            if self.moves > MAX_MOVES:
                raise WorkflowLoop(
                    f"the workflow moved {MAX_MOVES} times without waiting: check the decisions "
                    f"around step '{token.step}' for a loop"
                )
            step = self.workflow.steps[token.step]
            self.step = step.id
            if token.state == "leaving":
                self._leave(token, step)
                continue
            self._event("entered", step.id, token=token.id, branch=token.branch)
            kind = step.kind
            if kind is StepKind.DECIDE:
                self._leave(token, step)
            elif kind is StepKind.END:
                token.state = "done"
                self._event("ended", step.id, token=token.id)
            elif kind is StepKind.CALL:
                self._start_call(token, step)
            elif kind is StepKind.TASK:
                self._start_task(token, step)
            elif kind is StepKind.WAIT:
                self._start_wait(token, step)
            elif kind is StepKind.PARALLEL:
                self._split(token, step)
            elif kind is StepKind.JOIN:
                self._arrive(token, step)

    def _leave(self, token: Token, step: Step) -> None:
        env = self.case.env(self.now)
        for index, route in enumerate(step.routes):
            if route.matches(env):
                self._event("route", step.id, edge=edge_id(step, index), to=route.goto, token=token.id)
                token.step = route.goto
                token.state = "active"
                return
        token.state = "done"  # a step without routes finishes its path
        self._event("ended", step.id, token=token.id)

    # Durable steps -------------------------------------------------------------------------------

    def _visit(self, step: str) -> int:
        """The number of this visit to ``step``: one more than its step runs so far."""
        if self._visits is None:
            rows = self.session.connection().execute(
                select(_RUNS.c.step, func.count())
                .where(_RUNS.c.instance_id == self.instance.id)
                .group_by(_RUNS.c.step)
            )
            self._visits = {str(name): int(count) for name, count in rows}
        self._visits[step] = self._visits.get(step, 0) + 1
        return self._visits[step]

    def _step_run(self, token: Token, step: Step, state: str, inputs: Any = None) -> StepRun:
        """Insert the step run of this visit (a plain insert: cheaper than the ORM's flush).

        The returned object is detached: it carries the row's values for the caller.
        """
        visit = self._visit(step.id)
        values = {
            "instance_id": self.instance.id,
            "token_id": token.id,
            "step": step.id,
            "visit": visit,
            "state": state,
            "attempt": 0,
            "idempotency_key": f"{self.instance.id}:{step.id}:{visit}",
            "inputs": inputs,
            "created_at": self.now,
            "started_at": self.now if state == "running" else None,
        }
        ident = (
            self.session.connection()
            .execute(insert(_RUNS).values(**values).returning(_RUNS.c.id))
            .scalar_one()
        )
        token.state = "waiting"
        token.visit = visit
        return StepRun(id=int(ident), **values)

    def _start_call(self, token: Token, step: Step) -> None:
        if step.call is None:  # pragma: no cover - a call step always has its call
            raise ValueError(f"step '{step.id}' has no call")
        # Inputs are fixed when the step is entered: every attempt sends the same request.
        inputs = step.call.inputs.evaluate_json(self.case.env(self.now))
        run = self._step_run(token, step, "pending", inputs)
        self.rt.queue.enqueue(
            self.session,
            "run_step",
            instance_id=self.instance.id,
            step_run_id=run.id,
            payload=call_payload(run, self.instance.definition_id),
        )
        self._event("step_scheduled", step.id, step_run=run.id, visit=run.visit)

    def _start_task(self, token: Token, step: Step) -> None:
        spec = step.task
        if spec is None:  # pragma: no cover - a task step always has its task
            raise ValueError(f"step '{step.id}' has no task")
        form_id = self.rt.store.form_ids(self.instance.definition_id)[spec.form]
        if spec.title is not None:
            title = spec.title(self.case.env(self.now))
        else:
            title = str(self.rt.store.form(form_id).title)
        self._ensure_department(spec.department)
        run = self._step_run(token, step, "running")
        due = self.now + timedelta(seconds=spec.due) if spec.due is not None else None
        task = Task(
            id=str(uuid.uuid4()),
            instance_id=self.instance.id,
            step=step.id,
            step_run_id=run.id,
            department_id=spec.department,
            role=spec.role,
            form_definition_id=form_id,
            title=str(title)[:300],
            state="open",
            due_at=due,
            created_at=self.now,
        )
        self.session.add(task)
        self.session.flush()
        if due is not None:
            self.rt.queue.enqueue(
                self.session, "task_due", instance_id=self.instance.id, task_id=task.id, due_at=due
            )
        self._event("task_created", step.id, task=task.id, role=spec.role, due_at=_iso(due))

    def _start_wait(self, token: Token, step: Step) -> None:
        spec = step.wait
        if spec is None:  # pragma: no cover - a wait step always has its wait
            raise ValueError(f"step '{step.id}' has no wait")
        due: datetime | None = None
        if spec.seconds is not None:
            due = self.now + timedelta(seconds=spec.seconds)
        elif spec.until is not None:
            due = _moment(spec.until(self.case.env(self.now)))
        if due is None or due <= self.now:
            self._event("wait_skipped", step.id, until=_iso(due))
            token.state = "leaving"
            return
        run = self._step_run(token, step, "running")
        self.rt.queue.enqueue(
            self.session, "timer", instance_id=self.instance.id, step_run_id=run.id, due_at=due
        )
        self._event("timer_set", step.id, step_run=run.id, due_at=_iso(due))

    # Parallel branches -------------------------------------------------------------------------

    def _split(self, token: Token, step: Step) -> None:
        token.state = "waiting"
        for branch in step.branches:
            self._event("route", step.id, edge=f"{step.id}#branch:{branch}", to=branch, token=token.id)
            self.add_token(branch, child_branch(token.branch, f"{step.id}.{token.id}:{branch}"))

    def _arrive(self, token: Token, step: Step) -> None:
        parallel = step.join or ""
        parent_path, _, last = token.branch.rpartition("/")
        match = re.fullmatch(rf"{re.escape(parallel)}\.(\d+):(.+)", last)
        parallel_step = self.workflow.steps.get(parallel)
        if match is None or parallel_step is None:
            token.state = "done"
            self._event("ended", step.id, token=token.id, reason=f"not a branch of '{parallel}'")
            return
        token.state = "waiting"
        parent_id = int(match.group(1))
        expected = {child_branch(parent_path, f"{parallel}.{parent_id}:{b}") for b in parallel_step.branches}
        arrived = [
            t for t in self.tokens if t.branch in expected and t.step == step.id and t.state == "waiting"
        ]
        if {t.branch for t in arrived} != expected:
            self._event("join_waiting", step.id, token=token.id, arrived=len(arrived), of=len(expected))
            return
        for sibling in arrived:
            sibling.state = "done"
        parent = next((t for t in self.tokens if t.id == parent_id), None)
        if parent is None:  # pragma: no cover - the split's token waits until its join completes
            raise ValueError(f"the token that started parallel step '{parallel}' is missing")
        parent.step = step.id
        parent.state = "leaving"
        self._event("joined", step.id, token=parent.id, branches=len(expected))

    # Helpers -----------------------------------------------------------------------------------

    def _ensure_department(self, department: str) -> None:
        # A task may be for another department that has not published anything yet.
        if self.session.get(Department, department) is None:
            self.session.add(Department(id=department, title=department, created_at=self.now))
            self.session.flush()

    def _event(self, kind: str, step: str | None = None, **detail: Any) -> None:
        event(self.session, self.instance.id, kind, self.now, step, **detail)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: Any) -> datetime | None:
    """The time a ``wait: {until: ...}`` value stands for: a date is midnight UK time."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=LONDON)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=LONDON).astimezone(UTC)
    return None
