"""The durable job queue: every piece of work the engine does is a row in ``jobs``.

A job's life (DESIGN.md section 4)::

    ready --claim--> leased --complete--> done
      ^                |  |--retry_later--> ready (due later)      --kill--> dead
      |                |  `--release-----> ready (now, attempt given back)
      `----reap_expired'   (the lease ran out: the owner crashed or hung)

* **Enqueue** happens inside the caller's transaction, so a job exists exactly when the state
  change that needs it commits. On PostgreSQL the same transaction sends ``NOTIFY``, which is
  delivered at commit.
* **Claim** takes a lease: ``state='leased'``, an owner, an expiry, and a new fencing token
  (``fencing_token + 1``). PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so claimers never wait on
  each other; SQLite serialises claimers with ``BEGIN IMMEDIATE``.
* **Every later transition is fenced**: it applies only while the row is still leased under the
  token the owner holds. After a lease expires and another worker claims the job, the first
  owner's late ``complete`` matches no row, returns False, and its transaction refuses to commit
  (:class:`engine._database.LeaseLost`), so a job's effects are written once. A crashed worker's
  job is found by :meth:`JobQueue.reap_expired` and runs again; the step's idempotency key makes
  the repeated call safe at the back-end.
* ``attempts`` counts claims (a graceful ``release`` gives one back), so a job that keeps killing
  its worker can be recognised and killed by the executor instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, func, select
from sqlalchemy.orm import Session

from engine import _queue_sql as sql
from engine._database import NOTIFY_CHANNEL, Database, mark_lease_lost, note_enqueued
from engine._queue_listen import WorkWaiter
from engine._tables import Job, utcnow

__all__ = ["JOB_KINDS", "NOTIFY_CHANNEL", "ClaimedJob", "JobQueue"]

# The kinds the executor uses; the queue itself accepts any short name.
JOB_KINDS = ("advance", "run_step", "task_due", "timer")


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job leased to one owner; ``fencing_token`` proves the lease in every later transition."""

    id: int
    kind: str
    queue: str
    instance_id: str | None
    step_run_id: int | None
    task_id: str | None
    payload: Any
    fencing_token: int
    attempts: int
    request_id: str | None
    due_at: datetime
    owner: str = ""
    lease_expires_at: datetime | None = None


def _name(value: str, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"{what} must be a non-empty string of at most {limit} characters, got {value!r}")
    return value


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be a timezone-aware datetime (UTC), got naive {value!r}")
    return value


class JobQueue:
    """Enqueue, claim, and finish jobs (see the module docstring for the life of a job).

    ``clock`` gives the current time (tests pass a fake one; nothing here reads the wall clock
    for timing), ``lease_seconds`` is how long a claim lasts without :meth:`extend_lease`, and
    ``poll_interval`` bounds how long :meth:`wait_for_work` sleeps without a notification.
    Call :meth:`close` when done (it releases the LISTEN connection on PostgreSQL).
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease_seconds: float = 30.0,
        poll_interval: float = 1.0,
    ) -> None:
        if not lease_seconds > 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds!r}")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval!r}")
        self.db = db
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self._waiter = WorkWaiter(db)
        self._claim = sql.CLAIM_POSTGRES if db.is_postgres else sql.CLAIM_SQLITE
        self._reap = sql.REAP_POSTGRES if db.is_postgres else sql.REAP_SQLITE

    # Enqueue (in the caller's transaction) ----------------------------------------------------

    def enqueue(
        self,
        session: Session,
        kind: str,
        *,
        instance_id: str | None = None,
        step_run_id: int | None = None,
        task_id: str | None = None,
        payload: Any = None,
        due_at: datetime | None = None,
        queue: str = "default",
        request_id: str | None = None,
    ) -> int:
        """Add a job in ``session``'s transaction and return its id; it is claimable from commit.

        ``due_at`` (aware) defers the job; by default it is due now. ``session`` must come from
        :meth:`Database.session`, whose commit wakes this process's waiters.
        """
        _name(kind, "kind", 16)
        _name(queue, "queue", 64)
        now = self.clock()
        due = now if due_at is None else _aware(due_at, "due_at")
        # A Core insert does not autoflush: rows added to the session (the instance this job
        # is for) must reach the database first, for the foreign keys.
        session.flush()
        values = {
            "kind": kind,
            "queue": queue,
            "instance_id": instance_id,
            "step_run_id": step_run_id,
            "task_id": task_id,
            "payload": payload,
            "due_at": due,
            "state": "ready",
            "attempts": 0,
            "fencing_token": 0,
            "request_id": request_id,
            "created_at": now,
        }
        job_id = int(session.execute(sql.INSERT, values).scalar_one())
        # A job due now wakes waiters (NOTIFY is delivered at commit, once per queue and
        # transaction); a job due later is found by polling when its time comes.
        if due <= now and note_enqueued(session, queue) and self.db.is_postgres:
            session.execute(sql.NOTIFY, {"p_channel": self.db.notify_channel, "p_queue": queue})
        return job_id

    # Claim and reap (their own short transactions) ---------------------------------------------

    def claim(self, owner: str, *, limit: int = 1, queues: Sequence[str] = ("default",)) -> list[ClaimedJob]:
        """Lease up to ``limit`` due jobs of ``queues`` to ``owner``, oldest due first.

        Each claimed job gets ``attempts + 1`` and a new fencing token. Jobs leased by others are
        skipped, never waited for, so any number of workers can claim at once.
        """
        _name(owner, "owner", 120)
        if isinstance(queues, str) or not queues:
            raise ValueError(f"queues must be a non-empty sequence of queue names, got {queues!r}")
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive whole number, got {limit!r}")
        self._waiter.looked()
        now = self.clock()
        params = {
            "p_queues": list(queues),
            "p_now": now,
            "p_limit": limit,
            "p_owner": owner,
            "p_expires": now + timedelta(seconds=self.lease_seconds),
        }
        with self.db.begin() as connection:
            rows = connection.execute(self._claim, params).all()
        jobs = [ClaimedJob(*row) for row in rows]
        return sorted(jobs, key=lambda job: (job.due_at, job.id))

    def reap_expired(self) -> int:
        """Return every job whose lease has expired to ``ready``; the number of jobs returned.

        Safe to run from any number of processes at once. The owner that lost a lease can no
        longer finish the job (its fenced transitions fail); the next claim runs it again.
        """
        with self.db.begin() as connection:
            reaped = list(connection.execute(self._reap, {"p_now": self.clock()}).scalars())
            if self.db.is_postgres:
                for name in sorted(set(reaped)):
                    connection.execute(sql.NOTIFY, {"p_channel": self.db.notify_channel, "p_queue": name})
        if reaped:
            self.db.signal_work()
        return len(reaped)

    # Fenced transitions ------------------------------------------------------------------------

    def _fenced(self, session: Session, statement: Update, job: ClaimedJob, **params: Any) -> bool:
        session.flush()  # pending ORM changes go first, as they would with an ORM statement
        params.update(p_job=job.id, p_token=job.fencing_token)
        result = cast(CursorResult[Any], session.execute(statement, params))
        if result.rowcount == 1:
            return True
        mark_lease_lost(session, job.id)
        return False

    def complete(self, session: Session, job: ClaimedJob) -> bool:
        """Mark ``job`` done in ``session``'s transaction; False if its lease was lost.

        On False the caller must roll back its whole transaction: the job belongs to another
        owner now, and the transaction refuses to commit (it raises ``LeaseLost``).
        """
        return self._fenced(session, sql.COMPLETE, job, p_now=self.clock())

    def retry_later(self, session: Session, job: ClaimedJob, *, due_at: datetime, error: str) -> bool:
        """Put ``job`` back to wait until ``due_at`` (a retry with backoff); fenced like complete."""
        return self._fenced(session, sql.RETRY, job, p_due=_aware(due_at, "due_at"), p_error=error)

    def release(self, session: Session, job: ClaimedJob) -> bool:
        """Give ``job`` back unfinished (graceful shutdown): ready now, the attempt not counted."""
        return self._fenced(session, sql.RELEASE, job, p_now=self.clock())

    def kill(self, session: Session, job: ClaimedJob, *, error: str) -> bool:
        """Mark ``job`` dead (it will not run again without an operator); fenced like complete."""
        return self._fenced(session, sql.KILL, job, p_now=self.clock(), p_error=error)

    def extend_lease(self, job: ClaimedJob) -> bool:
        """Push the lease of ``job`` to ``lease_seconds`` from now (a heartbeat); False if it was lost."""
        params = {
            "p_job": job.id,
            "p_token": job.fencing_token,
            "p_expires": self.clock() + timedelta(seconds=self.lease_seconds),
        }
        with self.db.begin() as connection:
            return connection.execute(sql.EXTEND, params).rowcount == 1

    # Waiting, monitoring, housekeeping ---------------------------------------------------------

    def wait_for_work(self, timeout: float) -> None:
        """Block until work may be there: a notification, ``poll_interval``, or ``timeout`` seconds.

        Returns at once if a job was enqueued in this process since the last :meth:`claim`.
        """
        self._waiter.wait(min(timeout, self.poll_interval))

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per queue: ``ready`` (all), ``due`` (ready and due now), ``leased``, ``dead`` counts and
        ``oldest_ready_age``, the seconds the longest-waiting due job has waited (0.0 if none)."""
        now = self.clock()
        result: dict[str, dict[str, Any]] = {}

        def entry(queue: str) -> dict[str, Any]:
            return result.setdefault(
                queue, {"ready": 0, "due": 0, "leased": 0, "dead": 0, "oldest_ready_age": 0.0}
            )

        with self.db.session(write=False) as session:
            counts = session.execute(
                select(Job.queue, Job.state, func.count())
                .where(Job.state.in_(("ready", "leased", "dead")))
                .group_by(Job.queue, Job.state)
            )
            for queue, state, count in counts:
                entry(queue)[state] = int(count)
            due = session.execute(
                select(Job.queue, func.count(), func.min(Job.due_at))
                .where(Job.state == "ready", Job.due_at <= now)
                .group_by(Job.queue)
            )
            for queue, count, oldest in due:
                entry(queue)["due"] = int(count)
                entry(queue)["oldest_ready_age"] = max(0.0, (now - oldest).total_seconds())
        return result

    def purge_done(self, before: datetime) -> int:
        """Delete done jobs that finished before ``before``; the number deleted (dead jobs stay)."""
        statement = sql.PURGE_SQLITE if self.db.is_sqlite else sql.PURGE_POSTGRES
        with self.db.begin() as connection:
            return connection.execute(statement, {"p_before": _aware(before, "before")}).rowcount

    def close(self) -> None:
        """Release the notification connection (the queue stays usable; it reconnects if needed)."""
        self._waiter.close()
