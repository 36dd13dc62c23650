"""The database: one engine, transaction scopes, SQLite tuning and Alembic migrations.

Waypost runs on SQLite for a single server and on PostgreSQL (through psycopg 3) for many. The
differences that matter to the rest of the engine are handled here:

* SQLite gets WAL, foreign keys, a busy timeout and ``synchronous=NORMAL`` on every connection,
  and Waypost emits ``BEGIN`` itself (SQLAlchemy's pysqlite transaction-control recipe). Write
  transactions (:meth:`Database.session`, :meth:`Database.begin`) start with ``BEGIN IMMEDIATE``:
  a transaction that reads and then writes cannot fail half-way with "database is locked"
  because another writer slipped in, it waits for the writer lock up front instead (the busy
  timeout bounds the wait). Plain ``engine.connect()`` reads begin deferred.
* An in-memory SQLite URL (``sqlite://``) becomes a private temporary file, removed by
  :meth:`Database.dispose`: an in-memory database exists once per connection, so a pool of them
  would not share any data.
* ``postgresql://`` and ``postgres://`` URLs use psycopg 3.

A transaction whose fenced job update lost its lease (see :mod:`engine._queue`) refuses to
commit: :class:`LeaseLost` is raised, so a forgotten return-value check cannot write the results
of a job that another worker now owns.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["NOTIFY_CHANNEL", "Database", "DatabaseURLError", "LeaseLost", "mark_lease_lost", "note_enqueued"]

# How long an SQLite writer waits for the lock before "database is locked" (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "waypost_sqlite_begin"
# PostgreSQL NOTIFY channels are per database, not per schema: each schema gets its own channel,
# `waypost_jobs.<schema>`, so installations sharing a database do not wake each other's workers.
NOTIFY_CHANNEL = "waypost_jobs"
_LEASE_LOST = "waypost_lease_lost"
_ENQUEUED = "waypost_enqueued"


class DatabaseURLError(ValueError):
    """The database URL is malformed, names an unsupported database, or a folder that is missing."""


class LeaseLost(RuntimeError):
    """A transaction tried to commit after a fenced job update found the lease taken by another owner."""


def mark_lease_lost(session: Session, job_id: int) -> None:
    """Poison ``session``'s transaction: committing it raises :class:`LeaseLost` until rolled back."""
    session.info[_LEASE_LOST] = job_id


def note_enqueued(session: Session, queue: str) -> bool:
    """Record that ``session``'s transaction enqueued work on ``queue``; True the first time per queue.

    When the transaction commits, this process's job waiters wake (not before: an uncommitted job
    cannot be claimed). The return value lets PostgreSQL send one NOTIFY per queue and transaction.
    """
    queues: set[str] = session.info.setdefault(_ENQUEUED, set())
    if queue in queues:
        return False
    queues.add(queue)
    return True


def _normalise(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(
            f"not a database URL: {url!r} (expected sqlite:///PATH or postgresql://...)"
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql":
        if driver not in ("", "psycopg"):
            raise DatabaseURLError(
                f"PostgreSQL is used through psycopg 3: write postgresql+psycopg://, not {url!r}"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise DatabaseURLError(f"SQLite is used through the standard sqlite3 module, not {driver!r}")
        return parsed.set(drivername="sqlite+pysqlite")
    raise DatabaseURLError(
        f"unsupported database {backend!r} in {url!r}: use sqlite:///PATH or postgresql://..."
    )


class Database:
    """An SQLAlchemy engine for a Waypost database, with transaction scopes and migrations.

    ``url`` is an SQLAlchemy URL: ``sqlite:///path/waypost.db`` or
    ``postgresql+psycopg://user@host:5432/name``. Nothing connects until first use.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = _normalise(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = not self.is_sqlite
        self._temporary: Path | None = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            parsed = self._sqlite_file(parsed)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(parsed, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        # Plain engine connections begin DEFERRED (SQLite's default); writes go through _writer.
        self._writer = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._sessions = sessionmaker(bind=self._writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        for factory in (self._sessions, self._read_sessions):
            event.listen(factory, "before_commit", _refuse_lost_lease)
            event.listen(factory, "after_commit", self._after_commit)
            event.listen(factory, "after_soft_rollback", _forget_transaction)
        # Set after each commit that enqueued work; JobQueue.wait_for_work waits on it (SQLite and PG).
        self.work_signal = threading.Condition()
        self.work_generation = 0

    @functools.cached_property
    def notify_channel(self) -> str:
        """The PostgreSQL channel of this database's job notifications: ``waypost_jobs.<schema>``."""
        if not self.is_postgres:
            return NOTIFY_CHANNEL
        with self.engine.connect() as connection:
            schema = connection.scalar(text("SELECT current_schema()"))
        # Channel names are identifiers: at most 63 bytes.
        return f"{NOTIFY_CHANNEL}.{schema}"[:63] if schema else NOTIFY_CHANNEL

    def _sqlite_file(self, parsed: URL) -> URL:
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(parsed.query):
            handle, name = tempfile.mkstemp(prefix="waypost-", suffix=".db")
            os.close(handle)
            self._temporary = Path(name)
            return parsed.set(database=name, query={})
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseURLError(f"the folder of the SQLite database does not exist: {folder}")
        return parsed

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it raises.

        Objects stay usable after the commit (``expire_on_commit=False``). ``write=False`` is for
        read-only work: on SQLite it starts with a plain ``BEGIN``, so it does not wait for writers.
        """
        session = (self._sessions if write else self._read_sessions)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed at the end.

        ``engine.begin()`` / ``engine.connect()`` start SQLite's default deferred transaction,
        fine for reads; a transaction that writes after reading should come from here.
        """
        with self._writer.begin() as connection:
            yield connection

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint was released; the outer transaction goes on
            return
        if session.info.pop(_ENQUEUED, None):
            self.signal_work()

    def signal_work(self) -> None:
        """Wake every job waiter of this process (called after a commit that enqueued jobs)."""
        with self.work_signal:
            self.work_generation += 1
            self.work_signal.notify_all()

    def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database and truncate it (no-op on PostgreSQL).

        Without it the WAL file can grow without bound under steady writes; workers call it
        periodically.
        """
        if not self.is_sqlite:
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # Migrations --------------------------------------------------------------------------------

    def alembic_config(self, connection: Connection | None = None) -> Config:
        """An Alembic configuration for the packaged migrations (no alembic.ini), on ``connection``.

        For tools and tests that call ``alembic.command`` directly (``downgrade``, ``history``).
        """
        config = Config()
        config.set_main_option("script_location", str(resources.files("engine.migrations")))
        config.attributes["connection"] = connection
        return config

    def upgrade(self) -> None:
        """Run every migration up to the newest (head); does nothing when already there."""
        with self.begin() as connection:
            if self.is_postgres:
                # Two servers starting at once must not both migrate: the second waits, then sees head.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext('waypost:' || current_schema()))")
                )
            command.upgrade(self.alembic_config(connection), "head")

    def current_revision(self) -> str | None:
        """The migration the database is at, or None for a database never migrated."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str:
        """The newest migration this version of Waypost ships."""
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        if head is None:
            raise RuntimeError("engine/migrations has no revisions: the package is incomplete")
        return head

    def dispose(self) -> None:
        """Close every pooled connection (and delete the file of a temporary SQLite database)."""
        self.engine.dispose()
        if self._temporary is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._temporary}{suffix}").unlink(missing_ok=True)
            self._temporary = None

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"


def _sqlite_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Waypost emits BEGIN itself (see _sqlite_begin); sqlite3's own transaction handling is off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (it stays so: only a new file needs the change).

    Switching a file to WAL needs it to itself, and SQLite answers "database is locked" at once,
    without its busy timeout, while another connection is using the file: several processes
    opening a new database together (servers starting at once) meet exactly that. So the switch
    is retried, briefly, until the file is free or another connection has made the change.
    """
    for attempt in range(60):
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode is not None and str(mode[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 59:
                raise
        time.sleep(min(0.01 * (attempt + 1), 0.5))


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _refuse_lost_lease(session: Session) -> None:
    if session.in_nested_transaction():  # releasing a savepoint: the outer commit decides
        return
    job_id = session.info.get(_LEASE_LOST)
    if job_id is not None:
        raise LeaseLost(
            f"job {job_id} is leased by another owner now: roll this transaction back, do not commit it"
        )


def _forget_transaction(session: Session, previous_transaction: Any) -> None:
    # A NOTIFY sent inside a savepoint that rolled back is discarded: forget what was sent so a
    # later enqueue in the outer transaction notifies again (a duplicate wake-up is harmless).
    session.info.pop(_ENQUEUED, None)
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_LEASE_LOST, None)
