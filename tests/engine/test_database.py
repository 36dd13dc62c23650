"""The Database wrapper: URLs, SQLite tuning, transaction scopes, and the ``waypost db`` commands."""

from __future__ import annotations

import argparse
import io
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from engine._cli_db import DEFAULT_DATABASE_URL, database_url, register
from engine._database import Database, DatabaseURLError
from engine._tables import Department, User

# URLs and construction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/waypost", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
        ("sqlite+aiosqlite:///x.db", "standard sqlite3"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    """A URL for another database or driver, or no URL at all, raises DatabaseURLError saying why."""
    with pytest.raises(DatabaseURLError, match=message):
        Database(url)


def test_sqlite_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """An SQLite path whose folder does not exist is reported, not turned into a driver error."""
    with pytest.raises(DatabaseURLError, match="folder of the SQLite database does not exist"):
        Database(f"sqlite:///{tmp_path}/no/such/folder/waypost.db")


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgres_urls_use_psycopg3(url: str) -> None:
    """Every spelling of a PostgreSQL URL is served by psycopg 3 (nothing connects yet)."""
    db = Database(url)
    assert db.is_postgres
    assert not db.is_sqlite
    assert db.engine.url.drivername == "postgresql+psycopg"
    assert db.url == url
    db.dispose()


def test_repr_hides_the_password() -> None:
    """repr() never shows the database password (it ends up in logs)."""
    db = Database("postgresql://waypost:s3cret@db.internal/waypost")
    assert "s3cret" not in repr(db)
    assert "db.internal" in repr(db)


def test_in_memory_sqlite_is_one_private_database_removed_on_dispose() -> None:
    """sqlite:// is one database shared by all connections (a temporary file), deleted by dispose()."""
    db = Database("sqlite://")
    db.upgrade()
    with db.session() as session:
        session.add(Department(id="ppu", title="Public Protection"))
    with db.engine.connect() as one, db.engine.connect() as two:  # two pooled connections, one database
        assert one.scalar(text("SELECT count(*) FROM departments")) == 1
        assert two.scalar(text("SELECT title FROM departments")) == "Public Protection"
    path = Path(db.engine.url.database or "")
    assert path.exists()
    db.dispose()
    assert not path.exists()


# SQLite tuning -------------------------------------------------------------------------------


def test_sqlite_pragmas_are_set_on_every_connection(sqlite_db: Database) -> None:
    """WAL, foreign keys, a busy timeout and synchronous=NORMAL hold on a live pooled connection."""
    with sqlite_db.engine.connect() as a, sqlite_db.engine.connect() as b:
        for connection in (a, b):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def _write_lock_error(path: str) -> str:
    """Why another connection cannot take SQLite's write lock right now ("" if it can), without waiting."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()
    return ""


def test_sqlite_write_sessions_take_the_write_lock_up_front(sqlite_db: Database) -> None:
    """A write session begins with BEGIN IMMEDIATE: even before it writes, other writers wait.

    So a transaction that reads, then writes, can never fail half-way because another writer
    committed in between.
    """
    path = sqlite_db.engine.url.database or ""
    with sqlite_db.session() as session:
        session.execute(select(Department)).all()  # only a read so far
        assert _write_lock_error(path) == "database is locked"
    assert _write_lock_error(path) == ""


def test_sqlite_core_write_transactions_take_the_write_lock_up_front(sqlite_db: Database) -> None:
    """Database.begin() (the queue's claims) starts with BEGIN IMMEDIATE; engine.connect() reads do not."""
    path = sqlite_db.engine.url.database or ""
    with sqlite_db.begin() as connection:
        connection.exec_driver_sql("SELECT 1")
        assert _write_lock_error(path) == "database is locked"
    with sqlite_db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM jobs").scalar()
        assert _write_lock_error(path) == ""


def test_sqlite_read_sessions_do_not_block_writers(sqlite_db: Database) -> None:
    """session(write=False) starts a deferred transaction: a writer elsewhere is not held up."""
    path = sqlite_db.engine.url.database or ""
    with sqlite_db.session(write=False) as session:
        session.execute(select(Department)).all()
        assert _write_lock_error(path) == ""


def test_checkpoint_truncates_the_wal(sqlite_db: Database) -> None:
    """checkpoint() moves the write-ahead log into the database and empties the -wal file."""
    with sqlite_db.session() as session:
        session.add_all(Department(id=f"d{i}", title="x" * 500) for i in range(50))
    wal = Path(f"{sqlite_db.engine.url.database}-wal")
    assert wal.stat().st_size > 0
    sqlite_db.checkpoint()
    assert wal.stat().st_size == 0
    with sqlite_db.session(write=False) as session:
        assert len(session.scalars(select(Department)).all()) == 50


def test_checkpoint_is_a_no_op_on_postgres(pg_db: Database) -> None:
    """checkpoint() does nothing on PostgreSQL (and does not fail)."""
    pg_db.checkpoint()
    with pg_db.session() as session:
        session.add(Department(id="ppu", title="Public Protection"))
    assert pg_db.current_revision() == pg_db.head_revision()


# Transaction scopes (both databases) ---------------------------------------------------------


def test_session_commits_when_the_block_ends(db: Database) -> None:
    """Changes made in a session block are committed when it ends normally."""
    with db.session() as session:
        session.add(Department(id="ppu", title="Public Protection"))
    with db.session(write=False) as session:
        assert session.get(Department, "ppu") is not None


def test_session_rolls_back_when_the_block_raises(db: Database) -> None:
    """An exception in the block rolls every change back and propagates."""

    def add_then_fail() -> None:
        with db.session() as session:
            session.add(Department(id="ppu", title="Public Protection"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    with db.session(write=False) as session:
        assert session.get(Department, "ppu") is None


def test_objects_stay_loaded_after_commit(db: Database) -> None:
    """expire_on_commit=False: a row's attributes can be read after its session has closed."""
    with db.session() as session:
        department = Department(id="ppu", title="Public Protection")
        session.add(department)
    assert department.title == "Public Protection"


def test_foreign_keys_are_enforced(db: Database) -> None:
    """A row pointing at a missing parent is refused on both databases (SQLite needs the pragma)."""
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(User(id="u1", username="pc1", display_name="PC One", department_id="nowhere"))


def test_timestamps_come_back_aware_and_in_utc(db: Database) -> None:
    """A timestamp given in any zone is stored as UTC and read back aware, equal to the original."""
    bst = timezone(timedelta(hours=1))
    when = datetime(2025, 6, 2, 10, 30, 15, 123456, tzinfo=bst)
    with db.session() as session:
        session.add(Department(id="ppu", title="Public Protection", created_at=when))
    with db.session(write=False) as session:
        stored = session.get(Department, "ppu")
        assert stored is not None
        assert stored.created_at == when
        assert stored.created_at.tzinfo == UTC


# The `waypost db` commands ---------------------------------------------------------------------


def _run(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="waypost")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = args.run(args, out, err)
    return code, out.getvalue(), err.getvalue()


def test_db_upgrade_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    """`waypost db upgrade` migrates a new database, and a second run says there is nothing to do."""
    url = f"sqlite:///{tmp_path}/w.db"
    code, out, _ = _run(["db", "upgrade", "--database", url])
    assert code == 0
    assert "upgraded from an empty database to 0002" in out
    code, out, _ = _run(["db", "upgrade", "--database", url])
    assert code == 0
    assert "already at the newest migration (0002)" in out


def test_db_current_exit_status_says_whether_an_upgrade_is_needed(tmp_path: Path) -> None:
    """`waypost db current` exits 1 before the upgrade and 0 after it, printing both revisions."""
    url = f"sqlite:///{tmp_path}/w.db"
    Database(url).dispose()
    sqlite3.connect(tmp_path / "w.db").close()  # an empty database file
    code, out, err = _run(["db", "current", "--database", url])
    assert (code, "never migrated" in out, "needs `waypost db upgrade`" in err) == (1, True, True)
    _run(["db", "upgrade", "--database", url])
    code, out, _ = _run(["db", "current", "--database", url])
    assert code == 0
    assert "current:  0002" in out
    assert "newest:   0002" in out


def test_db_current_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    """`waypost db current` on a path with no database reports it instead of creating an empty file."""
    code, _, err = _run(["db", "current", "--database", f"sqlite:///{tmp_path}/typo.db"])
    assert code == 1
    assert "no database at" in err
    assert not (tmp_path / "typo.db").exists()


def test_db_upgrade_reports_a_bad_url_as_a_usage_error() -> None:
    """An unsupported URL is a usage error (exit 2) with the reason on stderr."""
    code, out, err = _run(["db", "upgrade", "--database", "mysql://root@localhost/w"])
    assert (code, out) == (2, "")
    assert "unsupported database 'mysql'" in err


def test_db_upgrade_reports_an_unreachable_server() -> None:
    """A server that refuses connections gives exit 1 and one line naming the database, no traceback."""
    code, _, err = _run(["db", "upgrade", "--database", "postgresql://nobody:pw@127.0.0.1:1/none"])
    assert code == 1
    assert "cannot use the database" in err
    assert "127.0.0.1:1" in err
    assert "pw@" not in err
    assert "Traceback" not in err


def test_db_upgrade_reports_a_database_from_a_newer_version(tmp_path: Path) -> None:
    """A database migrated past this version's newest migration is reported, not modified."""
    url = f"sqlite:///{tmp_path}/w.db"
    _run(["db", "upgrade", "--database", url])
    with sqlite3.connect(tmp_path / "w.db") as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0099'")
    code, _, err = _run(["db", "upgrade", "--database", url])
    assert code == 1
    assert "newer version of Waypost" in err


def test_database_url_comes_from_option_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--database wins over WAYPOST_DATABASE_URL, which wins over sqlite:///var/waypost.db
    (the file `waypost serve` uses; its folder is made when missing)."""
    monkeypatch.delenv("WAYPOST_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    url = database_url(argparse.Namespace(database=None))
    assert url == DEFAULT_DATABASE_URL == "sqlite:///var/waypost.db"
    assert (tmp_path / "var").is_dir()
    monkeypatch.setenv("WAYPOST_DATABASE_URL", "postgresql://env/db")
    assert database_url(argparse.Namespace(database=None)) == "postgresql://env/db"
    assert database_url(argparse.Namespace(database="sqlite:///x.db")) == "sqlite:///x.db"
