"""Alembic environment for Waypost: runs on the connection :meth:`Database.upgrade` hands it.

There is no alembic.ini: :class:`engine._database.Database` builds the configuration in code and
passes an open connection in ``config.attributes["connection"]``, so migrations run the same from
a checkout and from an installed wheel. Offline mode (``--sql``) reads ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from engine._tables import Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run() -> None:
    """Run the pending migrations online (on the given connection) or print them offline."""
    if context.is_offline_mode():
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through engine.Database.upgrade(), which passes a connection")
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


run()
