"""The audit log: an append-only, hash-chained record of who did what to which record, and why.

Every entry holds the SHA-256 of the entry before it (``prev_hash``; the first entry holds
:data:`GENESIS`) and its own hash (``entry_hash``) over a canonical JSON of its id, time, actor,
action, record, justification, detail and ``prev_hash``. Changing, removing, inserting or
reordering rows afterwards breaks the chain, and :mod:`engine._audit_verify` finds the first
broken link. The chain proves the log was not rewritten *in part*; a signed checkpoint kept
elsewhere (``waypost audit checkpoint``) guards against rewriting it from some point on.

:func:`record` appends in the caller's transaction, so an action and its audit entry commit or
roll back together: an action that succeeded is never missing from the log. Ids are given here,
one more than the head's, so the ids of the chain have no gaps and a gap means a deleted entry.
On PostgreSQL a transaction-level advisory lock makes concurrent appends queue behind each other
(two transactions must not both chain onto the same head); on SQLite, writers are already one at
a time (``BEGIN IMMEDIATE``). The lock is held until the caller commits, so callers record late
in their transactions.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from engine._tables import AuditEvent, Instance, Task, utcnow

__all__ = [
    "ACTIONS",
    "GENESIS",
    "AuditEntry",
    "deny",
    "entry_hash",
    "payload_of",
    "record",
    "record_now",
    "request_detail",
    "task_target",
]

#: The ``prev_hash`` of the first entry of a log.
GENESIS: Final = "0" * 64

#: What an entry may say was done. ``view`` is a consultation and ``export`` a disclosure in the
#: words of the Data Protection Act 2018, s.62; ``denied`` is a refused attempt (403 or 404).
ACTIONS: Final = frozenset(
    {
        "create",
        "view",
        "alter",
        "export",
        "erase",
        "claim",
        "complete",
        "release",
        "login",
        "login_failed",
        "logout",
        "denied",
        "step",
    }
)

# One key per schema, so installations sharing a PostgreSQL database do not wait for each other.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('waypost-audit:' || current_schema()))"
# Keep the id sequence in step with the ids given here, so a plain insert elsewhere cannot collide.
_SYNC_SEQUENCE = "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), :id)"
_PENDING = "waypost_audit_pending"
_LISTENING = "waypost_audit_listening"
_TEXT_LIMIT: Final = 2000  # longer strings in detail are cut: the log records, it does not archive

AuditEntry = Mapping[str, Any]


def _clean(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON that reads back identically from SQLite's JSON and PostgreSQL's JSONB.

    Floats become text (JSONB may print ``1e100`` as an integer), NUL characters are dropped
    (JSONB refuses them) and anything that is not JSON becomes its ``str``: the hash must be
    taken of exactly what the database will hand back.
    """
    if depth > 20:
        return "..."
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k).replace("\x00", ""): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_clean(v, depth + 1) for v in items]
    return str(value).replace("\x00", "")[:_TEXT_LIMIT]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def payload_of(entry: AuditEntry) -> str:
    """The canonical JSON an entry's hash is taken over (sorted keys, no spaces, UTF-8 kept).

    ``entry`` has the keys of an ``audit_events`` row: id, at, actor_id, action, record_type,
    record_id, justification, detail and prev_hash.
    """
    body = {
        "id": int(entry["id"]),
        "at": _iso(entry["at"]),
        "actor": entry["actor_id"],
        "action": entry["action"],
        "record_type": entry["record_type"],
        "record_id": entry["record_id"],
        "justification": entry["justification"],
        "detail": entry["detail"],
        "prev_hash": entry["prev_hash"],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 (hex) of :func:`payload_of` ``entry``."""
    return hashlib.sha256(payload_of(entry).encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str | None,
    action: str,
    record_type: str,
    record_id: str | int | None = None,
    justification: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append an entry in ``session``'s transaction and return its id.

    ``actor`` is the user id (None for the system or an unknown person: a failed sign-in names
    the user name tried in ``detail``). ``detail`` holds where from (ip, user agent), the actor's
    department and anything the action needs to be understood later; it is stored as JSON.
    Raises ValueError for an action outside :data:`ACTIONS` (a typo must not start a new kind).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {sorted(ACTIONS)}")
    if at is not None and at.tzinfo is None:
        raise ValueError("an audit time must be aware (UTC), not naive")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text(_LOCK))
    head = session.execute(
        select(AuditEvent.id, AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    entry: dict[str, Any] = {
        "id": (head[0] if head else 0) + 1,
        "at": (at or utcnow()).astimezone(UTC),
        "actor_id": None if actor is None else str(actor)[:120],
        "action": action,
        "record_type": record_type[:32],
        "record_id": None if record_id is None else str(record_id)[:120],
        "justification": None if justification is None else _clean(justification),
        "detail": None if detail is None else _clean(detail),
        # A head without a hash (written around this module) still gets a definite link.
        "prev_hash": (head[1] or "") if head else GENESIS,
    }
    entry["entry_hash"] = entry_hash(entry)
    session.execute(insert(AuditEvent).values(**entry))
    if bind.dialect.name == "postgresql":
        session.execute(text(_SYNC_SEQUENCE), {"id": entry["id"]})
    return int(entry["id"])


def request_detail(request: HTTPConnection, **extra: Any) -> dict[str, Any]:
    """Where a request came from, for ``detail``: ip, user agent, path, method, and the user's department.

    ``extra`` items are added (None values left out), e.g. the reason a request was refused.
    """
    principal = getattr(request.state, "principal", None)
    detail: dict[str, Any] = {
        "ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300] or None,
        "method": request.scope.get("method"),
        "path": request.url.path,
        "via": getattr(principal, "via", None),
        "department": getattr(principal, "department_id", None),
    }
    detail.update(extra)
    return {k: v for k, v in detail.items() if v is not None}


def record_now(
    db: Any,
    request: HTTPConnection,
    *,
    action: str,
    record_type: str,
    record_id: str | int | None = None,
    actor: str | None = None,
    justification: str | None = None,
    **extra: Any,
) -> None:
    """Record one entry about ``request`` in a transaction of its own (for views and refusals).

    ``db`` is the :class:`engine._database.Database`. The actor defaults to the signed-in user.
    Called from a worker thread (it blocks on the database), like every other database call.
    """
    principal = getattr(request.state, "principal", None)
    who = actor if actor is not None else getattr(principal, "user_id", None)
    with db.session() as session:
        record(
            session,
            actor=who,
            action=action,
            record_type=record_type,
            record_id=record_id,
            justification=justification,
            detail=request_detail(request, **extra),
        )


def deny(
    db: Any,
    session: Session,
    request: HTTPConnection,
    *,
    record_type: str,
    record_id: str | int | None,
    reason: str,
) -> None:
    """Audit a refused access to an existing record, once ``session``'s transaction has ended.

    Refusals are raised (403/404) from inside a transaction that then rolls back, which would
    take an entry written in it along; and on SQLite a second writer cannot start while that
    transaction holds the lock. So the entry is queued on the session and written in a
    transaction of its own as soon as the first ends, committed or rolled back alike.
    """
    principal = getattr(request.state, "principal", None)
    entry = {
        "actor": getattr(principal, "user_id", None),
        "record_type": record_type,
        "record_id": record_id,
        "detail": request_detail(request, reason=reason),
    }
    if not session.in_transaction():
        _write_pending(db, [entry])
        return
    session.info.setdefault(_PENDING, []).append(entry)
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_transaction_end", lambda s, t: _flush(db, s, t))


def _flush(db: Any, session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint or inner scope: the transaction goes on
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        _write_pending(db, pending)


def _write_pending(db: Any, entries: list[dict[str, Any]]) -> None:
    with db.session() as session:
        for entry in entries:
            record(session, action="denied", **entry)


def task_target(session: Session, task: Task) -> dict[str, Any]:
    """What a task's page or API read shows, as ``record_type``/``record_id``/``task`` arguments.

    A task shows its case, the submission's answers: the view is recorded against that
    submission (so "who saw submission X" is one query), naming the task; a task without a
    submission is recorded as a view of the task.
    """
    instance = session.get(Instance, task.instance_id)
    if instance is None or instance.submission_id is None:
        return {"record_type": "task", "record_id": task.id}
    return {"record_type": "submission", "record_id": instance.submission_id, "task": task.id}
