"""The supervisor inbox: listing, the case page, claim, release and complete, and who may do what.

The demo force's crime_report workflow runs for real on SQLite: a domestic abuse report goes to a
response sergeant's review (a task of the ``supervisor`` role); once the review is complete, the
workflow records the crime on a fake records system on loopback. Users change between requests
by swapping the session cookie (tests/web/support.py ``sign_in``).
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update
from starlette.exceptions import StarletteDeprecationWarning

from engine._tables import CaseValue, Instance, Task, utcnow
from engine._web import WebConfig, create_app
from tests.engine.fakes import FakeBackend
from tests.web.support import sign_in

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-force"
SCENARIO = DEMO / "response" / "tests" / "crime_domestic_abuse_review.yaml"

#: A complete, valid supervisor review (browser-shaped: every value a string).
REVIEW = {
    "reviewer_name": "Pat Okafor",
    "reviewer_collar": "2150",
    "recording_decision": "crime",
    "classification_correct": "yes",
    "safeguarding_actions": ["dash", "marac"],
    "victim_contact_safe": "no",
    "review_notes": "Give the reference in person.",
}


class RecordsSystem(FakeBackend):
    """The crime records system: every new crime gets a crime reference."""

    def handle(self, path: str, key: str, body: bytes) -> tuple[int, Any]:
        status, reply = super().handle(path, key, body)
        number = reply["reference"].split("-")[-1]
        return status, {"crime_reference": f"WV/{int(number):06d}/25", "offence_title": "ABH", **reply}


class Site:
    """The app with its client, and helpers to make tasks and act as a user."""

    def __init__(self, client: TestClient, backend: RecordsSystem) -> None:
        self.client = client
        self.backend = backend
        self.ctx = client.app.state.waypost  # type: ignore[attr-defined]
        self.db, self.runtime = self.ctx.require_storage()

    def run(self) -> int:
        """Run the workflow jobs that are due."""
        return int(asyncio.run(self.runtime.run_until_idle()))

    def report(self, **changes: Any) -> str:
        """Submit a domestic abuse crime report; returns the id of the review task it makes."""
        answers = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))["answers"]
        answers = json.loads(json.dumps({**answers, **changes}, default=str))
        with self.db.session() as session:
            result = self.runtime.submit(session, "response", "crime_report", answers, coerce=True)
        assert result.ok, result.validation.errors
        self.run()
        with self.db.session() as session:
            instance = result.instance_ids[0]
            return str(session.scalars(select(Task.id).where(Task.instance_id == instance)).one())

    def be(self, username: str, department: str = "response", roles: tuple[str, ...] = ("officer",)) -> str:
        """Sign the client in as ``username``; returns the CSRF token of the session."""
        return sign_in(self.client, self.db, username, department, roles).csrf_token

    def sergeant(self, name: str = "sgt.jones") -> str:
        return self.be(name, "response", ("officer", "supervisor"))

    def task(self, task_id: str) -> Task:
        with self.db.session() as session:
            found = session.get(Task, task_id)
            assert found is not None
            return found

    def post(self, url: str, data: Any) -> Any:
        return self.client.post(url, data=data, follow_redirects=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("inbox")
    config = WebConfig(
        DEMO, database_url=f"sqlite:///{folder}/t.db", worker=False, attachments=folder / "files"
    )
    app = create_app(config)
    with RecordsSystem() as backend, TestClient(app) as client:
        made = Site(client, backend)
        made.runtime.environ = {"CRIME_RECORDS_URL": backend.url, "CRIME_RECORDS_TOKEN": "test-token"}
        yield made


def error_links(html: str) -> list[tuple[str, str]]:
    """The (href, text) links of the page's error summary."""
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', found.group(0)) if found else []


def test_the_inbox_lists_open_tasks_with_title_form_and_due_time(site: Site) -> None:
    task_id = site.report()
    site.sergeant()
    page = site.client.get("/tasks")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    row = re.search(rf'<tr data-wp-task="{task_id}">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "Review crime report WP-" in row.group(0)
    assert "Supervisor review of a crime report" in row.group(0)  # the task form's title
    assert "Nobody yet" in row.group(0)
    assert "Overdue" not in row.group(0)
    assert 'id="tasks-open"' in page.text


def test_an_overdue_task_is_tagged(site: Site) -> None:
    task_id = site.report()
    with site.db.session() as session:
        session.execute(update(Task).where(Task.id == task_id).values(due_at=utcnow() - timedelta(hours=1)))
    site.sergeant()
    row = re.search(rf'<tr data-wp-task="{task_id}">.*?</tr>', site.client.get("/tasks").text, re.S)
    assert row is not None
    assert "Overdue" in row.group(0)


def test_the_case_page_shows_answers_history_and_a_claim_button(site: Site) -> None:
    task_id = site.report(circumstances="<script>alert('x')</script> pushed into a door frame")
    site.sergeant()
    page = site.client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    text = page.text
    assert "Dana" in text
    assert "Hughes" in text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert" in text
    assert "14 February 1988" in text  # a date, in words
    assert "Workflow started" in text
    assert "Task created for the supervisor role" in text
    assert f'action="/tasks/{task_id}/claim"' in text
    assert "Complete task" not in text  # the form comes with the claim
    assert 'name="reviewer_name"' not in text


def test_claim_complete_with_errors_then_complete_moves_the_workflow_on(site: Site) -> None:
    task_id = site.report()
    csrf = site.sergeant()
    assert site.post(f"/tasks/{task_id}/claim", {}).status_code == 403  # no CSRF token
    claimed = site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf})
    assert claimed.status_code == 303
    assert claimed.headers["location"].startswith(f"/tasks/{task_id}")
    assert site.task(task_id).state == "claimed"
    page = site.client.get(f"/tasks/{task_id}").text
    assert "Claimed by you" in page
    assert 'name="reviewer_name"' in page
    assert "Complete task" in page
    assert f'action="/tasks/{task_id}/release"' in page

    missing = {**REVIEW, "reviewer_name": "", "csrf_token": csrf}
    refused = site.post(f"/tasks/{task_id}/complete", missing)
    assert refused.status_code == 422
    assert ("#f-reviewer_name", "Enter your full name") in error_links(refused.text)
    assert 'id="f-reviewer_name-error"' in refused.text
    assert 'value="2150"' in refused.text  # what was typed is shown again
    assert site.task(task_id).state == "claimed"

    done = site.post(f"/tasks/{task_id}/complete", {**REVIEW, "csrf_token": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/tasks?done=completed"
    inbox = site.client.get(done.headers["location"]).text
    assert "Task completed" in inbox
    assert f'data-wp-task="{task_id}"' not in inbox
    task = site.task(task_id)
    assert task.state == "completed"
    assert task.result["reviewer_name"] == "Pat Okafor"
    assert task.result["safeguarding_actions"] == ["dash", "marac"]
    assert task.result["victim_contact_safe"] is False
    assert task.result["reviewed_at"].startswith(str(utcnow().year))  # read-only: set by the server

    site.run()  # the workflow records the crime with the sergeant's review
    with site.db.session() as session:
        instance = session.get(Instance, task.instance_id)
        assert instance is not None
        assert instance.state == "completed"
        reference = session.scalars(
            select(CaseValue.value).where(
                CaseValue.instance_id == instance.id, CaseValue.name == "crime_reference"
            )
        ).one()
    assert re.fullmatch(r"WV/\d{6}/25", reference)
    path, _, body = site.backend.requests[-1]
    assert path == "/crimes"
    assert body["supervisor_review"]["reviewer_collar"] == "2150"

    again = site.post(f"/tasks/{task_id}/complete", {**REVIEW, "csrf_token": csrf})
    assert again.status_code == 409
    assert "You have completed this task already" in again.text
    history = site.client.get(f"/tasks/{task_id}").text
    assert "Completed" in history
    assert "Supervisor review completed by Sgt Jones" in history
    assert "Crime reference" in history
    assert reference in history


def test_bad_answers_get_field_messages_not_a_crash(site: Site) -> None:
    task_id = site.report()
    csrf = site.sergeant()
    site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf})
    bad = {**REVIEW, "recording_decision": "maybe", "reviewer_collar": "12ab", "csrf_token": csrf}
    refused = site.post(f"/tasks/{task_id}/complete", bad)
    assert refused.status_code == 422
    hrefs = [href for href, _ in error_links(refused.text)]
    assert "#f-recording_decision" in hrefs
    assert "#f-reviewer_collar" in hrefs
    assert "Enter your collar or warrant number using numbers only" in refused.text
    garbage = site.client.post(
        f"/tasks/{task_id}/complete",
        content=b"--x\r\nnot a part",
        headers={"content-type": "multipart/form-data; boundary=x", "x-csrf-token": csrf},
    )
    assert garbage.status_code in (400, 403)
    assert site.task(task_id).state == "claimed"


def test_release_gives_the_task_back(site: Site) -> None:
    task_id = site.report()
    csrf = site.sergeant()
    site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf})
    released = site.post(f"/tasks/{task_id}/release", {"csrf_token": csrf})
    assert released.status_code == 303
    assert released.headers["location"] == "/tasks?done=released"
    assert "Task released" in site.client.get("/tasks?done=released").text
    assert site.task(task_id).state == "open"
    again = site.post(f"/tasks/{task_id}/release", {"csrf_token": csrf})
    assert again.status_code == 409
    assert "not claimed by you" in again.text


def test_a_task_claimed_by_a_colleague_cannot_be_completed_or_released(site: Site) -> None:
    task_id = site.report()
    site.post(f"/tasks/{task_id}/claim", {"csrf_token": site.sergeant("sgt.jones")})
    csrf = site.sergeant("sgt.bell")
    page = site.client.get(f"/tasks/{task_id}").text
    assert "Sgt Jones is working on this task" in page
    assert 'name="reviewer_name"' not in page
    row = re.search(rf'<tr data-wp-task="{task_id}">.*?</tr>', site.client.get("/tasks").text, re.S)
    assert row is not None
    assert "Sgt Jones" in row.group(0)
    for action in ("complete", "release", "claim"):
        answer = site.post(f"/tasks/{task_id}/{action}", {**REVIEW, "csrf_token": csrf})
        assert answer.status_code == 409, action
        assert "Sgt Jones has claimed this task" in answer.text
    task = site.task(task_id)
    assert task.state == "claimed"
    assert task.result is None


def test_an_officer_without_the_role_is_refused(site: Site) -> None:
    task_id = site.report()
    csrf = site.be("pc.smith", "response", ("officer",))
    assert site.client.get(f"/tasks/{task_id}").status_code == 403
    assert site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf}).status_code == 403
    assert site.post(f"/tasks/{task_id}/complete", {**REVIEW, "csrf_token": csrf}).status_code == 403
    assert site.task(task_id).state == "open"
    page = site.client.get("/tasks")
    assert page.status_code == 200
    assert "There are no tasks for you" in page.text


def test_another_departments_supervisor_cannot_see_the_task(site: Site) -> None:
    task_id = site.report()
    csrf = site.be("ds.khan", "public_protection", ("officer", "supervisor"))
    assert site.client.get(f"/tasks/{task_id}").status_code == 404
    assert site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf}).status_code == 404
    assert task_id not in site.client.get("/tasks").text
    assert site.task(task_id).state == "open"


def test_unknown_tasks_and_signed_out_visitors(site: Site) -> None:
    site.sergeant()
    assert site.client.get("/tasks/no-such-task").status_code == 404
    assert site.client.get("/tasks/" + "x" * 300).status_code == 404
    site.client.cookies.clear()
    away = site.client.get("/tasks", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=/tasks"
    assert site.client.post("/tasks/x/claim", data={}, follow_redirects=False).status_code == 303


def test_only_known_notices_are_shown(site: Site) -> None:
    site.sergeant()
    page = site.client.get("/tasks?done=<b>hacked</b>").text
    assert "hacked" not in page
    assert "Success" not in page


def test_the_task_form_posts_as_multipart_like_a_browser(site: Site) -> None:
    task_id = site.report()
    csrf = site.sergeant()
    site.post(f"/tasks/{task_id}/claim", {"csrf_token": csrf})
    empty_file = {"unused": ("", b"", "application/octet-stream")}  # a file input left empty
    done = site.client.post(
        f"/tasks/{task_id}/complete",
        data={**REVIEW, "csrf_token": csrf},
        files=empty_file,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert site.task(task_id).result["reviewer_collar"] == "2150"
