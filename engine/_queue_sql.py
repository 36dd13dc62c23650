"""The SQL of the job queue, built once as Core statements with bound parameters.

Building a statement is most of SQLAlchemy's cost per call; these are built at import and reused,
so a claim or a completion only binds its values (and hits the compiled-statement cache). Bound
parameter names start with ``p_`` so that none collides with a column name in ``UPDATE ... SET``.

Every transition after a claim is *fenced*: its ``WHERE`` requires the job to be still leased
under the fencing token the owner was given, so an owner whose lease was taken over changes
nothing (zero rows).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Delete,
    Integer,
    Select,
    String,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from engine._tables import Job, UTCDateTime

__all__ = [
    "CLAIM_POSTGRES",
    "CLAIM_SQLITE",
    "COMPLETE",
    "EXTEND",
    "INSERT",
    "JOBS",
    "KILL",
    "NOTIFY",
    "PURGE_POSTGRES",
    "PURGE_SQLITE",
    "REAP_POSTGRES",
    "REAP_SQLITE",
    "RELEASE",
    "RETRY",
    "RETURNED",
]

JOBS = cast(Table, Job.__table__)
_c = JOBS.c


def _time(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


# The columns a claim hands back, in ClaimedJob's field order.
RETURNED = (
    _c.id,
    _c.kind,
    _c.queue,
    _c.instance_id,
    _c.step_run_id,
    _c.task_id,
    _c.payload,
    _c.fencing_token,
    _c.attempts,
    _c.request_id,
    _c.due_at,
    _c.lease_owner,
    _c.lease_expires_at,
)

INSERT = insert(JOBS).returning(_c.id)
NOTIFY = select(func.pg_notify(bindparam("p_channel", type_=String()), bindparam("p_queue", type_=String())))


def _pick(where: ColumnElement[bool], postgres: bool, name: str, limit: bool) -> ColumnElement[bool]:
    """The ``WHERE`` that selects the jobs to change: a locked CTE on PostgreSQL, ``IN`` on SQLite."""
    chosen: Select[tuple[int]] = select(_c.id).where(where)
    if limit:
        chosen = chosen.order_by(_c.due_at, _c.id).limit(bindparam("p_limit", type_=Integer()))
    if postgres:
        # SKIP LOCKED: never wait for a row another claimer holds. The CTE is evaluated once;
        # `IN (subquery ... LIMIT)` may be re-run by the planner and take more than the limit.
        cte = chosen.with_for_update(skip_locked=True).cte(name)
        return _c.id == cte.c.id
    return _c.id.in_(chosen.scalar_subquery())


def _claim(postgres: bool) -> Update:
    due = (
        (_c.state == "ready")
        & _c.queue.in_(bindparam("p_queues", expanding=True))
        & (_c.due_at <= _time("p_now"))
    )
    return (
        update(JOBS)
        .where(_pick(due, postgres, "chosen", limit=True))
        .values(
            state="leased",
            lease_owner=bindparam("p_owner", type_=String()),
            lease_expires_at=_time("p_expires"),
            fencing_token=_c.fencing_token + 1,
            attempts=_c.attempts + 1,
        )
        .returning(*RETURNED)
    )


def _reap(postgres: bool) -> Update:
    expired = (_c.state == "leased") & (_c.lease_expires_at < _time("p_now"))
    return (
        update(JOBS)
        .where(_pick(expired, postgres, "expired", limit=False))
        .values(
            state="ready",
            lease_owner=None,
            lease_expires_at=None,
            last_error=literal("lease expired; owner was ") + _c.lease_owner,
        )
        .returning(_c.queue)
    )


CLAIM_POSTGRES = _claim(postgres=True)
CLAIM_SQLITE = _claim(postgres=False)
REAP_POSTGRES = _reap(postgres=True)
REAP_SQLITE = _reap(postgres=False)


def _fenced(**values: Any) -> Update:
    return (
        update(JOBS)
        .where(
            _c.id == bindparam("p_job", type_=Integer()),
            _c.fencing_token == bindparam("p_token", type_=Integer()),
            _c.state == "leased",
        )
        .values(**values)
    )


COMPLETE = _fenced(state="done", finished_at=_time("p_now"), lease_expires_at=None)
RETRY = _fenced(
    state="ready",
    due_at=_time("p_due"),
    last_error=bindparam("p_error"),
    lease_owner=None,
    lease_expires_at=None,
)
RELEASE = _fenced(
    state="ready", due_at=_time("p_now"), attempts=_c.attempts - 1, lease_owner=None, lease_expires_at=None
)
KILL = _fenced(
    state="dead", last_error=bindparam("p_error"), finished_at=_time("p_now"), lease_expires_at=None
)
EXTEND = _fenced(lease_expires_at=_time("p_expires"))

PURGE_POSTGRES: Delete = delete(JOBS).where(_c.state == "done", _c.finished_at < _time("p_before"))
# SQLite hands out the largest rowid again once it is deleted; a reused id could match a stale
# (id, token) pair still held by a slow worker, so the newest row always stays.
PURGE_SQLITE: Delete = PURGE_POSTGRES.where(_c.id < select(func.max(_c.id)).scalar_subquery())
