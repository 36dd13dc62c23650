"""The audit log's appends: the chain, canonical hashing, bad input and concurrent writers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from starlette.requests import HTTPConnection

from engine._audit import GENESIS, deny, entry_hash, payload_of, record
from engine._audit_verify import Finding, checkpoint, verify
from engine._database import Database
from engine._tables import AuditEvent

WHEN = datetime(2025, 6, 2, 9, 0, 0, 123456, tzinfo=UTC)


def _rows(db: Database) -> list[AuditEvent]:
    with db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_entries_chain_from_genesis_and_hash_what_the_database_hands_back(db: Database) -> None:
    with db.session() as session:
        first = record(session, actor="u1", action="login", record_type="user", record_id="u1", at=WHEN)
        second = record(
            session,
            actor="u1",
            action="view",
            record_type="submission",
            record_id="s-1",
            justification="Linked enquiry 42",
            # Floats, sets, NULs and non-JSON values are stored so they read back identically.
            detail={"ip": "10.0.0.1", "ratio": 1e100, "roles": {"b", "a"}, "note": "a\x00b", "when": WHEN},
        )
    rows = _rows(db)
    assert [r.id for r in rows] == [first, second] == [1, 2]
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].entry_hash
    assert rows[1].detail == {
        "ip": "10.0.0.1",
        "ratio": "1e+100",
        "roles": ["a", "b"],
        "note": "ab",
        "when": str(WHEN),
    }
    for row in rows:
        values = {c: getattr(row, c) for c in ("id", "at", "actor_id", "action", "record_type", "record_id")}
        values |= {"justification": row.justification, "detail": row.detail, "prev_hash": row.prev_hash}
        assert entry_hash(values) == row.entry_hash
    assert rows[0].at == WHEN
    finding = verify_db(db)
    assert finding.ok
    assert finding.count == 2
    assert finding.head_hash == rows[1].entry_hash


def verify_db(db: Database) -> Finding:
    with db.engine.connect() as connection:
        return verify(connection)


def test_the_payload_is_canonical_json_of_every_field() -> None:
    entry = {
        "id": 7,
        "at": WHEN,
        "actor_id": "u",
        "action": "view",
        "record_type": "submission",
        "record_id": "s",
        "justification": None,
        "detail": {"b": 1, "a": "é"},
        "prev_hash": GENESIS,
    }
    assert payload_of(entry) == (
        '{"action":"view","actor":"u","at":"2025-06-02T09:00:00.123456+00:00","detail":{"a":"é","b":1},'
        f'"id":7,"justification":null,"prev_hash":"{GENESIS}","record_id":"s","record_type":"submission"}}'
    )
    # Each field is covered: changing any one changes the hash.
    base = entry_hash(entry)
    for key, other in [("id", 8), ("actor_id", "v"), ("detail", {"a": "e", "b": 1}), ("prev_hash", "1" * 64)]:
        assert entry_hash({**entry, key: other}) != base


def test_an_unknown_action_is_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(ValueError, match="unknown audit action 'veiw'"), db.session() as session:
        record(session, actor="u", action="veiw", record_type="submission")
    with pytest.raises(ValueError, match="aware"), db.session() as session:
        record(session, actor="u", action="view", record_type="submission", at=datetime(2025, 1, 1))
    assert _rows(db) == []


def test_a_rolled_back_action_leaves_no_entry_and_no_gap(db: Database) -> None:
    with db.session() as session:
        record(session, actor="u", action="login", record_type="user")

    def failing_action() -> None:
        with db.session() as session:
            record(session, actor="u", action="create", record_type="submission", record_id="x")
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        failing_action()
    with db.session() as session:
        record(session, actor="u", action="logout", record_type="user")
    assert [(r.id, r.action) for r in _rows(db)] == [(1, "login"), (2, "logout")]
    assert verify_db(db).ok


def test_checkpoint_names_the_head(db: Database) -> None:
    with db.engine.connect() as connection:
        empty = checkpoint(connection)
    assert (empty.head_id, empty.head_hash, empty.count) == (None, GENESIS, 0)
    with db.session() as session:
        for n in range(3):
            record(session, actor=f"u{n}", action="view", record_type="submission", record_id=str(n))
    with db.engine.connect() as connection:
        point = checkpoint(connection)
    assert (point.head_id, point.count) == (3, 3)
    assert point.head_hash == _rows(db)[-1].entry_hash


def test_concurrent_writers_never_fork_the_chain_on_postgresql(pg_db: Database) -> None:
    """Eight threads, each appending in its own transactions: one chain, no two on the same head."""
    threads, per_thread = 8, 15
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                with pg_db.session() as session:
                    record(session, actor=f"t{n}", action="view", record_type="submission", record_id=str(i))
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    rows = _rows(pg_db)
    assert [r.id for r in rows] == list(range(1, threads * per_thread + 1))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two entries chained onto one head
    finding = verify_db(pg_db)
    assert finding.ok
    assert finding.count == threads * per_thread


def _request(user_id: str | None = None) -> HTTPConnection:
    principal = SimpleNamespace(user_id=user_id, via="session", department_id="response") if user_id else None
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/submissions/s-1",
        "query_string": b"",
        "headers": [(b"user-agent", b"pytest")],
        "client": ("10.1.2.3", 5000),
        "server": ("testserver", 80),
        "scheme": "http",
        "root_path": "",
        "state": {"principal": principal},
    }
    return HTTPConnection(scope)


def test_a_refusal_inside_a_write_transaction_is_logged_after_its_rollback(db: Database) -> None:
    """The refusal raises, its transaction rolls back; the entry still lands, at once (no lock wait)."""
    started = time.monotonic()

    def refuse() -> None:
        with db.session() as session:
            session.execute(select(AuditEvent.id)).all()  # the transaction (and SQLite's lock) is open
            deny(db, session, _request("u-7"), record_type="submission", record_id="s-1", reason="not_owner")
            deny(db, session, _request("u-7"), record_type="draft", record_id="d-1", reason="not_owner")
            raise PermissionError("refused")

    with pytest.raises(PermissionError):
        refuse()
    assert time.monotonic() - started < 5
    rows = _rows(db)
    assert [(r.action, r.record_type, r.record_id, r.actor_id) for r in rows] == [
        ("denied", "submission", "s-1", "u-7"),
        ("denied", "draft", "d-1", "u-7"),
    ]
    assert rows[0].detail == {
        "ip": "10.1.2.3",
        "user_agent": "pytest",
        "method": "GET",
        "path": "/submissions/s-1",
        "via": "session",
        "department": "response",
        "reason": "not_owner",
    }
    # A committed transaction logs its refusals too, and a session not yet in a transaction at once.
    with db.session(write=False) as session:
        session.execute(select(AuditEvent.id)).all()
        deny(db, session, _request(), record_type="task", record_id="t-1", reason="role_not_held")
    with db.session() as session:
        deny(db, session, _request(), record_type="task", record_id="t-2", reason="role_not_held")
        assert [r.record_id for r in _rows(db)][-1] == "t-2"
    assert [r.record_id for r in _rows(db)] == ["s-1", "d-1", "t-1", "t-2"]
    assert verify_db(db).ok
