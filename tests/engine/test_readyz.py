"""/readyz: ready only when the database answers at the newest migration and definitions load."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from starlette.testclient import TestClient

from engine._web import WebConfig, create_app
from tests.engine.fakes import department
from tests.engine.helpers import write

FLOW = """\
workflow: follow_up
title: Follow up
on: {submitted: concern}
steps:
  done: {end: true}
"""


def _ready(client: TestClient) -> tuple[int, dict[str, object]]:
    reply = client.get("/readyz")
    assert reply.headers["cache-control"] == "no-store"
    return reply.status_code, reply.json()


def test_ready_with_a_migrated_database_and_loading_definitions(tmp_path: Path) -> None:
    folder = department(tmp_path / "force" / "ppu", {"follow_up": FLOW})
    app = create_app(WebConfig(folder, database_url=f"sqlite:///{tmp_path}/r.db", worker=False))
    with TestClient(app) as client:
        status, body = _ready(client)
        assert status == 200
        assert body == {
            "status": "ready",
            "checks": {"database": "ok", "migrations": "ok", "definitions": "ok"},
        }
        assert client.get("/healthz").json() == {"status": "ok"}


def test_a_schema_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    """An older schema (a migration not yet run) sends traffic elsewhere until it is upgraded."""
    folder = department(tmp_path / "force" / "ppu", {"follow_up": FLOW})
    app = create_app(WebConfig(folder, database_url=f"sqlite:///{tmp_path}/r.db", worker=False))
    with TestClient(app) as client:
        db = app.state.waypost.db
        with db.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        status, body = _ready(client)
        assert status == 503
        assert body["status"] == "not ready"
        assert body["checks"]["migrations"] == f"at 0001, newest is {db.head_revision()}"  # type: ignore[index]
        with db.begin() as connection:  # (the tables are there: put the stamp back)
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": db.head_revision()})
        assert _ready(client)[0] == 200


def test_definitions_that_do_not_load_are_not_ready_but_one_broken_of_two_is(tmp_path: Path) -> None:
    force = tmp_path / "force"
    good = department(force / "ppu", {"follow_up": FLOW})
    bad = department(force / "cid", {"follow_up": FLOW}, department_yaml="department: cid\ntitle: CID\n")
    write(bad / "forms" / "concern.yaml", "form: concern\ntitle: Broken\npages: [oops\n")
    app = create_app(WebConfig(force, database_url=f"sqlite:///{tmp_path}/r.db", worker=False))
    with TestClient(app) as client:
        status, body = _ready(client)
        assert status == 200, body
        assert body["checks"]["definitions"] == "1 department(s) have problems"  # type: ignore[index]
    app = create_app(WebConfig(bad, database_url=f"sqlite:///{tmp_path}/only-bad.db", worker=False))
    with TestClient(app) as client:
        status, body = _ready(client)
        assert status == 503
        assert body["checks"]["definitions"] == "no department loads"  # type: ignore[index]
    assert good.is_dir()


def test_the_preview_without_a_database_is_ready(tmp_path: Path) -> None:
    folder = department(tmp_path / "force" / "ppu", {"follow_up": FLOW})
    with TestClient(create_app(WebConfig(folder))) as client:
        status, body = _ready(client)
        assert status == 200
        assert body["checks"]["definitions"] == "ok"  # type: ignore[index]
        assert "preview only" in str(body["checks"]["database"])  # type: ignore[index]
