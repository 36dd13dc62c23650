"""What a supervisor sees of a case, piece by piece: answers as summary rows (pictures, signatures,
repeats, choices in words), and the task form's posted answers (attachments only when the user
uploaded them). The full pages are tested in test_inbox.py."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine._registry import PluginRegistry
from engine._sources import CompiledDepartment, DepartmentSources, compile_department
from engine._tables import Attachment
from engine._web_inbox_case import AnswerRow, answer_sections, format_when, humanise
from engine._web_inbox_form import TaskPost, posted_answers, posted_raw
from forms import Form
from renderers import HtmlRenderer
from tests.web.support import ensure_user
from tests.web.test_inbox import Site, site  # noqa: F401 - the shared app fixture

ROOT = Path(__file__).resolve().parents[2]
RESPONSE = ROOT / "examples" / "demo-force" / "response"
SHA_MINE, SHA_THEIRS = "a" * 64, "b" * 64


@cache
def response() -> CompiledDepartment:
    return compile_department(DepartmentSources.read(RESPONSE), PluginRegistry.from_entry_points().specs())


def witness() -> tuple[Form, dict[str, Any]]:
    """The witness statement form and a scenario's answers, as stored (JSON)."""
    scenario = yaml.safe_load((RESPONSE / "tests" / "witness_statement_to_officer_in_case.yaml").read_text())
    answers = json.loads(json.dumps(scenario["answers"], default=lambda v: v.isoformat()))
    form = response().forms["witness_statement"]
    stored = form.validate(answers, coerce=True)
    assert stored.ok, stored.errors
    return form, stored.to_json()


def rows_by_label(form: Form, answers: dict[str, Any]) -> dict[str, AnswerRow]:
    return {row.label.en: row for s in answer_sections(form, answers) for row in s.rows}


def render_rows(rows: list[AnswerRow]) -> str:
    template = HtmlRenderer().env.from_string(
        '{% from "task_parts.html" import answer_rows %}{{ answer_rows(rows) }}'
    )
    return template.render(rows=rows)


def test_answers_read_in_words_with_signatures_as_pictures() -> None:
    form, answers = witness()
    rows = rows_by_label(form, answers)
    signature = rows["Witness's signature"]
    assert signature.signature
    assert [p["filename"] for p in signature.pictures] == ["signature.png"]
    assert rows["Witness's first names"].lines == ("Ruth Anne",)
    assert rows["Witness's date of birth"].lines == ("2 October 1958",)
    assert rows["Date and time the witness signed"].lines == ("3 June 2025 at 13:40",)
    html = render_rows([signature])
    assert f'src="/attachments/{answers["witness_signature"]["sha256"]}"' in html
    assert 'alt="Signature: signature.png"' in html


def test_repeats_get_a_heading_per_item_and_photos_and_files_are_told_apart() -> None:
    form, answers = witness()
    photo = {"sha256": SHA_MINE, "filename": "laptop <b>.jpg", "content_type": "image/jpeg", "size": 10}
    exhibit = {"exhibit_ref": "RC/1", "exhibit_type": "photo", "exhibit_description": "The laptop"}
    answers["exhibits"] = [{**exhibit, "exhibit_photos": [photo]}]
    stored = form.validate(answers, coerce=False)
    assert stored.ok, stored.errors
    rows = [r for s in answer_sections(form, stored.to_json()) for r in s.rows]
    headings = [r for r in rows if r.heading]
    assert "RC/1: The laptop" in [r.label.en for r in headings]  # the author's item label
    pictures = [r for r in rows if r.pictures and not r.signature]
    assert pictures
    assert pictures[0].level == 1
    html = render_rows(pictures)
    assert 'alt="Photo: laptop &lt;b&gt;.jpg"' in html
    assert "<b>" not in html
    pdf = AnswerRow(pictures[0].label, files=({"sha256": SHA_THEIRS, "filename": "notes.pdf"},))
    assert f'<a class="block" href="/attachments/{SHA_THEIRS}">notes.pdf</a>' in render_rows([pdf])


def test_unanswered_fields_and_unlabelled_calculations_are_left_out() -> None:
    form, answers = witness()
    rows = rows_by_label(form, answers)
    assert "Interpreter's signature" not in rows  # not relevant: no interpreter
    assert all(row.label.en != humanise("exhibit_count") for row in rows.values())


def test_words_for_people() -> None:
    assert humanise("create_crime") == "Create crime"
    assert format_when(datetime(2025, 6, 2, 0, 30, tzinfo=UTC)) == "2 June 2025 at 01:30"  # BST
    assert format_when(None) == ""


def test_posted_attachments_must_be_the_users_own(site: Site) -> None:  # noqa: F811
    mine = ensure_user(site.db, "pc.smith", "response")
    theirs = ensure_user(site.db, "pc.evans", "public_protection")
    with site.db.session() as session:
        for sha, owner in ((SHA_MINE, mine), (SHA_THEIRS, theirs)):
            if session.get(Attachment, sha) is None:
                row = Attachment(
                    sha256=sha, size=10, content_type="image/png", filename="s.png", uploaded_by=owner
                )
                session.add(row)
    form = response().forms["witness_statement"]

    def record(sha: str) -> list[str]:
        # The record claims another name and size: the server's own row is what counts.
        return [json.dumps({"sha256": sha, "filename": "evil.exe", "content_type": "image/png", "size": 1})]

    post = TaskPost(
        values={
            "witness_signature.attachment": record(SHA_MINE),
            "officer_signature.attachment": record(SHA_THEIRS),
            "consent_signature.attachment": ["{not json"],
            "witness_forenames": ["Ruth"],
            "csrf_token": ["x"],
        }
    )
    now = datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
    with site.db.session() as session:
        raw, refused = posted_raw(session, form, post, user_id=mine, now=now)
    assert refused == []
    assert raw["witness_signature"] == {
        "sha256": SHA_MINE,
        "filename": "s.png",
        "content_type": "image/png",
        "size": 10,
    }
    assert "officer_signature" not in raw
    assert "consent_signature" not in raw
    answers = posted_answers(form, raw)
    assert answers["witness_forenames"] == "Ruth"
    assert "csrf_token" not in answers
    flood = TaskPost(values={"narrative": ["x"] * 2001})
    with site.db.session() as session, pytest.raises(ValueError, match="too many"):
        posted_raw(session, form, flood, user_id=mine, now=now)


def test_files_sent_without_the_page_script_are_stored_or_refused(site: Site) -> None:  # noqa: F811
    user = ensure_user(site.db, "pc.smith", "response")
    form = response().forms["witness_statement"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    post = TaskPost(
        uploads={
            "witness_signature": [("sig.png", "image/png", png)],
            "officer_signature": [("notes.txt", "text/plain", b"not a picture")],
        }
    )
    now = datetime(2025, 6, 3, 12, 0, tzinfo=UTC)
    with site.db.session() as session:
        raw, refused = posted_raw(session, form, post, user_id=user, now=now, store=site.ctx.attachments)
    assert raw["witness_signature"]["sha256"] == hashlib.sha256(png).hexdigest()
    assert raw["witness_signature"]["filename"] == "sig.png"
    assert [e.path for e in refused] == [("officer_signature",)]
    assert "officer_signature" not in raw
    assert site.ctx.attachments.open(raw["witness_signature"]["sha256"]) == png
