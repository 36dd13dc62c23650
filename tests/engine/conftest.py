"""Shared engine fixtures: a clean, migrated database on SQLite and on PostgreSQL, and a fake clock.

``db`` runs each test twice, on SQLite and on a real PostgreSQL (``WAYPOST_TEST_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). PostgreSQL is never skipped: an
unreachable server fails the test with the reason.

Each PostgreSQL test gets a schema of its own (``search_path`` set through the URL), so parallel
runs never meet. Creating and migrating a schema costs most of a second on a small machine, so a
schema is cleaned after its test (its connections ended, every row deleted, sequences reset) and
handed to a later test of the same run; a schema a test changed in shape is dropped instead. On
SQLite each test gets a copy of a database file migrated once per run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from engine._database import Database
from engine._tables import Base

POSTGRES_URL = os.environ.get(
    "WAYPOST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_TABLES = {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"}


class FakeClock:
    """A clock for tests: call it for the time; ``advance`` moves it (nothing ever sleeps)."""

    def __init__(self, start: datetime = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **units: float) -> datetime:
        """Move the clock forward (``advance(30)``, ``advance(hours=4)``) and return the new time."""
        self.now += timedelta(seconds=seconds, **units)
        return self.now

    def set(self, when: datetime) -> None:
        """Put the clock at ``when`` (aware)."""
        self.now = when


def admin_conninfo() -> str:
    """A psycopg connection string for the test server itself (no schema of a test)."""
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def schema_url(schema: str) -> str:
    """The test PostgreSQL URL with ``search_path`` (and the application name) set to ``schema``."""
    url = make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": f"waypost-test-{schema}"}
    )
    return url.render_as_string(hide_password=False)


class SchemaPool:
    """Migrated PostgreSQL schemas of this test run: clean ones wait here for the next test."""

    def __init__(self) -> None:
        try:
            self.admin = psycopg.connect(admin_conninfo(), autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            pytest.fail(
                f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}). The engine tests need it: "
                "start it or set WAYPOST_TEST_POSTGRES_URL.",
                pytrace=False,
            )
        self.run = uuid.uuid4().hex[:8]
        self.clean: list[str] = []
        self.made: set[str] = set()

    def acquire(self) -> str:
        """A clean schema at the newest migration (reused, or created and migrated now)."""
        if self.clean:
            return self.clean.pop()
        schema = f"t_{self.run}_{len(self.made)}"
        self.admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.made.add(schema)
        db = Database(schema_url(schema))
        try:
            db.upgrade()
        finally:
            db.dispose()
        return schema

    def release(self, schema: str) -> None:
        """End the schema's leftover connections, then clean it for reuse or drop it."""
        self.release_connections(schema)
        if self._reset(schema):
            self.clean.append(schema)
        else:
            self.drop(schema)

    def _reset(self, schema: str) -> bool:
        """Delete every row and reset the sequences; False if the schema changed shape or is locked."""
        tables = {
            row[0]
            for row in self.admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
        }
        if tables != _TABLES:
            return False
        try:
            with self.admin.transaction():
                self.admin.execute("SET LOCAL lock_timeout = '5s'")
                for table in reversed(Base.metadata.sorted_tables):
                    self.admin.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table.name)))
                sequences = self.admin.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (schema,)
                ).fetchall()
                for (sequence,) in sequences:
                    self.admin.execute("SELECT setval(%s, 1, false)", (f'"{schema}"."{sequence}"',))
        except psycopg.Error:
            return False
        return True

    def drop(self, schema: str) -> None:
        """Drop ``schema`` and everything in it."""
        self.admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        self.made.discard(schema)

    def close(self) -> None:
        """Drop every schema of the run (at the end of the session)."""
        for schema in sorted(self.made):
            self.release_connections(schema)
            self.drop(schema)
        self.admin.close()

    def release_connections(self, schema: str) -> None:
        """Terminate connections a test left open on ``schema`` (found by their application name)."""
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"waypost-test-{schema}",),
        )


@pytest.fixture(scope="session")
def schema_pool() -> Iterator[SchemaPool]:
    """The run's PostgreSQL schemas; ``acquire()`` a clean migrated one, ``release()`` it after."""
    pool = SchemaPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per run; each test copies it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "waypost.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.checkpoint()
    db.dispose()
    return path


def _database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if kind == "sqlite":
        path = tmp_path / "waypost.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    pool: SchemaPool = request.getfixturevalue("schema_pool")
    schema = pool.acquire()
    db = Database(schema_url(schema))
    try:
        yield db
    finally:
        db.dispose()
        pool.release(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A clean database at the newest migration, on SQLite and on PostgreSQL."""
    yield from _database(request.param, request, tmp_path)


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A clean PostgreSQL database at the newest migration (for PostgreSQL-only behaviour)."""
    yield from _database("postgres", request, tmp_path)


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A clean SQLite database file at the newest migration (for SQLite-only behaviour)."""
    yield from _database("sqlite", request, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 2025-06-02 09:00 UTC; ``clock.advance(...)`` moves it."""
    return FakeClock()
