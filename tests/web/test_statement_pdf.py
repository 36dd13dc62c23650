"""The statement document: a demo witness statement (MG11) rendered to PDF and checked with poppler.

The app runs for real on SQLite with the demo force; the statement is submitted through the real
runtime with a demo scenario's answers, its signatures and two exhibit photos stored through the
real attachment store. The PDF is read back with ``pdftotext`` and its first page drawn with
``pdftoppm`` (poppler-utils), as a person opening it would see it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageDraw, ImageStat
from sqlalchemy import select

from engine._statement_pdf import StatementFontMissing, render_statement
from engine._tables import AuditEvent, User
from tests.web.test_fill import DEMO, Site
from tests.web.test_fill import site as site  # the app fixture, shared

__all__ = ["site"]

# poppler-utils (.ci/run installs it): the tests read and draw the PDF the way a viewer does.
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"
RESTRICTED_ADDRESS = "99 Hidden Lane"
WELSH = "Gwelais y dŵr a'r ŷd."


def _png(colour: str, text: str) -> bytes:
    image = Image.new("RGB", (120, 48), "white")
    ImageDraw.Draw(image).text((6, 16), text, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _scenario(path: str) -> tuple[dict[str, Any], dt.datetime]:
    data = yaml.safe_load((DEMO / path).read_text(encoding="utf-8"))
    now = data["now"] if isinstance(data["now"], dt.datetime) else dt.datetime.fromisoformat(str(data["now"]))
    return _jsonable(data["answers"]), now.astimezone(dt.UTC)


def _user_id(site: Site, username: str) -> str:
    with site.db.session() as session:
        return str(session.scalars(select(User.id).where(User.username == username)).one())


class Made:
    """The submissions a test reads, and what went into them."""

    def __init__(self, statement: str, other: str, photos: list[str]) -> None:
        self.statement, self.other, self.photos = statement, other, photos


@pytest.fixture(scope="module")
def made(site: Site) -> Made:
    app = site.client.app
    # The app mounts the route itself (engine/_web.py): a missing mount must fail, not be patched.
    assert any(getattr(r, "name", None) == "statement_pdf" for r in app.router.routes)  # type: ignore[attr-defined]
    site.be("pc.smith")
    owner = _user_id(site, "pc.smith")
    answers, now = _scenario("response/tests/witness_statement_to_officer_in_case.yaml")
    site.at(now)
    photos: list[dict[str, Any]] = []
    with site.db.session() as session:
        put = site.ctx.attachments.put
        signature = put(
            session,
            _png("black", "R Collins"),
            filename="sig.png",
            content_type="image/png",
            uploaded_by=owner,
            captured_at="2025-06-03T13:40:00+01:00",
        )
        for n, colour in enumerate(("red", "blue"), start=1):
            photos.append(
                put(
                    session,
                    _png(colour, f"SP/{n}"),
                    filename=f"p{n}.png",
                    content_type="image/png",
                    uploaded_by=owner,
                    captured_at=f"2025-06-03T13:2{n}:00+01:00",
                )
            )
    answers.update(
        witness_signature=signature,
        officer_signature=signature,
        consent_signature=signature,
        narrative=answers["narrative"] + " I produce exhibits SP/1 and SP/2. " + WELSH,
        exhibits=[
            {
                "exhibit_ref": f"SP/{n}",
                "exhibit_type": "photo",
                "exhibit_description": f"Photo {n} of the fence",
                "exhibit_photos": [photo],
            }
            for n, photo in enumerate(photos, start=1)
        ],
        witness_address={"wa_line1": RESTRICTED_ADDRESS, "wa_town": "Marlbury", "wa_postcode": "SP1 2AB"},
    )
    other, other_now = _scenario("response/tests/crime_domestic_abuse_review.yaml")
    with site.db.session() as session:
        result = site.runtime.submit(session, "response", "witness_statement", answers, user_id=owner)
        assert result.ok, result.validation.blocking
        site.at(other_now)
        second = site.runtime.submit(session, "response", "crime_report", other, user_id=owner)
        assert second.ok, second.validation.blocking
    site.at(None)
    return Made(str(result.submission_id), str(second.submission_id), [p["sha256"] for p in photos])


def _get(site: Site, sub_id: str, user: str = "pc.smith") -> Any:
    site.be(user)
    return site.client.get(f"/submissions/{sub_id}/statement.pdf")


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_the_statement_pdf_renders_the_front_of_the_mg11(site: Site, made: Made, tmp_path: Path) -> None:
    response = _get(site, made.statement)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF")
    text = _text(body, tmp_path)
    for sha in made.photos:
        assert sha in text
    assert "Page 1 of" in text
    assert "Witness statement" in text
    assert "Ruth Anne COLLINS" in text
    assert "Over 18" in text
    assert "wilfully stated in it anything" in text  # the s.9 declaration, in the form's words
    assert "[page count]" not in text
    assert WELSH in text  # TrueType font: no Welsh letter dropped
    assert "SP/1" in text
    assert "Photo 2 of the fence" in text
    # The rear page (restricted witness-care details) never reaches the document.
    assert RESTRICTED_ADDRESS not in text
    assert "SP1 2AB" not in text
    assert "01722000222" not in text
    subprocess.run(
        [
            PDFTOPPM,
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "s.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as page:
        variance = ImageStat.Stat(page.convert("L")).var[0]
    assert variance > 100  # ink on the page: not a blank sheet


def test_the_same_statement_gives_the_same_bytes_and_is_audited(site: Site, made: Made) -> None:
    first, second = _get(site, made.statement), _get(site, made.statement)
    assert first.content == second.content
    digest = hashlib.sha256(first.content).hexdigest()
    assert first.headers["x-content-sha256"] == digest == second.headers["x-content-sha256"]
    with site.db.session() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.record_id == made.statement)
        ).all()
    assert exports
    assert all(json.dumps(e.detail).count(digest) == 1 for e in exports[-2:])


def test_another_officer_gets_404_and_a_supervisor_gets_the_document(site: Site, made: Made) -> None:
    assert _get(site, made.statement, "pc.brown").status_code == 404
    with site.db.session() as session:
        denied = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "denied", AuditEvent.record_id == made.statement)
        ).all()
    assert denied
    site.be("sgt.jones", "response", ("officer", "supervisor"))
    assert site.client.get(f"/submissions/{made.statement}/statement.pdf").status_code == 200
    site.be("ds.khan", "public_protection", ("officer", "supervisor"))  # another department's supervisor
    assert site.client.get(f"/submissions/{made.statement}/statement.pdf").status_code == 404


def test_a_form_that_is_not_a_statement_and_unknown_ids_give_404(site: Site, made: Made) -> None:
    response = _get(site, made.other)
    assert response.status_code == 404
    assert "not a statement" in response.text
    assert _get(site, "no-such-id").status_code == 404
    assert _get(site, "x" * 500).status_code == 404


def test_a_missing_font_is_a_clear_error_naming_the_package(site: Site, tmp_path: Path) -> None:
    form = site.form("response", "witness_statement")
    with pytest.raises(StatementFontMissing, match="fonts-dejavu-core"):
        render_statement(
            form, {}, received_at=dt.datetime.now(dt.UTC), opener=lambda s: b"", font_dirs=(tmp_path,)
        )


def _render(site: Site, answers: dict[str, Any], opener: Any) -> bytes:
    form = site.form("response", "witness_statement")
    when = dt.datetime(2025, 6, 3, 13, 0, tzinfo=dt.UTC)
    return render_statement(form, answers, received_at=when, opener=opener)


def test_a_long_statement_numbers_every_page_and_counts_them_in_the_declaration(
    site: Site, tmp_path: Path
) -> None:
    narrative = " ".join(f"Sentence {n} of what I saw that morning." for n in range(400))
    text = _text(_render(site, {"narrative": narrative}, lambda sha: b""), tmp_path)
    pages = text.count("\f")
    assert pages >= 2
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    assert f"consisting of {pages} page(s)" in text


def test_an_unreadable_or_missing_signature_is_said_not_fatal(site: Site, tmp_path: Path) -> None:
    def missing(sha: str) -> bytes:
        raise FileNotFoundError(sha)

    record = {"sha256": "a" * 64, "filename": "s.png", "content_type": "image/png", "size": 3}
    answers = {"narrative": "I saw it happen.", "witness_signature": record, "officer_signature": "garbage"}
    for opener in (missing, lambda sha: b"\x89PNG not really"):
        text = _text(_render(site, answers, opener), tmp_path)
        assert "(the signature image could not be read)" in text
        assert "(not signed)" in text  # a malformed answer is shown as unsigned, not a crash
        assert "a" * 64 in text


def test_the_app_serves_the_route_and_the_submission_page_links_it(site: Site, made: Made) -> None:
    """The route is the app's own, and only a statement's submission page offers the document."""
    site.be("pc.smith")
    link = f'href="/submissions/{made.statement}/statement.pdf"'
    assert link in site.client.get(f"/submissions/{made.statement}").text
    assert "statement.pdf" not in site.client.get(f"/submissions/{made.other}").text
