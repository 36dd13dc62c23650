"""Helpers for web tests: demo users, signing a test client in without the sign-in page.

``sign_in`` creates (or reuses) a user and opens a session directly in the database, then sets
the session cookie on the client: tests of other pages do not depend on the sign-in form, which
has tests of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from starlette.testclient import TestClient

from engine._database import Database
from engine._principal import COOKIE
from engine._tables import User
from engine._users import NewSession, create_user, open_session

PASSWORD = "correct horse battery"  # noqa: S105 - the demo users' test password

#: Demo users of the demo force: (user name, department, roles).
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pc.smith", "response", ("officer",)),
    ("sgt.jones", "response", ("officer", "supervisor")),
    ("pc.evans", "public_protection", ("officer",)),
    ("ds.khan", "public_protection", ("officer", "supervisor")),
    ("dc.patel", "investigations", ("officer",)),
)


def ensure_user(db: Database, username: str, department: str, roles: Iterable[str] = ("officer",)) -> str:
    """The id of user ``username``, created with ``PASSWORD`` when missing."""
    with db.session() as session:
        found = session.scalars(select(User).where(User.username == username)).first()
        if found is not None:
            return found.id
        user = create_user(
            session,
            username,
            display_name=username.replace(".", " ").title(),
            department=department,
            roles=roles,
            password=PASSWORD,
        )
        return user.id


def sign_in(
    client: TestClient,
    db: Database,
    username: str,
    department: str = "response",
    roles: Iterable[str] = ("officer",),
) -> NewSession:
    """Sign ``client`` in as ``username`` (created when missing); returns the new session."""
    ensure_user(db, username, department, roles)
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        opened = open_session(session, user)
    client.cookies.set(COOKIE, opened.token)
    return opened
