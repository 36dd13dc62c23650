"""The database commands of the CLI: ``waypost db upgrade`` and ``waypost db current``.

``upgrade`` migrates a database to the schema of this version of Waypost (creating it when new);
it is safe to run on every deployment and from several servers at once. ``current`` says where a
database is, and exits 1 when it needs an upgrade, so a deployment script can check first.

Every command that opens the database takes ``--database URL``; without it the URL comes from
the environment variable ``WAYPOST_DATABASE_URL``, else ``sqlite:///var/waypost.db``.
:func:`add_database_option` and :func:`database_url` are shared with the runtime commands.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# SQLAlchemy and Alembic are imported inside the commands: every `waypost` run builds this
# parser, and `waypost check` should not pay half a second to load a database stack it never uses.
if TYPE_CHECKING:
    from engine._database import Database

__all__ = ["DEFAULT_DATABASE_URL", "add_database_option", "database_url", "register"]

DEFAULT_DATABASE_URL = "sqlite:///var/waypost.db"  # the same file `waypost serve` uses
ENV_DATABASE_URL = "WAYPOST_DATABASE_URL"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_DB_DESCRIPTION = """\
Manage the database of a Waypost installation. Run `waypost db upgrade` on every deployment,
before starting the new version: migrations only add to the schema, so servers still running the
previous version keep working while it runs (docs/operations.md, "Database")."""

_UPGRADE_DESCRIPTION = """\
Migrate the database to the schema of this version of Waypost. A new database is created; a
database already up to date is left alone. Several servers may run it at once: on PostgreSQL the
first migrates and the others wait, then find nothing to do."""

_CURRENT_DESCRIPTION = """\
Print the migration the database is at and the newest this version ships. Exit status 0 when
they are the same, 1 when the database needs `waypost db upgrade`."""

_EPILOG = """\
examples:
  waypost db upgrade                                   (sqlite:///var/waypost.db or $WAYPOST_DATABASE_URL)
  waypost db upgrade --database sqlite:////var/lib/waypost/waypost.db
  waypost db current --database postgresql://waypost@db.internal:5432/waypost"""


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--database URL`` to ``parser`` (resolved later by :func:`database_url`)."""
    parser.add_argument(
        "--database",
        metavar="URL",
        help=f"database URL (default: ${ENV_DATABASE_URL}, else {DEFAULT_DATABASE_URL})",
    )


def database_url(args: argparse.Namespace) -> str:
    """The database URL for a command: ``--database``, else the environment, else the default."""
    given: str | None = getattr(args, "database", None)
    url = given or os.environ.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL
    if url == DEFAULT_DATABASE_URL:
        Path("var").mkdir(exist_ok=True)
    return url


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # a URL this malformed is reported by Database itself
        return url


def _missing_sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:  # reported by Database
        return None
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return None
    return None if os.path.exists(path) else path


def register(subparsers: Any) -> None:
    """Add the ``db`` command group to the ``waypost`` sub-command parsers."""
    formatter = argparse.RawDescriptionHelpFormatter
    db = subparsers.add_parser(
        "db",
        help="migrate the database (upgrade) or show its migration (current)",
        description=_DB_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    actions = db.add_subparsers(title="actions", dest="db_action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the database to this version's schema",
        description=_UPGRADE_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    add_database_option(upgrade)
    upgrade.set_defaults(run=run_upgrade)
    current = actions.add_parser(
        "current",
        help="show the database's migration and the newest one",
        description=_CURRENT_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    add_database_option(current)
    current.set_defaults(run=run_current)


def _open(args: argparse.Namespace, command: str, err: TextIO) -> Database | None:
    from engine._database import Database, DatabaseURLError

    url = database_url(args)
    try:
        return Database(url)
    except DatabaseURLError as exc:
        print(f"waypost db {command}: error: {exc}", file=err)
        return None


def _failure(command: str, url: str, exc: Exception, err: TextIO) -> int:
    from alembic.util import CommandError

    if isinstance(exc, CommandError):
        reason = (
            f"{exc}. The database was migrated by a newer version of Waypost than this one; "
            "run that version (or a newer one)"
        )
    else:
        first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1]
        reason = f"cannot use the database: {first_line[0] if first_line else type(exc).__name__}"
    print(f"waypost db {command}: error: {_shown(url)}: {reason}", file=err)
    return EXIT_FAILED


def run_upgrade(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost db upgrade [--database URL]``."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    db = _open(args, "upgrade", err)
    if db is None:
        return EXIT_USAGE
    try:
        before = db.current_revision()
        db.upgrade()
        after = db.current_revision()
    except (SQLAlchemyError, CommandError) as exc:
        return _failure("upgrade", db.url, exc, err)
    finally:
        db.dispose()
    if before == after:
        print(f"{_shown(db.url)}: already at the newest migration ({after})", file=out)
    else:
        print(f"{_shown(db.url)}: upgraded from {before or 'an empty database'} to {after}", file=out)
    return EXIT_OK


def run_current(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost db current [--database URL]``."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    missing = _missing_sqlite_file(database_url(args))
    if missing is not None:  # opening it would create an empty database file
        print(f"waypost db current: error: no database at {missing}", file=err)
        return EXIT_FAILED
    db = _open(args, "current", err)
    if db is None:
        return EXIT_USAGE
    try:
        current = db.current_revision()
        head = db.head_revision()
    except (SQLAlchemyError, CommandError) as exc:
        return _failure("current", db.url, exc, err)
    finally:
        db.dispose()
    print(
        f"database: {_shown(db.url)}\ncurrent:  {current or '(empty: never migrated)'}\nnewest:   {head}",
        file=out,
    )
    if current != head:
        print("the database needs `waypost db upgrade`", file=err)
        return EXIT_FAILED
    return EXIT_OK
