"""The JSON API (/api/v1): forms, submissions with idempotency, and its error shape.

Tests run the real app (lifespan, migrations, publishing) over SQLite with a small force written
to a temporary folder: department ``ppu`` with a ``concern`` form (with photo, file and signature
fields) whose workflow asks a supervisor to review assaults, and department ``other``. The
fixtures here are shared by the other API test modules.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning

from engine._database import Database
from engine._tables import Submission, User
from engine._users import create_api_token
from engine._web import WebConfig, create_app
from tests.engine.helpers import write
from tests.web.support import ensure_user, sign_in

with warnings.catch_warnings():
    # Starlette asks for httpx2 in its TestClient and warns about httpx; not about our code.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

DEPARTMENT = """\
department: {id}
title: {title}
roles:
  officer: {{title: Police officer}}
  supervisor: {{title: Sergeant}}
"""
CONCERN = """\
form: concern
version: "1"
title: {en: Concern for a person, cy: Pryder am berson}
pages:
  - id: person
    title: The person
    fields:
      - {id: full_name, type: text, label: Full name, required: true, max_length: 80}
      - id: offence
        type: select_one
        label: Offence
        choices: [{value: theft, label: Theft}, {value: assault, label: Assault}]
      - {id: seen_on, type: date, label: Date seen}
      - {id: age, type: integer, label: Age, min: 0, max: 120}
  - id: evidence
    title: Evidence
    fields:
      - {id: photos, type: photo, label: Photos, max: 3, max_size: 2KB}
      - {id: documents, type: file, label: Documents, max: 2, max_size: 4KB, accept: [application/pdf]}
      - {id: signature, type: signature, label: Signature}
"""
REVIEW = """\
form: review
version: "1"
title: Review the concern
pages:
  - id: decision
    title: Decision
    fields:
      - id: outcome
        type: select_one
        label: Outcome
        required: true
        choices: [{value: accept, label: Accept}, {value: refer, label: Refer}]
"""
FLOW = """\
workflow: follow_up
title: Follow up a concern
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "offence == 'assault'", goto: review}
      - {goto: done}
  review:
    task: {role: supervisor, form: review}
    next: done
  done: {end: true}
"""
OTHER_FORM = """\
form: note
version: "1"
title: A note
pages:
  - id: one
    title: Note
    fields:
      - {id: text, type: text, label: Text, required: true}
"""


def write_force(root: Path) -> Path:
    """The test force: departments ``ppu`` (concern, review, follow_up) and ``other`` (note)."""
    force = root / "force"
    write(force / "ppu" / "department.yaml", DEPARTMENT.format(id="ppu", title="Public Protection"))
    write(force / "ppu" / "forms" / "concern.yaml", CONCERN)
    write(force / "ppu" / "forms" / "review.yaml", REVIEW)
    write(force / "ppu" / "workflows" / "follow_up.yaml", FLOW)
    write(force / "other" / "department.yaml", DEPARTMENT.format(id="other", title="Other"))
    write(force / "other" / "forms" / "note.yaml", OTHER_FORM)
    return force


@dataclass
class Api:
    """A running app with its client, database and helpers to act as a user."""

    client: TestClient
    db: Database
    root: Path

    def token(self, username: str, department: str = "ppu", roles: tuple[str, ...] = ("officer",)) -> str:
        """A new API token for ``username`` (created when missing)."""
        ensure_user(self.db, username, department, roles)
        with self.db.session() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            return create_api_token(session, user, "test")

    def headers(
        self, username: str, department: str = "ppu", roles: tuple[str, ...] = ("officer",)
    ) -> dict[str, str]:
        """Authorization headers for ``username``."""
        return {"Authorization": f"Bearer {self.token(username, department, roles)}"}

    def submissions(self) -> int:
        """How many submissions are stored."""
        with self.db.session(write=False) as session:
            return int(session.scalar(select(func.count()).select_from(Submission)) or 0)


def start_app(root: Path, database_url: str) -> Iterator[Api]:
    """Run the app over ``database_url`` with the test force; yields an :class:`Api`."""
    force = write_force(root)
    config = WebConfig(force, database_url=database_url, worker=False, attachments=root / "attachments")
    app = create_app(config)
    with TestClient(app) as client:
        db = app.state.waypost.db
        yield Api(client, db, root)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app over a fresh SQLite database."""
    yield from start_app(tmp_path, f"sqlite:///{tmp_path}/t.db")


def concern(**answers: Any) -> dict[str, Any]:
    """A valid submission body for the concern form."""
    return {"department": "ppu", "form": "concern", "answers": {"full_name": "Sam Lee", **answers}}


# Forms -----------------------------------------------------------------------------------------


def test_forms_lists_the_users_department_only(api: Api) -> None:
    reply = api.client.get("/api/v1/forms", headers=api.headers("pc.one"))
    assert reply.status_code == 200
    names = [(f["department"], f["name"]) for f in reply.json()["items"]]
    assert names == [("ppu", "concern"), ("ppu", "review")]
    first = reply.json()["items"][0]
    assert first["title"] == {"en": "Concern for a person", "cy": "Pryder am berson"}
    assert isinstance(first["definition_id"], int)


def test_form_definition_and_schema(api: Api) -> None:
    headers = api.headers("pc.one")
    reply = api.client.get("/api/v1/forms/ppu/concern", headers=headers)
    assert reply.status_code == 200
    pages = reply.json()["definition"]["pages"]
    assert [p["id"] for p in pages] == ["person", "evidence"]
    items = {i["id"]: i for p in pages for i in p["items"]}
    assert items["full_name"]["required"] is True
    assert items["documents"]["accept"] == ["application/pdf"]
    assert [c["value"] for c in items["offence"]["choices"]] == ["theft", "assault"]
    schema = api.client.get("/api/v1/forms/ppu/concern/schema", headers=headers)
    assert schema.status_code == 200
    assert schema.headers["content-type"].startswith("application/schema+json")
    assert "full_name" in schema.json()["properties"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/forms/other/note", 403, "forbidden"),
        ("/api/v1/forms/nowhere/note", 404, "not_found"),
        ("/api/v1/forms/ppu/nothing", 404, "not_found"),
        ("/api/v1/forms/other/note/schema", 403, "forbidden"),
        ("/api/v1/no/such/thing", 404, "not_found"),
    ],
)
def test_form_errors_are_json(api: Api, path: str, status: int, code: str) -> None:
    reply = api.client.get(path, headers=api.headers("pc.one"))
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    assert reply.json()["error"]["message"]


def test_no_token_is_401_json_and_a_bad_token_too(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wpt_not-a-real-token"}, {"Authorization": "Basic eDp5"}):
        reply = api.client.get("/api/v1/forms", headers=headers)
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "unauthorized"
        assert reply.headers["www-authenticate"].startswith("Bearer")


def test_wrong_method_is_405_json_with_allow(api: Api) -> None:
    reply = api.client.delete("/api/v1/submissions", headers=api.headers("pc.one"))
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "method_not_allowed"
    assert set(reply.headers["allow"].split(", ")) >= {"GET", "POST"}


# Submissions ---------------------------------------------------------------------------------------


def test_submit_stores_and_starts_the_workflow(api: Api) -> None:
    headers = api.headers("pc.one")
    reply = api.client.post("/api/v1/submissions", json=concern(offence="assault", age=30), headers=headers)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["reference"].startswith("WP-")
    assert body["status"] == "in_progress"
    assert len(body["instances"]) == 1
    assert reply.headers["location"] == f"/api/v1/submissions/{body['id']}"
    got = api.client.get(f"/api/v1/submissions/{body['id']}", headers=headers)
    assert got.status_code == 200
    detail = got.json()
    assert detail["answers"]["full_name"] == "Sam Lee"
    assert detail["instances"][0]["workflow"] == "follow_up"
    assert [e["kind"] for e in detail["timeline"]] == ["started"]


def test_invalid_answers_are_422_with_field_paths(api: Api) -> None:
    body = {"department": "ppu", "form": "concern", "answers": {"age": "30", "offence": "arson"}}
    reply = api.client.post("/api/v1/submissions", json=body, headers=api.headers("pc.one"))
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "invalid_answers"
    found = {(tuple(f["path"]), f["code"]) for f in error["fields"]}
    assert (("full_name",), "required") in found
    assert any(path == ("age",) for path, _ in found)  # strict JSON: "30" is not a number
    assert any(path == ("offence",) for path, _ in found)
    assert api.submissions() == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "malformed_json"),
        (b"[1, 2]", "application/json", 422, "invalid_body"),
        (
            b'{"department": "ppu", "form": "concern", "answers": NaN}',
            "application/json",
            400,
            "malformed_json",
        ),
        (b'{"department": "ppu", "form": "concern"}', "application/json", 422, "invalid_body"),
        (b'{"department": 1, "form": "concern", "answers": {}}', "application/json", 422, "invalid_body"),
        (b'{"department": "ppu", "form": "concern", "answers": []}', "application/json", 422, "invalid_body"),
        (
            b'{"department": "ppu", "form": "concern", "answers": {}, "x": 1}',
            "application/json",
            422,
            "invalid_body",
        ),
        (b"full_name=Sam", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"department": "other", "form": "note", "answers": {}}', "application/json", 403, "forbidden"),
        (b'{"department": "nowhere", "form": "note", "answers": {}}', "application/json", 404, "not_found"),
        (b'{"department": "ppu", "form": "nothing", "answers": {}}', "application/json", 404, "not_found"),
    ],
)
def test_bad_submission_bodies_never_crash(
    api: Api, content: bytes, content_type: str, status: int, code: str
) -> None:
    headers = {**api.headers("pc.one"), "Content-Type": content_type}
    reply = api.client.post("/api/v1/submissions", content=content, headers=headers)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code
    assert api.submissions() == 0


def test_idempotency_key_replays_the_first_result(api: Api) -> None:
    headers = {**api.headers("pc.one"), "Idempotency-Key": "tablet-42-0001"}
    first = api.client.post("/api/v1/submissions", json=concern(), headers=headers)
    again = api.client.post("/api/v1/submissions", json=concern(), headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reference"] == first.json()["reference"]
    assert api.submissions() == 1
    conflict = api.client.post("/api/v1/submissions", json=concern(age=5), headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert api.submissions() == 1


def test_idempotency_keys_belong_to_one_user(api: Api) -> None:
    key = {"Idempotency-Key": "same-key"}
    one = api.client.post("/api/v1/submissions", json=concern(), headers={**api.headers("pc.one"), **key})
    two = api.client.post("/api/v1/submissions", json=concern(), headers={**api.headers("pc.two"), **key})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]


@pytest.mark.parametrize("key", [b"", b"has space", b"x" * 81, "naïve".encode("latin-1")])
def test_bad_idempotency_keys_are_400(api: Api, key: bytes) -> None:
    headers: dict[str, Any] = {**api.headers("pc.one"), "Idempotency-Key": key}
    reply = api.client.post("/api/v1/submissions", json=concern(), headers=headers)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "bad_idempotency_key"


def test_session_posts_need_the_csrf_header(api: Api) -> None:
    opened = sign_in(api.client, api.db, "pc.web", "ppu")
    refused = api.client.post("/api/v1/submissions", json=concern())
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    accepted = api.client.post(
        "/api/v1/submissions", json=concern(), headers={"X-CSRF-Token": opened.csrf_token}
    )
    assert accepted.status_code == 201
    assert api.client.get("/api/v1/submissions").json()["items"][0]["id"] == accepted.json()["id"]


def test_list_is_own_newest_first_and_paginated(api: Api) -> None:
    mine, theirs = api.headers("pc.one"), api.headers("pc.two")
    ids = [
        api.client.post("/api/v1/submissions", json=concern(age=n), headers=mine).json()["id"]
        for n in range(5)
    ]
    api.client.post("/api/v1/submissions", json=concern(), headers=theirs)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/submissions", params=params, headers=mine).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    for params in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"cursor": "!!"}, {"cursor": "bm9wZQ"}):
        bad = api.client.get("/api/v1/submissions", params=params, headers=mine)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["code"] in {"bad_limit", "bad_cursor"}


def test_others_cannot_read_a_submission_but_a_supervisor_can(api: Api) -> None:
    created = api.client.post("/api/v1/submissions", json=concern(), headers=api.headers("pc.one")).json()
    url = f"/api/v1/submissions/{created['id']}"
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    assert (
        api.client.get(url, headers=api.headers("pc.far", "other", ("officer", "supervisor"))).status_code
        == 404
    )
    supervisor = api.headers("sgt.ppu", "ppu", ("officer", "supervisor"))
    assert api.client.get(url, headers=supervisor).json()["reference"] == created["reference"]
    assert api.client.get("/api/v1/submissions/nope", headers=supervisor).status_code == 404


def test_form_definition_in_one_language(api: Api) -> None:
    headers = api.headers("pc.one")
    welsh = api.client.get("/api/v1/forms/ppu/concern", params={"lang": "cy"}, headers=headers)
    assert welsh.status_code == 200
    assert welsh.json()["definition"]["title"] == "Pryder am berson"
    bad = api.client.get("/api/v1/forms/ppu/concern", params={"lang": "fr"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_lang")


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [
        ("/api/v1/forms", "limit=5", "unknown_parameter"),
        ("/api/v1/submissions", "limt=5", "unknown_parameter"),
        ("/api/v1/submissions", "limit=5&limit=6", "repeated_parameter"),
        ("/api/v1/tasks", "state=open", "unknown_parameter"),
    ],
)
def test_unknown_query_parameters_are_reported(api: Api, path: str, query: str, code: str) -> None:
    reply = api.client.get(f"{path}?{query}", headers=api.headers("pc.one"))
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == code
