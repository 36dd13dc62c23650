"""What the web app and the API write to the audit log: sign-ins, records created, every view of a
case, task actions and every refused access to a record that exists (and nothing for one that does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine._audit_verify import verify
from engine._database import Database
from engine._tables import AuditEvent
from tests.engine.conftest import SchemaPool, schema_url
from tests.web.support import PASSWORD, ensure_user, sign_in
from tests.web.test_api import Api, api, concern, start_app
from tests.web.test_api_tasks import SUPERVISOR, make_task
from tests.web.test_attachments import JPEG, PHOTOS
from tests.web.test_auth import form_token, make_client, post_login
from tests.web.test_fill import Site
from tests.web.test_fill import site as site  # the app fixture, shared
from tests.web.test_fill_security import submitted

__all__ = ["api", "site"]  # the fixture, imported for this module's tests

Entry = tuple[str, str, str | None, str | None]


def entries(db: Database, after: int = 0) -> list[AuditEvent]:
    """The audit entries with an id above ``after``, oldest first."""
    with db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)))


def summary(db: Database, after: int = 0) -> list[Entry]:
    """(action, record_type, record_id, actor) of each entry after ``after``."""
    return [(e.action, e.record_type, e.record_id, e.actor_id) for e in entries(db, after)]


def head(db: Database) -> int:
    found = entries(db)
    return found[-1].id if found else 0


def intact(db: Database) -> bool:
    with db.engine.connect() as connection:
        return verify(connection).ok


def test_sign_in_failures_sign_in_and_sign_out_are_logged_with_where_from(tmp_path: Path) -> None:
    for client in make_client(f"sqlite:///{tmp_path}/t.db"):
        db: Database = client.app.state.waypost.db  # type: ignore[attr-defined]
        user_id = ensure_user(db, "pc.smith", "response")
        token = form_token(client)
        assert post_login(client, "pc.smith", "wrong password!", token=token).status_code == 400
        assert post_login(client, "nobody.here", PASSWORD, token=token).status_code == 400
        assert post_login(client, "pc.smith", PASSWORD, token=token).status_code == 303
        page = client.get("/")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        found = entries(db)
        assert [(e.action, e.actor_id) for e in found] == [
            ("login_failed", None),
            ("login_failed", None),
            ("login", user_id),
            ("logout", user_id),
        ]
        assert [e.detail["username"] for e in found[:2]] == ["pc.smith", "nobody.here"]
        assert all(e.detail["ip"] == "testclient" and e.detail["path"] for e in found)
        assert "password" not in str([e.detail for e in found]).lower().replace("/login", "")
        assert found[2].record_id == user_id
        assert intact(db)


def test_api_submission_views_and_cross_access_are_logged(api: Api) -> None:
    owner = api.headers("pc.one")
    owner_id = ensure_user(api.db, "pc.one", "ppu")
    created = api.client.post("/api/v1/submissions", json=concern(), headers=owner)
    assert created.status_code == 201
    ident = created.json()["id"]
    assert summary(api.db) == [("create", "submission", ident, owner_id)]  # same transaction
    assert entries(api.db)[0].detail["form"] == "ppu/concern"
    # A replay of the same Idempotency-Key creates nothing, and logs no second creation.
    keyed = {**owner, "Idempotency-Key": "k-1"}
    assert api.client.post("/api/v1/submissions", json=concern(), headers=keyed).status_code == 201
    assert api.client.post("/api/v1/submissions", json=concern(), headers=keyed).status_code == 200
    assert [e.action for e in entries(api.db)] == ["create", "create"]
    mark = head(api.db)
    url = f"/api/v1/submissions/{ident}"
    assert api.client.get(url, headers=owner).status_code == 200
    other_id = ensure_user(api.db, "pc.two", "ppu")
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    far_id = ensure_user(api.db, "sgt.far", "other", SUPERVISOR)
    assert api.client.get(url, headers=api.headers("sgt.far", "other", SUPERVISOR)).status_code == 404
    assert api.client.get("/api/v1/submissions/no-such-id", headers=owner).status_code == 404
    assert summary(api.db, mark) == [
        ("view", "submission", ident, owner_id),
        ("denied", "submission", ident, other_id),
        ("denied", "submission", ident, far_id),
    ]
    refused = entries(api.db, mark)[2].detail
    assert (refused["reason"], refused["department"], refused["via"]) == ("not_permitted", "other", "token")
    # Submitting another department's form is refused and logged against that department.
    mark = head(api.db)
    body = {"department": "other", "form": "note", "answers": {"text": "x"}}
    assert api.client.post("/api/v1/submissions", json=body, headers=owner).status_code == 403
    assert summary(api.db, mark) == [("denied", "department", "other", owner_id)]
    assert intact(api.db)


def test_api_task_reads_and_actions_are_logged(api: Api) -> None:
    submission_id, task_id = make_task(api)
    first = api.headers("sgt.a", "ppu", SUPERVISOR)
    sergeant = ensure_user(api.db, "sgt.a", "ppu", SUPERVISOR)
    mark = head(api.db)
    url = f"/api/v1/tasks/{task_id}"
    assert api.client.get(url, headers=first).status_code == 200
    assert api.client.post(f"{url}/claim", headers=first).status_code == 200
    assert api.client.post(f"{url}/release", headers=first).status_code == 200
    assert api.client.post(f"{url}/claim", headers=first).status_code == 200
    done = api.client.post(f"{url}/complete", json={"answers": {"outcome": "accept"}}, headers=first)
    assert done.status_code == 200, done.text
    officer = ensure_user(api.db, "pc.one", "ppu")
    assert api.client.get(url, headers=api.headers("pc.one")).status_code == 404
    assert summary(api.db, mark) == [
        ("view", "submission", submission_id, sergeant),
        ("claim", "task", task_id, sergeant),
        ("release", "task", task_id, sergeant),
        ("claim", "task", task_id, sergeant),
        ("complete", "task", task_id, sergeant),
        ("denied", "task", task_id, officer),
    ]
    assert entries(api.db, mark)[0].detail["task"] == task_id
    assert intact(api.db)


def test_a_refused_task_action_logs_no_action(api: Api) -> None:
    _, task_id = make_task(api)
    mark = head(api.db)
    claim = api.client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"answers": {}},
        headers=api.headers("sgt.a", "ppu", SUPERVISOR),
    )
    assert claim.status_code == 409  # not claimed: nothing happened, so nothing is logged as done
    assert [e.action for e in entries(api.db, mark)] == []


def test_task_pages_log_views_claims_and_refusals(api: Api) -> None:
    submission_id, task_id = make_task(api)
    sergeant = ensure_user(api.db, "sgt.a", "ppu", SUPERVISOR)
    mark = head(api.db)
    csrf = sign_in(api.client, api.db, "sgt.a", "ppu", SUPERVISOR).csrf_token
    assert api.client.get(f"/tasks/{task_id}").status_code == 200
    claimed = api.client.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf}, follow_redirects=False)
    assert claimed.status_code == 303
    released = api.client.post(f"/tasks/{task_id}/release", data={"csrf_token": csrf}, follow_redirects=False)
    assert released.status_code == 303
    officer = ensure_user(api.db, "pc.one", "ppu")
    sign_in(api.client, api.db, "pc.one", "ppu")
    assert api.client.get(f"/tasks/{task_id}").status_code == 403  # no supervisor role
    far = ensure_user(api.db, "sgt.far", "other", SUPERVISOR)
    sign_in(api.client, api.db, "sgt.far", "other", SUPERVISOR)
    assert api.client.get(f"/tasks/{task_id}").status_code == 404  # another department
    assert api.client.get("/tasks/no-such-task").status_code == 404
    assert summary(api.db, mark) == [
        ("view", "submission", submission_id, sergeant),
        ("claim", "task", task_id, sergeant),
        ("release", "task", task_id, sergeant),
        ("denied", "task", task_id, officer),
        ("denied", "task", task_id, far),
    ]
    reasons = [e.detail["reason"] for e in entries(api.db, mark)[3:]]
    assert reasons == ["role_not_held", "other_department"]
    assert entries(api.db, mark)[4].detail["via"] == "session"


def test_attachment_downloads_and_refusals_are_logged(api: Api) -> None:
    officer = api.headers("pc.one")
    owner = ensure_user(api.db, "pc.one", "ppu")
    stored = api.client.post(
        "/api/v1/attachments", content=JPEG, params=PHOTOS, headers={**officer, "Content-Type": "image/jpeg"}
    ).json()
    mark = head(api.db)
    url = f"/api/v1/attachments/{stored['sha256']}"
    assert api.client.get(url, headers=officer).content == JPEG
    other = ensure_user(api.db, "pc.two", "ppu")
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    assert api.client.get(f"/api/v1/attachments/{'0' * 64}", headers=officer).status_code == 404
    assert summary(api.db, mark) == [
        ("view", "attachment", stored["sha256"], owner),
        ("denied", "attachment", stored["sha256"], other),
    ]


@pytest.fixture
def pg_api(tmp_path: Path) -> Iterator[Api]:
    """The app over a fresh PostgreSQL schema of its own."""
    pool = SchemaPool()
    try:
        yield from start_app(tmp_path, schema_url(pool.acquire()))
    finally:
        pool.close()


def test_refusals_and_views_are_logged_on_postgresql_too(pg_api: Api) -> None:
    """A refusal raised inside a transaction is still logged once that transaction has rolled back."""
    created = pg_api.client.post("/api/v1/submissions", json=concern(), headers=pg_api.headers("pc.one"))
    ident = created.json()["id"]
    url = f"/api/v1/submissions/{ident}"
    assert pg_api.client.get(url, headers=pg_api.headers("pc.two")).status_code == 404
    assert pg_api.client.get(url, headers=pg_api.headers("pc.one")).status_code == 200
    actions: list[Any] = [(e.action, e.record_id) for e in entries(pg_api.db)]
    assert actions == [("create", ident), ("denied", ident), ("view", ident)]
    assert intact(pg_api.db)


def test_officer_pages_log_submission_views_and_cross_access(site: Site) -> None:
    mark = head(site.db)
    page = submitted(site)  # as pc.smith
    ident = page.rsplit("/", 1)[1]
    smith = ensure_user(site.db, "pc.smith", "response")
    assert summary(site.db, mark) == [("create", "submission", ident, smith)]
    assert site.client.get(page).status_code == 200
    draft = site.start("response", "witness_statement").split("/")[2]
    jones = ensure_user(site.db, "pc.jones", "response")
    site.be("pc.jones")
    assert site.client.get(page).status_code == 404
    assert site.client.get(f"/drafts/{draft}/check").status_code == 404
    evans = ensure_user(site.db, "pc.evans", "public_protection")
    site.be("pc.evans", "public_protection")
    assert site.client.get(page).status_code == 404
    assert site.post("/forms/response/witness_statement/start", {}).status_code == 403
    assert site.client.get("/submissions/not-a-submission").status_code == 404
    assert summary(site.db, mark)[1:] == [
        ("view", "submission", ident, smith),
        ("denied", "submission", ident, jones),
        ("denied", "draft", draft, jones),
        ("denied", "submission", ident, evans),
        ("denied", "form", "response/witness_statement", evans),
    ]
    cross = entries(site.db, mark)[4].detail
    assert (cross["department"], cross["path"], cross["method"]) == ("public_protection", page, "GET")
    assert intact(site.db)
