"""Alembic migrations: packaged with the engine, equal to the models, idempotent, safe to run at once.

These tests start from empty databases of their own (not the shared ``db`` fixture, which is
already migrated): a new SQLite file, and a new PostgreSQL schema dropped afterwards.
"""

from __future__ import annotations

import ast
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import inspect

from engine._database import Database
from engine._tables import Base
from tests.engine.conftest import admin_conninfo, schema_url

VERSIONS = Path(__file__).resolve().parents[2] / "engine" / "migrations" / "versions"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (never migrated) on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    schema = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield schema_url(schema)
        finally:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (f"waypost-test-{schema}",),
            )
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_builds_exactly_the_models_schema(empty_url: str) -> None:
    """After upgrade() the database matches Base.metadata: Alembic's comparison finds no difference."""
    db = Database(empty_url)
    try:
        assert db.current_revision() is None
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        assert _differences(db) == []
        tables = set(inspect(db.engine).get_table_names())
        assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    finally:
        db.dispose()


def test_comparison_would_notice_a_missing_table(empty_url: str) -> None:
    """The schema comparison is not vacuous: a dropped table shows up as a difference."""
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.begin() as connection:
            connection.exec_driver_sql("DROP TABLE audit_events")
        differences = _differences(db)
        assert [d[0] for d in differences if isinstance(d, tuple)] == ["add_table"]
    finally:
        db.dispose()


def test_upgrade_is_idempotent(empty_url: str) -> None:
    """A second upgrade() changes nothing and keeps the data."""
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO departments (id, title, created_at) VALUES ('a', 'A', '2025-01-01')"
            )
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT title FROM departments").scalar() == "A"
    finally:
        db.dispose()


def test_downgrade_to_base_removes_every_table(empty_url: str) -> None:
    """The initial migration's downgrade removes everything it created, and upgrade works again."""
    db = Database(empty_url)
    try:
        db.upgrade()
        with db.begin() as connection:
            command.downgrade(db.alembic_config(connection), "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        assert db.current_revision() is None
        db.upgrade()
        assert _differences(db) == []
    finally:
        db.dispose()


def test_concurrent_upgrades_do_not_collide(empty_url: str) -> None:
    """Several servers upgrading the same new database at once all succeed, migrating it once."""
    errors: list[BaseException] = []
    databases = [Database(empty_url) for _ in range(3)]

    def upgrade(db: Database) -> None:
        try:
            db.upgrade()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        assert {db.current_revision() for db in databases} == {databases[0].head_revision()}
        assert _differences(databases[0]) == []
    finally:
        for db in databases:
            db.dispose()


def test_there_is_one_head_and_it_is_the_initial_revision() -> None:
    """The migrations form one line (no branches) whose head head_revision() reports."""
    db = Database("sqlite://")
    try:
        script = ScriptDirectory.from_config(db.alembic_config())
        assert script.get_heads() == [db.head_revision()]
        assert [r.revision for r in script.walk_revisions()][-1] == "0001"
    finally:
        db.dispose()


def test_migrations_are_found_without_an_alembic_ini() -> None:
    """The Alembic configuration is built in code and points inside the installed engine package."""
    db = Database("sqlite://")
    try:
        config = db.alembic_config()
        assert config.config_file_name is None
        location = Path(config.get_main_option("script_location") or "")
        assert (location / "env.py").is_file()
        assert location.parent.name == "engine"
    finally:
        db.dispose()


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    modules = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    return modules | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def test_revisions_do_not_import_the_models() -> None:
    """Revision scripts are frozen: they use plain SQLAlchemy types, never engine._tables, which changes."""
    scripts = sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")
    assert scripts, "no revision scripts found"
    for script in scripts:
        assert not {m for m in _imported_modules(script) if m.split(".")[0] == "engine"}, script.name


def test_revision_import_check_notices_a_model_import(tmp_path: Path) -> None:
    """The frozen-revision check reports a script that imports the models."""
    bad = tmp_path / "0002_bad.py"
    bad.write_text("from engine._tables import Job\nimport sqlalchemy as sa\n", encoding="utf-8")
    assert _imported_modules(bad) == {"engine._tables", "sqlalchemy"}
