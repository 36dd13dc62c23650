"""Who may do what on the officer's pages, CSRF, escaping and bad input (never a server error)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from engine._definitions import DefinitionNotFound
from engine._tables import CaseValue, Draft, Instance
from engine._web import WebConfig, create_app
from tests.web.test_fill import DEMO, Site, TestClient, error_messages, fill, scenario
from tests.web.test_fill import site as site  # the app fixture, shared

WITNESS = "response/tests/witness_statement_to_officer_in_case.yaml"


def submitted(site: Site) -> str:
    """Submit a witness statement as pc.smith; the submission page's URL."""
    answers, now = scenario(WITNESS)
    site.be("pc.smith")
    site.at(now)
    try:
        check, _ = fill(site, "response", "witness_statement", answers)
        return str(site.post(check.replace("/check", "/submit"), {}).headers["location"])
    finally:
        site.at(None)


def test_another_users_draft_does_not_exist_for_them(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    draft = url.split("/")[2]
    site.be("pc.jones")
    for path in (f"/drafts/{draft}", url, f"/drafts/{draft}/check"):
        assert site.client.get(path, follow_redirects=False).status_code == 404, path
    for path in (url, f"/drafts/{draft}/submit", f"/drafts/{draft}/delete"):
        assert site.post(path, {"officer_name": "Mallory", "_action": "save"}).status_code == 404, path
    with site.db.session() as session:
        row = session.get(Draft, draft)
        assert row is not None
        assert "officer_name" not in row.answers


def test_officers_start_only_their_own_departments_forms(site: Site) -> None:
    site.be("pc.evans", "public_protection")
    assert site.post("/forms/response/witness_statement/start", {}).status_code == 403
    assert site.post("/forms/public_protection/supervisor_review/start", {}).status_code == 404  # a task form
    assert site.post("/forms/public_protection/nothing_here/start", {}).status_code == 404
    assert site.post("/forms/public_protection/child_concern/start", {}).status_code == 303


def test_every_post_needs_the_csrf_token(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    draft = url.split("/")[2]
    assert site.post("/forms/response/witness_statement/start", {}, csrf=False).status_code == 403
    assert site.post(url, {"officer_name": "X", "_action": "save"}, csrf=False).status_code == 403
    assert site.post(f"/drafts/{draft}/submit", {}, csrf=False).status_code == 403
    assert site.post(f"/drafts/{draft}/delete", {}, csrf=False).status_code == 403
    with site.db.session() as session:
        row = session.get(Draft, draft)
        assert row is not None
        assert "officer_name" not in row.answers


def test_a_script_typed_as_an_answer_is_shown_as_text(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    payload = "<script>alert(1)</script>\"'>"
    site.post(url, {"officer_name": payload, "taken_place": payload, "_action": "save"})
    for page in (site.client.get(url).text, site.client.get(f"/drafts/{url.split('/')[2]}/check").text):
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;" in page


def test_unknown_field_names_and_huge_values_never_break_a_page(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    garbage = {
        "__proto__": "x",
        "officer_name.evil": "y",
        "exhibits.999999.exhibit_ref": "z",
        "taken_at.day": "9" * 5000,
        "officer_name": "A" * 200_000,
        "_ack": "not_a_field",
        "_action": "continue",
    }
    response = site.post(url, garbage)
    assert response.status_code == 422
    assert "#f-officer_name" in dict(error_messages(response.text))  # too long, as a field error
    with site.db.session() as session:
        row = session.get(Draft, url.split("/")[2])
        assert row is not None
        assert set(row.answers) <= {"officer_name", "officer_rank", "taken_at"}
        assert len(row.answers["officer_name"]) == 50_000
        assert row.acknowledged["ack"] == []
    assert site.post(url, {"officer_name": "A" * 2_000_000, "_action": "save"}).status_code == 400
    broken = site.client.post(
        url, content=b"\x00garbage", headers={"content-type": "multipart/form-data; boundary=zz"}
    )
    assert broken.status_code == 400
    assert site.client.get(url.replace("/taken_by", "/no_such_page")).status_code == 404
    assert site.post(url.replace("/taken_by", "/no_such_page"), {"_action": "save"}).status_code == 404
    assert site.client.get("/drafts/" + "x" * 400).status_code == 404
    assert site.client.get("/submissions/not-a-submission").status_code == 404


def test_pages_need_a_signed_in_user(site: Site) -> None:
    site.client.cookies.clear()
    home = site.client.get("/", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"].startswith("/login")
    assert site.client.get("/drafts/abc/check", follow_redirects=False).status_code == 303


def test_without_a_database_home_is_the_author_preview() -> None:
    with TestClient(create_app(WebConfig(DEMO))) as client:
        response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/preview/"


def test_a_submission_is_seen_by_its_submitter_and_their_supervisors_only(site: Site) -> None:
    url = submitted(site)
    assert site.client.get(url).status_code == 200
    site.be("pc.jones")
    assert site.client.get(url).status_code == 404
    site.be("ds.khan", "public_protection", ("officer", "supervisor"))
    assert site.client.get(url).status_code == 404
    site.be("sgt.jones", "response", ("officer", "supervisor"))
    assert site.client.get(url).status_code == 200


def test_the_submission_page_shows_references_the_workflow_returned(site: Site) -> None:
    url = submitted(site)
    with site.db.session() as session:
        instance = session.scalars(
            select(Instance).where(Instance.submission_id == url.rsplit("/", 1)[-1])
        ).one()
        session.add(CaseValue(instance_id=instance.id, name="crime_reference", value="WV/004512/25"))
        session.add(CaseValue(instance_id=instance.id, name="oic_email", value="dc@example"))
    page = site.client.get(url).text
    assert "<dt>Crime reference</dt><dd><strong>WV/004512/25</strong></dd>" in page
    assert "dc@example" not in page
    assert "Status: In progress" in page
    assert re.search(r"<li>Received and started: Witness statement<time datetime=", page)


def test_home_lists_submissions_with_their_status(site: Site) -> None:
    url = submitted(site)
    sub_id = url.rsplit("/", 1)[-1]
    with site.db.session() as session:
        instance = session.scalars(select(Instance).where(Instance.submission_id == sub_id)).one()
        instance.state = "failed"
    home = site.client.get("/").text
    row = re.search(rf'<li><div><a href="/submissions/{sub_id}">.*?</li>', home, re.S)
    assert row is not None
    assert "Needs attention" in row.group(0)


def test_the_form_json_is_cacheable_and_only_for_its_department(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    link = re.search(r'data-wp-form-json="([^"]+)"', site.client.get(url).text)
    assert link is not None
    response = site.client.get(link.group(1))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert json.loads(response.text)  # a JSON document
    assert site.client.get(link.group(1).replace("/v/", "/v/9")).status_code == 404
    assert site.client.get(link.group(1).replace("witness_statement", "crime_report")).status_code == 404
    assert site.client.get("/forms/response/witness_statement/v/abc.json").status_code == 404
    site.be("pc.evans", "public_protection")
    assert site.client.get(link.group(1)).status_code == 403


def test_a_pinned_definition_must_be_a_version_of_the_form_submitted(site: Site) -> None:
    with site.db.session() as session:
        witness_id, _ = site.runtime.store.current_form("response", "witness_statement", session=session)
        with pytest.raises(DefinitionNotFound):
            site.runtime.submit(session, "response", "crime_report", {}, definition_id=witness_id)
        with pytest.raises(DefinitionNotFound):
            site.runtime.submit(
                session, "public_protection", "witness_statement", {}, definition_id=witness_id
            )
