"""Checking the audit chain and taking checkpoints of its head (``waypost audit verify|checkpoint``).

:func:`verify` re-walks the log in id order, recomputing every hash, and stops at the first
broken link with a precise finding: an entry whose contents no longer match its hash (edited),
a gap in the ids (deleted), an entry that does not link to the one before it (inserted, or the
one before was replaced), or an entry holding another id's contents (reordered). A checkpoint is
the head's id and hash with the time and count; kept outside the database (and signed), it shows
later that the log still contains that head, which the chain alone cannot show for its last
entries (removing entries from the end leaves a shorter chain that is still whole).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from engine._audit import GENESIS, entry_hash
from engine._tables import AuditEvent, utcnow

__all__ = ["Checkpoint", "Finding", "checkpoint", "compare", "verify"]

# How far from its place a reordered entry's contents are looked for (only once a hash failed).
_REORDER_WINDOW = 1000
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of a walk: ``ok``, how many entries were checked, and the first problem."""

    ok: bool
    count: int
    head_id: int | None
    head_hash: str | None
    problem: str | None = None
    broken_id: int | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of the log at a moment: what ``waypost audit checkpoint`` prints (and signs)."""

    head_id: int | None
    head_hash: str
    at: datetime
    count: int

    def as_json(self) -> dict[str, Any]:
        """The checkpoint as JSON values (the time as ISO 8601 UTC)."""
        return {
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(),
            "count": self.count,
        }


def _rows(connection: Connection) -> Iterator[dict[str, Any]]:
    """Every entry in id order, read in batches (a long log does not sit in memory at once)."""
    last: int | None = None  # not 0: an entry forged with id 0 or below must be seen too
    while True:
        query = select(AuditEvent.__table__).order_by(AuditEvent.id).limit(_BATCH)
        if last is not None:
            query = query.where(AuditEvent.id > last)
        batch = [dict(row._mapping) for row in connection.execute(query)]
        yield from batch
        if len(batch) < _BATCH:
            return
        last = batch[-1]["id"]


def _moved_from(row: dict[str, Any]) -> int | None:
    """The id whose entry ``row``'s contents are (its hash fits them under that id), if any nearby."""
    ident = int(row["id"])
    for offset in range(1, _REORDER_WINDOW + 1):
        for candidate in (ident - offset, ident + offset):
            if candidate > 0 and entry_hash({**row, "id": candidate}) == row["entry_hash"]:
                return candidate
    return None


def _problem(row: dict[str, Any], expected_id: int, expected_prev: str) -> str | None:
    """What is wrong with ``row`` as the entry after ``expected_id - 1``, or None."""
    ident = row["id"]
    if ident < expected_id:  # an id before the chain's first (ids start at 1)
        return f"entry id {ident} is out of sequence (expected id {expected_id}): it was inserted"
    if row["entry_hash"] is None:
        return f"entry id {ident} has no hash: it was not written by Waypost's audit log"
    if entry_hash(row) != row["entry_hash"]:
        source = _moved_from(row)
        if source is not None:
            return (
                f"entry id {ident} holds the contents of entry {source}: entries were reordered or renumbered"
            )
        return f"hash mismatch at id {ident}: the entry was altered after it was written"
    if ident > expected_id:
        missing = f"{expected_id}" if ident == expected_id + 1 else f"{expected_id} to {ident - 1}"
        return f"entry id {missing} is missing before id {ident}: entries were deleted"
    if row["prev_hash"] != expected_prev:
        what = "the first entry" if expected_prev == GENESIS else f"entry {ident - 1}"
        return (
            f"prev_hash does not match at id {ident}: it does not follow {what} "
            "(an entry was inserted, or the one before it replaced)"
        )
    return None


def verify(connection: Connection) -> Finding:
    """Walk the whole log and return the first broken link (``ok=False``) or the intact count."""
    expected_id, expected_prev, count = 1, GENESIS, 0
    for row in _rows(connection):
        problem = _problem(row, expected_id, expected_prev)
        if problem is not None:
            return Finding(False, count, expected_id - 1 or None, expected_prev, problem, row["id"])
        count += 1
        expected_id, expected_prev = row["id"] + 1, row["entry_hash"]
    return Finding(True, count, expected_id - 1 or None, expected_prev)


def checkpoint(connection: Connection, *, at: datetime | None = None) -> Checkpoint:
    """The log's head now (an empty log's head is :data:`GENESIS` with no id).

    It does not walk the chain: run :func:`verify` first to checkpoint only a log that verifies.
    """
    head = connection.execute(
        select(AuditEvent.id, AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    count = connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    if head is None:
        return Checkpoint(None, GENESIS, at or utcnow(), 0)
    return Checkpoint(int(head[0]), head[1] or "", at or utcnow(), int(count))


def compare(connection: Connection, finding: Finding, saved: dict[str, Any]) -> str | None:
    """What is wrong with a verified log against a checkpoint saved earlier, or None.

    The saved head must still be in the log with the same hash: a log cut short, or rewritten
    from some entry on (every hash recomputed), no longer holds it.
    """
    head_id, head_hash = saved.get("head_id"), saved.get("head_hash")
    if head_id is None:
        return None  # a checkpoint of an empty log: anything since is an append
    if not isinstance(head_id, int) or not isinstance(head_hash, str):
        return "the checkpoint has no head_id and head_hash"
    if finding.head_id is None or finding.head_id < head_id:
        now = finding.head_id or 0
        return f"the checkpoint's head, entry {head_id}, is gone: the log ends at id {now} (entries removed)"
    stored = connection.execute(select(AuditEvent.entry_hash).where(AuditEvent.id == head_id)).scalar()
    if stored != head_hash:
        return (
            f"entry {head_id} no longer has the checkpoint's hash: the log was rewritten from there or before"
        )
    return None
