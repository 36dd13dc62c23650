"""Incidents: steps whose attempts ran out, waiting for an operator.

An incident is raised when a call step fails permanently or exhausts its retry policy, when an
earlier attempt of a non-idempotent step vanished with its worker, or when moving an instance
on fails (an expression that cannot be evaluated, a loop of decisions). The instance stays
``running``; its token waits where it was. ``waypost incidents list`` shows them and
``waypost incidents retry ID`` starts a new series of attempts with the same idempotency key
(or moves the instance on again, for an incident that has no step run).

The errors the runtime raises to its callers (the web app, the CLI, tests) live here too::

    Exception
     └── RuntimeFault                 a request the runtime refuses; the message is for people
          ├── SubmissionConflict      a client id reused with a different body (HTTP 409)
          ├── TaskConflict            the task was claimed, released or completed by someone else
          │                           first, or is not in a state that allows this (HTTP 409)
          ├── TaskForbidden           the user does not hold the task's role (HTTP 403)
          ├── IncidentConflict        the incident is resolved already (HTTP 409)
          └── NotFound (LookupError)  no such task, incident or instance (HTTP 404)

Definition problems stay :class:`dsl.DefinitionError`; an unknown form or workflow of a
department is :class:`engine._definitions.DefinitionNotFound` (a LookupError).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine._advance import call_payload, event
from engine._queue import JobQueue
from engine._tables import Incident, Instance, StepRun

__all__ = [
    "IncidentConflict",
    "NotFound",
    "RuntimeFault",
    "SubmissionConflict",
    "TaskConflict",
    "TaskForbidden",
    "list_incidents",
    "retry_incident",
]


class RuntimeFault(Exception):
    """Base class of the requests the runtime refuses."""


class SubmissionConflict(RuntimeFault):
    """A client id (idempotency key) was used before for a submission with a different body."""


class TaskConflict(RuntimeFault):
    """The task is not in a state that allows the request (claimed by another user, completed...)."""


class TaskForbidden(RuntimeFault):
    """The user does not hold the role the task is for, in the task's department."""


class IncidentConflict(RuntimeFault):
    """The incident has been resolved already."""


class NotFound(RuntimeFault, LookupError):
    """No task, incident or instance with that id."""


def list_incidents(session: Session, *, open_only: bool = True, limit: int = 1000) -> list[Incident]:
    """Incidents, newest first (only unresolved ones unless ``open_only`` is False)."""
    query = select(Incident).order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return list(session.scalars(query))


def retry_incident(session: Session, queue: JobQueue, incident_id: int, *, by: str, now: datetime) -> None:
    """Resolve an incident by retrying: a fresh series of attempts, with the same idempotency key.

    Raises NotFound for an unknown incident and IncidentConflict for one resolved already (two
    operators retrying at once: one wins, the other is told).
    """
    incident = session.scalars(select(Incident).where(Incident.id == incident_id).with_for_update()).first()
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}")
    if incident.resolved_at is not None:
        raise IncidentConflict(
            f"incident {incident_id} was resolved by {incident.resolved_by} ({incident.resolution})"
        )
    incident.resolved_at = now
    incident.resolved_by = by[:120]
    incident.resolution = "retried"
    run = session.get(StepRun, incident.step_run_id) if incident.step_run_id is not None else None
    if run is not None:
        run.state = "pending"
        run.attempt = 0
        run.error = None
        run.finished_at = None
        instance = session.get(Instance, incident.instance_id)
        payload = call_payload(run, instance.definition_id) if instance is not None else None
        queue.enqueue(
            session, "run_step", instance_id=incident.instance_id, step_run_id=run.id, payload=payload
        )
    else:
        queue.enqueue(session, "advance", instance_id=incident.instance_id)
    event(session, incident.instance_id, "incident_retried", now, incident.step, incident=incident_id, by=by)
