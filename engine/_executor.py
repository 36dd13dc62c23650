"""The runtime: submissions start workflow instances, and jobs move them on.

:class:`Runtime` is what the web app, the workers, the CLI and the scenario tests share. The
state of every instance is in rows (DESIGN.md section 4); a Runtime object holds nothing but
configuration and caches, so any number of them, in any number of processes, can work on one
database, and a new one carries on exactly where another stopped.

The rule for every change of an instance: one transaction, holding the lock on the instance
row, does the fenced completion of the job that caused it, the step's result, the ``out``
mapping into case data, the routing to the next steps, the jobs those need and the timeline
events. A worker whose lease was lost cannot commit that transaction (its completion matches no
row), so every result is applied once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine import _incidents, _jobs, _tasks
from engine._advance import Advance, event
from engine._casedata import CaseData, SubmissionCache, load_case
from engine._database import Database
from engine._definitions import DefinitionNotFound, DefinitionStore
from engine._incidents import NotFound, SubmissionConflict
from engine._queue import ClaimedJob, JobQueue
from engine._registry import PluginRegistry
from engine._tables import Definition, Incident, Instance, StepRun, Submission, Task, Token, utcnow
from forms import Form, ValidationResult
from workflows import Workflow

__all__ = ["AdvanceFailed", "Runtime", "SubmissionResult"]

log = logging.getLogger("waypost.executor")


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What :meth:`Runtime.submit` did.

    ``validation`` holds the normalised answers and any errors; when it is not ``ok`` nothing
    was stored and ``submission_id`` is None. ``instance_ids`` are the workflow instances the
    submission started. ``duplicate`` is True when the client id had been seen with the same
    body: the result is the first submission's, and nothing new was stored.
    """

    validation: ValidationResult
    submission_id: str | None = None
    reference: str | None = None
    instance_ids: tuple[str, ...] = field(default=())
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        """True when the submission was accepted (now or before)."""
        return self.submission_id is not None


def _body_hash(answers: Mapping[str, Any]) -> str:
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Runtime:
    """Submissions, workflow instances, jobs, human tasks and incidents over one database.

    ``plugins`` runs the steps; ``store`` holds the definition versions. ``clock`` and ``rand``
    (for retry jitter) are injectable so tests never sleep; ``environ`` resolves ``${env:NAME}``
    in connection settings.
    """

    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        store: DefinitionStore,
        plugins: PluginRegistry,
        *,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.db = db
        self.queue = queue
        self.store = store
        self.plugins = plugins
        self.clock = clock
        self.rand = rand
        self.environ = environ
        self.submissions = SubmissionCache()

    # Submissions and instances -----------------------------------------------------------------

    def submit(
        self,
        session: Session,
        department: str,
        form_name: str,
        answers: Mapping[str, Any],
        *,
        user_id: str | None = None,
        client_id: str | None = None,
        coerce: bool = False,
        definition_id: int | None = None,
    ) -> SubmissionResult:
        """Validate ``answers`` with the current version of the form, store them, start workflows.

        Every current workflow of ``department`` triggered by ``form_name`` starts, pinned to its
        current version. ``client_id`` is the client's idempotency key: the same body again gives
        the first result, a different body raises :class:`SubmissionConflict`. ``coerce`` reads
        browser form data (text numbers and dates); the default is strict JSON. Raises
        DefinitionNotFound for a form the department does not have. ``definition_id`` pins an
        earlier version of the form (a draft started before a new version was published); it
        must be a version of this department's ``form_name``, and the workflows started are
        those published with it.
        """
        # One read of the release serves the form and the workflows it starts: the current one, or
        # for a pinned (older) form version the newest release that held it.
        release = self.store.release(department, session=session)
        if definition_id is None:
            form_id, form = self.store.form_in(release, form_name)
        else:
            form_id, form = definition_id, self._pinned_form(session, department, form_name, definition_id)
            if release.forms.get(form_name) != definition_id:
                release = self.store.release_holding(session, department, form_name, definition_id)
        body = _body_hash(answers)
        if client_id is not None:
            earlier = self._earlier(session, department, form_name, client_id, body)
            if earlier is not None:
                return earlier
        now = self.clock()
        result = form.validate(answers, coerce=coerce, now=now)
        if not result.ok:
            return SubmissionResult(result)
        submission = Submission(
            id=str(uuid.uuid4()),
            department_id=department,
            form_name=form_name,
            definition_id=form_id,
            client_id=client_id,
            body_hash=body,
            reference=_reference(now),
            submitted_by=user_id,
            answers=result.to_json(),
            received_at=now,
        )
        try:
            with session.begin_nested():
                session.add(submission)
        except IntegrityError:
            # The same client id arrived twice at once; the other request stored it first.
            if client_id is not None:
                earlier = self._earlier(session, department, form_name, client_id, body)
                if earlier is not None:
                    return earlier
            raise
        started = [
            self.start_instance(session, ident, submission.id)
            for ident, _ in self.store.triggered_by(release, form_name)
        ]
        return SubmissionResult(result, submission.id, submission.reference, tuple(started))

    def _pinned_form(self, session: Session, department: str, form_name: str, definition_id: int) -> Form:
        row = session.get(Definition, definition_id)
        if row is None or row.kind != "form" or row.department_id != department or row.name != form_name:
            raise DefinitionNotFound(f"definition {definition_id} is not a version of form '{form_name}'")
        return self.store.form(definition_id)

    def _earlier(
        self, session: Session, department: str, form_name: str, client_id: str, body: str
    ) -> SubmissionResult | None:
        found = session.scalars(
            select(Submission).where(
                Submission.department_id == department,
                Submission.form_name == form_name,
                Submission.client_id == client_id,
            )
        ).first()
        if found is None:
            return None
        if found.body_hash != body:
            raise SubmissionConflict(
                f"client id '{client_id}' was already used for a different submission of '{form_name}'"
            )
        instances = session.scalars(
            select(Instance.id).where(Instance.submission_id == found.id).order_by(Instance.created_at)
        )
        validation = ValidationResult(dict(found.answers or {}), ())
        return SubmissionResult(validation, found.id, found.reference, tuple(instances), duplicate=True)

    def start_instance(
        self,
        session: Session,
        workflow_definition_id: int,
        submission_id: str | None,
        answers: Mapping[str, Any] | None = None,
    ) -> str:
        """Start an instance of a workflow version for a stored submission; returns its id.

        The instance reads the submission's answers (``answers`` is accepted for symmetry with
        the API and ignored: the stored, normalised answers are the truth). Its first move
        happens in an ``advance`` job, committed with the instance.
        """
        flow = self.store.workflow(workflow_definition_id)
        now = self.clock()
        instance = Instance(
            id=str(uuid.uuid4()),
            definition_id=workflow_definition_id,
            department_id=flow.department,
            submission_id=submission_id,
            state="running",
            created_at=now,
            updated_at=now,
            lock_version=0,
        )
        session.add(instance)
        session.flush()
        session.add(
            Token(
                instance_id=instance.id, step=flow.start, branch="", state="active", visit=0, created_at=now
            )
        )
        event(session, instance.id, "started", now, workflow=flow.id, version=flow.version)
        self.queue.enqueue(session, "advance", instance_id=instance.id)
        return instance.id

    # Jobs --------------------------------------------------------------------------------------

    async def run_job(self, job: ClaimedJob) -> None:
        """Do one claimed job (see :mod:`engine._jobs`); never raises for a failure of the work."""
        await _jobs.run_job(self, job)

    async def run_until_idle(self, *, owner: str = "inline", max_jobs: int = 100_000) -> int:
        """Claim and run due jobs one at a time until none is due; the number run.

        For tests, scenario runs and tools: a :class:`engine.Worker` is the way to run jobs in
        production.
        """
        done = 0
        while done < max_jobs:
            jobs = await asyncio.to_thread(self.queue.claim, owner, limit=1)
            if not jobs:
                break
            await self.run_job(jobs[0])
            done += 1
        return done

    # Called by the job handlers and the task API, inside a transaction ---------------------------

    def lock(self, session: Session, instance_id: str) -> Instance:
        """The instance row, locked until the transaction ends (``FOR NO KEY UPDATE`` on PG).

        On SQLite the write transaction already holds the database's single writer lock.
        """
        instance = session.scalars(
            select(Instance).where(Instance.id == instance_id).with_for_update(key_share=True)
        ).first()
        if instance is None:
            raise NotFound(f"no workflow instance with id {instance_id}")
        return instance

    def case(self, session: Session, instance: Instance) -> tuple[Workflow, CaseData]:
        """The pinned workflow of ``instance`` and its current case data."""
        flow = self.store.workflow(instance.definition_id)
        return flow, load_case(session, self.store, instance, flow, self.submissions)

    def advance(
        self,
        session: Session,
        instance: Instance,
        flow: Workflow,
        case: CaseData,
        finished: StepRun | None = None,
        failure: AdvanceFailed | None = None,
    ) -> None:
        """Move the instance's tokens on, in the caller's transaction (see :meth:`transact`).

        ``finished`` is a step run that has just finished: its token, if it still waits at that
        step, leaves it first. If an expression fails or the graph loops, :class:`AdvanceFailed`
        is raised; the caller's transaction then runs again with ``failure`` set, and this
        records an incident naming the step instead of moving anything. Database errors pass
        through: the whole job is retried.
        """
        now = self.clock()
        if failure is not None:
            session.add(
                Incident(instance_id=instance.id, step=failure.step, error=failure.error, created_at=now)
            )
            event(session, instance.id, "incident", now, failure.step, error=failure.error)
            return
        mover = Advance(self, session, instance, flow, case, now)
        if finished is not None:
            mover.finish(finished)
        try:
            with session.no_autoflush:
                mover.run()
        except SQLAlchemyError:
            raise
        except Exception as exc:
            log.warning("instance %s failed at step %s: %s", instance.id, mover.step, exc)
            raise AdvanceFailed(mover.step or "", _describe(exc)) from exc

    def transact(self, work: Callable[[Session, AdvanceFailed | None], None]) -> None:
        """Run ``work(session, None)`` in one transaction.

        If moving the instance on fails (:class:`AdvanceFailed`), everything is rolled back and
        ``work(session, failure)`` runs in a new transaction: the work's own changes (a step's
        result, the job's completion) commit, and :meth:`advance` records the incident instead
        of moving. A failure is rare, so the common path pays for no savepoint.
        """
        try:
            with self.db.session() as session:
                work(session, None)
        except AdvanceFailed as failure:
            with self.db.session() as session:
                work(session, failure)

    # Human tasks (engine._tasks) ----------------------------------------------------------------

    def list_tasks(
        self,
        session: Session,
        *,
        department: str,
        roles: Sequence[str],
        states: Sequence[str] = ("open", "claimed"),
    ) -> list[Task]:
        """The tasks of ``department`` for any of ``roles`` in ``states``, oldest first."""
        return _tasks.list_tasks(session, department=department, roles=roles, states=states)

    def claim_task(self, session: Session, task_id: str, user_id: str) -> None:
        """Claim an open task for ``user_id``; of two concurrent claims exactly one wins."""
        _tasks.claim_task(self, session, task_id, user_id)

    def release_task(self, session: Session, task_id: str, user_id: str) -> None:
        """Give a task ``user_id`` claimed back to the role's inbox."""
        _tasks.release_task(self, session, task_id, user_id)

    def complete_task(
        self,
        session: Session,
        task_id: str,
        user_id: str,
        answers: Mapping[str, Any],
        *,
        coerce: bool = False,
    ) -> ValidationResult:
        """Validate ``answers`` with the task's form and, if they pass, complete the task."""
        return _tasks.complete_task(self, session, task_id, user_id, answers, coerce=coerce)

    # Incidents (engine._incidents) --------------------------------------------------------------

    def list_incidents(self, session: Session, *, open_only: bool = True) -> list[Incident]:
        """Incidents, newest first; only unresolved ones unless ``open_only`` is False."""
        return _incidents.list_incidents(session, open_only=open_only)

    def retry_incident(self, session: Session, incident_id: int, *, by: str) -> None:
        """Resolve an incident by trying again: a new series of attempts with the same key."""
        _incidents.retry_incident(session, self.queue, incident_id, by=by, now=self.clock())


class AdvanceFailed(Exception):
    """Moving an instance on failed at ``step`` (the transaction is rolled back and run again)."""

    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"step '{step}': {error}")
        self.step = step
        self.error = error


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:4000]


def _reference(now: datetime) -> str:
    # A reference an officer can read out on the phone: date, then 8 characters with no 0/O/1/I.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"WP-{now:%Y%m%d}-{tail}"
