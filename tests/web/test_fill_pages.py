"""One page at a time: errors, warnings, repeats, files, relevance, drafts and the submit button.

Uses the app and helpers of tests/web/test_fill.py (real Runtime, SQLite, no JavaScript).
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from engine._tables import Attachment, Draft, Submission
from engine._web import WebConfig, create_app
from tests.web.test_fill import (
    DEMO,
    PNG,
    Site,
    TestClient,
    browser_fields,
    error_messages,
    fill,
    scenario,
)
from tests.web.test_fill import site as site  # the app fixture, shared

WITNESS = "response/tests/witness_statement_to_officer_in_case.yaml"


def draft_of(url: str) -> str:
    return url.split("/")[2]


def test_a_missed_required_field_shows_a_linked_error_summary_and_inline_error(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    assert url.endswith("/pages/taken_by")
    page = site.client.get(url)
    assert 'data-wp-form-json="/forms/response/witness_statement/v/' in page.text
    response = site.post(url, {"officer_name": "Sam Patel", "officer_collar": "44x", "_action": "continue"})
    assert response.status_code == 422
    html = response.text
    assert '<div class="error-summary" id="error-summary" role="alert" tabindex="-1"' in html
    assert "There is a problem" in html
    links = dict(error_messages(html))
    assert links["#f-officer_station"] == "Enter your station"
    assert links["#f-officer_collar"] == "Enter your collar or warrant number using numbers only"
    assert links["#f-taken_place"] == "Enter where you are taking the statement"
    assert "#f-officer_name" not in links
    # The inline error is next to its field, and the input points at it.
    assert '<p class="error-message" id="f-officer_station-error">' in html
    assert re.search(r'id="f-officer_station"[^>]*aria-describedby="f-officer_station-error"', html)
    assert 'value="44x"' in html
    assert 'value="Sam Patel"' in html
    assert "<title>Error: About this statement" in html
    # Errors for pages not yet reached are not shown.
    assert "witness_forenames" not in html


def test_non_numbers_in_a_number_field_are_a_field_error_not_a_crash(site: Site) -> None:
    site.be("pc.evans", "public_protection")
    url = site.start("public_protection", "child_concern")
    answers, now = scenario("public-protection/tests/child_review_closes.yaml")
    site.at(now)
    site.client.get(url)
    data, _ = browser_fields(site.form("public_protection", "child_concern").pages[0].fields, answers)
    assert site.post(url, [*data, ("_action", "continue")]).status_code == 303
    site.at(None)
    household = url.replace("/referral", "/household_page")
    site.client.get(household)
    response = site.post(
        household,
        {
            "household._count": "1",
            "household.0.member_name": "Dan",
            "household.0.member_dob.day": "aa",
            "household.0.member_dob.month": "13",
            "household.0.member_dob.year": "1984",
            "household.0.member_relationship": "father",
            "household.0.member_lives_with_child": "yes",
            "household.0.member_poses_risk": "no",
            "household_complete": "yes",
            "_action": "continue",
        },
    )
    assert response.status_code == 422
    links = dict(error_messages(response.text))
    assert "#f-household-0-member_dob" in links
    assert 'value="aa"' in response.text  # kept as typed


def test_repeat_items_are_added_and_removed_with_buttons(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    statement = url.replace("/taken_by", "/statement_page")
    page = site.client.get(statement)
    assert 'value="add:exhibits"' in page.text
    assert 'name="exhibits._count" value="0"' in page.text
    added = site.post(
        statement, {"narrative": "I saw him take it.", "exhibits._count": "0", "_action": "add:exhibits"}
    )
    assert added.status_code == 303
    assert added.headers["location"].endswith("/pages/statement_page#item-exhibits")
    page = site.client.get(statement)
    assert 'data-wp-entry="exhibits.0"' in page.text
    assert 'name="exhibits.0.exhibit_ref"' in page.text
    assert "I saw him take it." in page.text  # the narrative was saved with the button press
    second = site.post(
        statement,
        {
            "narrative": "I saw him take it.",
            "exhibits._count": "1",
            "exhibits.0.exhibit_ref": "SP/1",
            "exhibits.0.exhibit_description": "Phone",
            "_action": "add:exhibits",
        },
    )
    assert second.status_code == 303
    page = site.client.get(statement)
    assert 'data-wp-entry="exhibits.1"' in page.text
    assert 'value="SP/1"' in page.text
    removed = site.post(
        statement,
        {
            "exhibits._count": "2",
            "exhibits.0.exhibit_ref": "SP/1",
            "exhibits.1.exhibit_ref": "SP/2",
            "_action": "remove:exhibits.0",
        },
    )
    assert removed.status_code == 303
    page = site.client.get(statement)
    assert 'data-wp-entry="exhibits.1"' not in page.text
    assert 'value="SP/2"' in page.text
    assert 'value="SP/1"' not in page.text
    assert site.post(statement, {"_action": "remove:exhibits.7"}).status_code == 400
    assert site.post(statement, {"_action": "add:narrative"}).status_code == 400
    assert site.post(statement, {"_action": "explode"}).status_code == 400


def test_a_repeat_at_its_minimum_has_no_remove_button_and_at_its_maximum_no_add_button(site: Site) -> None:
    site.be("pc.evans", "public_protection")
    url = site.start("public_protection", "child_concern")
    children = url.replace("/referral", "/children_page")
    page = site.client.get(children)
    assert 'data-wp-entry="children.0"' in page.text  # min 1: one item is there from the start
    assert 'value="remove:children.0"' not in page.text
    for count in range(1, 12):
        site.post(children, {"children._count": str(count), "_action": "add:children"})
    page = site.client.get(children)
    assert 'data-wp-entry="children.11"' in page.text
    assert 'value="add:children"' not in page.text  # max 12
    site.post(children, {"children._count": "12", "_action": "add:children"})
    assert 'data-wp-entry="children.12"' not in site.client.get(children).text


def test_a_warning_needs_acknowledging_before_moving_on(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    statement = url.replace("/taken_by", "/statement_page")
    site.client.get(statement)
    narrative = "The man took the phone. I produce exhibit SP/1, the phone."
    shown = site.post(statement, {"narrative": narrative, "_action": "continue"})
    assert shown.status_code == 200
    assert "Check these answers" in shown.text
    assert "The statement mentions an exhibit" in shown.text
    assert 'name="_ack" value="narrative"' in shown.text
    assert re.search(r'aria-describedby="[^"]*f-narrative-warning', shown.text)
    moved = site.post(statement, {"narrative": narrative, "_ack": "narrative", "_action": "continue"})
    assert moved.status_code == 303
    assert moved.headers["location"].endswith("/pages/declaration")
    with site.db.session() as session:
        draft = session.get(Draft, draft_of(url))
        assert draft is not None
        assert draft.acknowledged["ack"] == ["narrative"]


def test_questions_revealed_by_an_answer_are_shown_before_they_are_required(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    witness = url.replace("/taken_by", "/witness")
    page = site.client.get(witness)
    assert re.search(r'<fieldset class="group wp-irrelevant" id="item-interpreter"[^>]* hidden>', page.text)
    answers = {
        "witness_forenames": "Ruth",
        "witness_surname": "Collins",
        "witness_dob.day": "2",
        "witness_dob.month": "10",
        "witness_dob.year": "1958",
        "occupation": "retired",
        "witness_can_read": "yes",
        "interpreter_used": "yes",
        "_action": "continue",
    }
    shown = site.post(witness, answers)
    assert shown.status_code == 200
    assert "More questions have appeared" in shown.text
    assert not error_messages(shown.text)
    assert re.search(r'<fieldset class="group" id="item-interpreter"', shown.text)
    again = site.post(witness, answers)  # the officer saw them and left them empty: now errors
    assert again.status_code == 422
    assert "#f-interpreter-interpreter_name" in dict(error_messages(again.text))


def test_photos_are_uploaded_shown_and_removed_without_javascript(site: Site) -> None:
    site.be("dc.patel", "investigations")
    url = site.start("investigations", "investigation_update")
    files = url.rsplit("/", 1)[0] + "/attachments"
    page = site.client.get(files)
    assert re.search(
        r'<input class="file" type="file" id="f-photos" name="photos" '
        r'accept="image/\*" multiple capture="environment"',
        page.text,
    )
    second = PNG + b"second"
    uploaded = site.post(
        files,
        {"_action": "save"},
        [("photos", ("a.png", PNG, "image/png")), ("photos", ("b.png", second, "image/png"))],
    )
    assert uploaded.status_code == 303
    assert uploaded.headers["location"] == f"/?saved={draft_of(url)}"
    page = site.client.get(files)
    shas = re.findall(r'data-wp-attachment="([0-9a-f]{64})"', page.text)
    assert len(shas) == 2
    assert f'src="/attachments/{shas[0]}"' in page.text
    assert 'name="photos.attachment"' in page.text
    bad = site.post(
        files, {"_action": "save"}, [("documents", ("x.exe", b"MZ\x90\x00", "application/x-msdownload"))]
    )
    assert bad.status_code == 303  # saved, but the file was refused ...
    assert "x.exe" not in site.client.get(files).text
    records = re.findall(r'name="photos.attachment" value="([^"]+)"', page.text)
    records = [r.replace("&#34;", '"') for r in records]
    kept = site.post(
        files,
        [
            ("photos.attachment", records[0]),
            ("photos.attachment", records[1]),
            ("_action", f"detach:photos:{shas[0]}"),
        ],
    )
    assert kept.status_code == 303
    page = site.client.get(files)
    assert re.findall(r'data-wp-attachment="([0-9a-f]{64})"', page.text) == [shas[1]]


def test_a_refused_upload_is_a_field_error_on_continue(site: Site) -> None:
    site.be("dc.patel", "investigations")
    url = site.start("investigations", "investigation_update")
    files = url.rsplit("/", 1)[0] + "/attachments"
    site.client.get(files)
    response = site.post(
        files, {"_action": "continue"}, [("documents", ("x.pdf", b"not a pdf", "application/pdf"))]
    )
    assert response.status_code == 422
    assert "#f-documents" in dict(error_messages(response.text))


def test_an_attachment_record_is_accepted_only_for_the_uploaders_own_file(site: Site) -> None:
    site.be("dc.patel", "investigations")
    url = site.start("investigations", "investigation_update")
    files = url.rsplit("/", 1)[0] + "/attachments"
    site.post(files, {"_action": "save"}, [("photos", ("mine.png", PNG + b"patel", "image/png"))])
    with site.db.session() as session:
        theirs = session.scalars(select(Attachment).where(Attachment.filename == "mine.png")).one()
    site.be("dc.other", "investigations")
    other = site.start("investigations", "investigation_update")
    other_files = other.rsplit("/", 1)[0] + "/attachments"
    record = f'{{"sha256": "{theirs.sha256}", "filename": "x.png", "content_type": "image/png", "size": 5}}'
    site.post(
        other_files, [("photos.attachment", record), ("photos.attachment", "{not json"), ("_action", "save")]
    )
    assert "data-wp-attachment" not in site.client.get(other_files).text


def test_pages_whose_condition_is_false_are_skipped(site: Site) -> None:
    answers, now = scenario(WITNESS)
    site.be("pc.smith")
    site.at(now)
    try:
        _, visited = fill(site, "response", "witness_statement", answers)
        _, as_victim = fill(
            site,
            "response",
            "witness_statement",
            {
                **answers,
                "statement_type": "victim",
                "vps_offered": True,
                "vps_taken": False,
                "consent_vps_explained": True,
                "consent_vps_leaflet": True,
            },
        )
    finally:
        site.at(None)
    assert "victim_personal_statement" not in visited
    assert visited.index("declaration") + 1 == visited.index("witness_details")
    assert as_victim[as_victim.index("declaration") + 1] == "victim_personal_statement"


def test_an_irrelevant_page_redirects_and_the_caption_counts_relevant_pages(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    vps = url.replace("/taken_by", "/victim_personal_statement")
    response = site.client.get(vps, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/drafts/{draft_of(url)}"
    assert "Page 1 of 7 ·" in site.client.get(url).text  # 8 pages, the victim's is not asked


def test_double_submit_makes_one_submission(site: Site) -> None:
    answers, now = scenario(WITNESS)
    site.be("pc.smith")
    site.at(now)
    try:
        check, _ = fill(site, "response", "witness_statement", answers)
        first = site.post(check.replace("/check", "/submit"), {})
        second = site.post(check.replace("/check", "/submit"), {})
    finally:
        site.at(None)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert site.count(Submission, client_id=draft_of(check)) == 1


def test_submit_with_a_missing_answer_goes_back_to_the_page_with_the_error(site: Site) -> None:
    site.be("pc.smith")
    url = site.start("response", "witness_statement")
    response = site.post(f"/drafts/{draft_of(url)}/submit", {})
    assert response.status_code == 303
    assert response.headers["location"] == f"/drafts/{draft_of(url)}/pages/taken_by?validate=1"
    page = site.client.get(response.headers["location"])
    assert "#f-officer_name" in dict(error_messages(page.text))
    check = site.client.get(f"/drafts/{draft_of(url)}/check")
    assert f"/drafts/{draft_of(url)}/pages/taken_by?return=check#f-officer_name" in check.text


def test_save_and_come_back_later_keeps_the_draft_on_the_home_page(site: Site) -> None:
    site.be("pc.saver")
    url = site.start("response", "crime_report")
    saved = site.post(url, {"_action": "save"})
    assert saved.headers["location"] == f"/?saved={draft_of(url)}"
    home = site.client.get(saved.headers["location"])
    assert "Your answers have been saved" in home.text
    assert f'href="/drafts/{draft_of(url)}"' in home.text
    resumed = site.client.get(f"/drafts/{draft_of(url)}", follow_redirects=False)
    assert resumed.headers["location"] == url
    deleted = site.post(f"/drafts/{draft_of(url)}/delete", {})
    assert deleted.status_code == 303
    assert site.count(Draft, id=draft_of(url)) == 0


def test_a_draft_stays_on_its_form_version_after_a_new_one_is_published(tmp_path: Path) -> None:
    force = tmp_path / "force"
    shutil.copytree(DEMO, force)
    config = WebConfig(
        force, database_url=f"sqlite:///{tmp_path}/t.db", worker=False, attachments=tmp_path / "f"
    )
    with TestClient(create_app(config)) as client:
        site = Site(client)
        site.be("pc.smith")
        url = site.start("response", "witness_statement")
        old_json = re.search(r'data-wp-form-json="([^"]+)"', site.client.get(url).text)
        form_file = force / "response" / "forms" / "witness_statement.yaml"
        text = form_file.read_text(encoding="utf-8")
        form_file.write_text(
            text.replace("label: Your station", "label: Your police station"), encoding="utf-8"
        )
        with site.db.session() as session:
            site.runtime.store.publish(session, force / "response")
        assert "Your station" in site.client.get(url).text  # the draft keeps its version
        assert re.search(r'data-wp-form-json="([^"]+)"', site.client.get(url).text).group(
            1
        ) == old_json.group(1)
        newer = site.start("response", "witness_statement")
        assert "Your police station" in site.client.get(newer).text
        answers, now = scenario(WITNESS)
        site.at(now)
        check, _ = fill(site, "response", "witness_statement", answers)
        with site.db.session() as session:
            pinned = session.get(Draft, draft_of(check))
            assert pinned is not None
            pinned.definition_id = int(old_json.group(1).rsplit("/", 1)[-1].split(".")[0])
        submitted = site.post(check.replace("/check", "/submit"), {})
        with site.db.session() as session:
            stored = session.get(Submission, submitted.headers["location"].rsplit("/", 1)[-1])
            assert stored is not None
            assert str(stored.definition_id) in old_json.group(1)


def test_two_submits_at_once_make_one_submission(site: Site) -> None:
    answers, now = scenario(WITNESS)
    site.be("pc.smith")
    site.at(now)
    try:
        check, _ = fill(site, "response", "witness_statement", answers)
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda _: site.post(check.replace("/check", "/submit"), {}), range(2)))
    finally:
        site.at(None)
    assert [r.status_code for r in replies] == [303, 303]
    assert replies[0].headers["location"] == replies[1].headers["location"]
    assert site.count(Submission, client_id=draft_of(check)) == 1
