"""Demo users for trying Waypost out: one officer and one supervisor per department, and more.

``waypost serve --demo-users`` (what ``make run`` uses) creates them once the departments are
published, each with the password of ``$WAYPOST_DEMO_PASSWORD`` (default :data:`DEFAULT_PASSWORD`).
They exist for a demonstration on one computer; a real deployment creates its users with
``waypost user add``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from engine._database import Database
from engine._tables import Department, User
from engine._users import create_user

__all__ = ["DEFAULT_PASSWORD", "DEMO_USERS", "DemoUser", "demo_password", "ensure_demo_users"]

DEFAULT_PASSWORD = "waypost-demo"  # noqa: S105 - the documented password of local demo users


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo user: ``roles`` are held in ``department``."""

    username: str
    name: str
    department: str
    roles: tuple[str, ...]


#: Who `make run` signs in as. Departments missing from the served folder are passed over.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("pc.smith", "PC Sam Smith", "response", ("officer",)),
    DemoUser("sgt.jones", "Sergeant Alex Jones", "response", ("officer", "supervisor")),
    DemoUser("insp.ward", "Inspector Jo Ward", "response", ("officer", "supervisor", "duty_inspector")),
    DemoUser("pc.evans", "PC Rhys Evans", "public_protection", ("officer",)),
    DemoUser("ds.khan", "DS Amira Khan", "public_protection", ("officer", "supervisor")),
    DemoUser("dc.patel", "DC Priya Patel", "investigations", ("officer",)),
    DemoUser("ds.brown", "DS Lee Brown", "investigations", ("officer", "supervisor")),
)


def demo_password(environ: Mapping[str, str] = os.environ) -> str:
    """The demo users' password: ``$WAYPOST_DEMO_PASSWORD`` or :data:`DEFAULT_PASSWORD`."""
    return environ.get("WAYPOST_DEMO_PASSWORD") or DEFAULT_PASSWORD


def ensure_demo_users(db: Database, password: str) -> list[DemoUser]:
    """Create the demo users whose department exists and who are missing; return all present."""
    present: list[DemoUser] = []
    with db.session() as session:
        departments = set(session.scalars(select(Department.id)))
        taken = set(session.scalars(select(User.username)))
        for demo in DEMO_USERS:
            if demo.department not in departments:
                continue
            if demo.username not in taken:
                create_user(
                    session,
                    demo.username,
                    display_name=demo.name,
                    department=demo.department,
                    roles=demo.roles,
                    password=password,
                )
            present.append(demo)
    return present
