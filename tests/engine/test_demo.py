"""Demo users: created once per department that exists, with the configured password."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from engine._database import Database
from engine._demo import DEMO_USERS, demo_password, ensure_demo_users
from engine._tables import User, UserRole
from engine._users import check_password
from engine._web import WebConfig, create_app

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-force"


def test_password_comes_from_the_environment() -> None:
    assert demo_password({}) == "waypost-demo"
    assert demo_password({"WAYPOST_DEMO_PASSWORD": "s3cret-enough"}) == "s3cret-enough"
    assert demo_password({"WAYPOST_DEMO_PASSWORD": ""}) == "waypost-demo"


def test_serve_with_demo_users_creates_each_with_roles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    with TestClient(create_app(WebConfig(DEMO, database_url=url, worker=False, demo_users=True))):
        pass
    db = Database(url)
    try:
        with db.session() as session:
            names = set(session.scalars(select(User.username)))
            assert names == {u.username for u in DEMO_USERS}
            roles = {tuple(r) for r in session.execute(select(UserRole.department_id, UserRole.role))}
            assert ("response", "supervisor") in roles
            assert ("public_protection", "supervisor") in roles
            assert check_password(session, "pc.smith", "waypost-demo") is not None
            assert check_password(session, "pc.smith", "wrong-password") is None
        # A second start (and a direct call) creates nobody twice.
        assert len(ensure_demo_users(db, "other-password")) == len(DEMO_USERS)
        with db.session() as session:
            assert len(list(session.scalars(select(User.id)))) == len(DEMO_USERS)
            assert check_password(session, "pc.smith", "waypost-demo") is not None
    finally:
        db.dispose()


def test_departments_not_served_get_no_demo_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/one.db"
    config = WebConfig(DEMO / "response", database_url=url, worker=False, demo_users=True)
    with TestClient(create_app(config)):
        pass
    db = Database(url)
    try:
        with db.session() as session:
            departments = set(session.scalars(select(User.department_id)))
        assert departments == {"response"}
    finally:
        db.dispose()


def test_serve_names_only_demo_users_of_the_served_departments(tmp_path: Path) -> None:
    """The sign-in line lists the demo users of the departments served, and none for others."""
    from engine._cli_serve import _department_ids
    from engine._folder import find_departments

    assert _department_ids(find_departments(DEMO)) == {"response", "public_protection", "investigations"}
    assert _department_ids(find_departments(DEMO / "response")) == {"response"}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "department.yaml").write_text("department: [unclosed\n", encoding="utf-8")
    assert _department_ids([broken, tmp_path / "missing"]) == set()
