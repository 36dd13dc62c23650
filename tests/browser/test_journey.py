"""An officer's whole witness statement on an iPad mini, and a sergeant's review, in Chromium.

The officer signs in through the sign-in page, fills the MG11 page by page with JavaScript on:
an exhibit added to the repeat with a photo uploaded from the "camera", a required answer left
out (the error summary links to it, and the link moves focus to the field), two signatures drawn
on the signature pad, the check-answers page, submit, and the reference on the confirmation page.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from engine._tables import Attachment, Submission, Task
from tests.browser.conftest import LiveServer, log_in, new_context
from tests.browser.helpers import choose, scenario_answers, submit_in_process, wait_for_task


def png(width: int = 8, height: int = 8) -> bytes:
    """A small, valid PNG (a grey square): what the camera sends, in miniature."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def fill(page: Page, answers: dict[str, str]) -> None:
    """Type each answer into the input named by its dotted path."""
    for name, value in answers.items():
        page.locator(f"[name='{name}']").fill(value)


def date(page: Page, path: str, day: int, month: int, year: int) -> None:
    """Answer a GOV.UK-style date question."""
    fill(page, {f"{path}.day": str(day), f"{path}.month": str(month), f"{path}.year": str(year)})


def next_page(page: Page) -> None:
    """Select Continue and wait for the next page."""
    page.locator("[data-wp-continue]").click()
    page.wait_for_load_state("load")


def sign(page: Page, path: str, *, js: bool) -> None:
    """Sign ``path``: with JavaScript, draw on the pad with a finger and select Done (the picture
    is uploaded at once); without, choose a picture of the signature for the fallback file input."""
    box = page.locator(f"[data-wp-signature='{path}']")
    if not js:
        box.locator("[data-wp-signature-fallback] input[type=file]").set_input_files(picture("signature.png"))
        return
    pad = box.locator("canvas")
    pad.scroll_into_view_if_needed()
    area = pad.bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + 30, area["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(area["x"] + 30 + step * 25, area["y"] + 60 + (step % 3) * 25)
    page.mouse.up()
    box.get_by_role("button", name="Done").click()
    expect(box.locator(f"input[type=hidden][name='{path}.attachment']")).to_have_count(1)


@pytest.fixture
def no_js_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """An iPad mini with JavaScript switched off."""
    context = new_context(browser, server, java_script_enabled=False)
    yield context.new_page()
    context.close()


def picture(name: str, size: int = 8) -> FilePayload:
    """A file for ``set_input_files``: a small PNG called ``name`` (``size`` pixels square, so
    two pictures of different sizes are different evidence with different hashes)."""
    return {"name": name, "mimeType": "image/png", "buffer": png(size, size)}


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_an_officer_takes_a_witness_statement(
    server: LiveServer, request: pytest.FixtureRequest, page: Page, js: bool, tmp_path: Path
) -> None:
    """Sign in, seven pages with a repeat, two photos, an error summary and three signatures, check,
    submit, the reference on the confirmation page, and the statement PDF listing both photos'
    SHA-256. Without JavaScript the same form is completed: every page posts, files go with it."""
    if not js:
        page = request.getfixturevalue("no_js_page")
    log_in(page, "pc.smith")
    assert page.url == f"{server.url}/"
    page.locator("form[action='/forms/response/witness_statement/start'] button").click()
    page.wait_for_url("**/pages/taken_by")

    fill(page, {"officer_name": "Sam Patel", "officer_collar": "4471", "officer_station": "Marlbury"})
    choose(page, "statement_type", "witness")
    fill(page, {"taken_place": "The witness's home"})
    next_page(page)

    # The witness: the occupation is left out, so the page comes back with a linked summary.
    expect(page).to_have_url(re.compile(r"/pages/witness$"))
    fill(page, {"witness_forenames": "Jo", "witness_surname": "Bloggs"})
    date(page, "witness_dob", 27, 3, 1985)
    choose(page, "witness_can_read", "yes")
    next_page(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    link = summary.locator("a[href$='#f-occupation']")
    expect(link).to_have_count(1)
    link.click()
    if js:  # the runtime moves focus to the field; without it the browser scrolls to it
        expect(page.locator("#f-occupation")).to_be_focused()
    else:
        expect(page).to_have_url(re.compile("#f-occupation$"))
    expect(page.locator("#f-occupation")).to_be_in_viewport()
    page.locator("#f-occupation").fill("Shop manager")
    next_page(page)

    # The statement, with one exhibit (a photograph, so its photo is required) in the repeat.
    expect(page).to_have_url(re.compile(r"/pages/statement_page$"))
    fill(
        page, {"narrative": "I saw a man take a phone from the counter and run out. I produce exhibit SP/1."}
    )
    page.locator("[data-wp-add]").click()
    page.wait_for_load_state("load")
    fill(page, {"exhibits.0.exhibit_ref": "SP/1", "exhibits.0.exhibit_description": "CCTV still"})
    choose(page, "exhibits.0.exhibit_type", "photo")
    photo = page.locator("input[type=file][name='exhibits.0.exhibit_photos']")
    photo.set_input_files([picture("exhibit.png"), picture("exhibit-2.png", 12)])
    if js:  # uploaded at once, with progress; without JavaScript they go with the page
        expect(page.locator("input[name='exhibits.0.exhibit_photos.attachment']")).to_have_count(2)
    next_page(page)

    expect(page).to_have_url(re.compile(r"/pages/declaration$"))
    choose(page, "declaration_confirmed", "yes")
    sign(page, "witness_signature", js=js)
    sign(page, "officer_signature", js=js)
    next_page(page)

    expect(page).to_have_url(re.compile(r"/pages/witness_details$"))
    fill(page, {"witness_address.wa_line1": "14 Station Road", "witness_address.wa_town": "Marlbury"})
    fill(page, {"witness_address.wa_postcode": "SP1 2AB", "witness_mobile": "07700 900123"})
    choose(page, "preferred_contact", "mobile")
    choose(page, "any_dates_to_avoid", "no")
    next_page(page)

    expect(page).to_have_url(re.compile(r"/pages/witness_care$"))
    for question in ("willing_to_attend",):
        choose(page, question, "yes")
    for question in ("special_measures_needed", "particular_needs"):
        choose(page, question, "no")
    next_page(page)

    expect(page).to_have_url(re.compile(r"/pages/consent$"))
    for question in ("consent_witness_leaflet", "consent_medical_access", "consent_other_proceedings"):
        choose(page, question, "no")
    sign(page, "consent_signature", js=js)
    next_page(page)

    expect(page).to_have_url(re.compile(r"/check$"))
    main = page.locator("main")
    expect(main).to_contain_text("Shop manager")
    expect(main).to_contain_text("SP/1")
    expect(page.locator("#error-summary")).to_have_count(0)
    page.get_by_role("button", name=re.compile("submit|send", re.IGNORECASE)).click()
    page.wait_for_url("**/submissions/*")

    submission_id = page.url.rsplit("/", 1)[1]
    with server.db.session(write=False) as session:
        stored = session.get(Submission, submission_id)
        assert stored is not None
        assert stored.form_name == "witness_statement"
        assert stored.answers["occupation"] == "Shop manager"
        assert stored.answers["exhibits"][0]["exhibit_ref"] == "SP/1"
        photo_shas = [p["sha256"] for p in stored.answers["exhibits"][0]["exhibit_photos"]]
        assert stored.answers["witness_signature"]["content_type"] == "image/png"
        assert all(session.get(Attachment, sha) is not None for sha in photo_shas)
        reference = stored.reference
    expect(page.locator("main")).to_contain_text(reference)
    # The statement document lists each exhibit photo's SHA-256, which is the stored bytes' hash.
    assert len(set(photo_shas)) == 2
    assert {hashlib.sha256(server.ctx.attachments.open(sha)).hexdigest() for sha in photo_shas} == set(
        photo_shas
    )
    page.get_by_role("link", name=re.compile("statement document", re.IGNORECASE)).wait_for()
    document = page.request.get(f"{server.url}/submissions/{submission_id}/statement.pdf")
    assert document.status == 200
    assert document.body().startswith(b"%PDF")
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(document.body())
    pdftotext = shutil.which("pdftotext") or "/usr/bin/pdftotext"  # poppler-utils, installed by .ci/run
    done = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    for sha in photo_shas:
        assert sha in done.stdout


def test_a_sergeant_claims_and_completes_a_review(server: LiveServer, page: Page) -> None:
    """A domestic-abuse crime report waits for a sergeant, who signs in, claims it from the inbox,
    completes the review form, and the workflow carries on to record the crime."""
    answers = scenario_answers("response", "crime_domestic_abuse_review")
    submission_id = submit_in_process(server, "pc.smith", "response", "crime_report", answers)
    task_id = wait_for_task(server, submission_id)

    log_in(page, "sgt.jones", next_path="/tasks")
    expect(page).to_have_url(re.compile(r"/tasks$"))
    page.locator(f"a[href='/tasks/{task_id}']").first.click()
    expect(page.locator("main")).to_contain_text("Orchard Close")  # the case: the officer's answers
    page.get_by_role("button", name="Claim").first.click()
    page.wait_for_load_state("load")
    form = page.locator(f"form[action='/tasks/{task_id}/complete']")
    expect(form).to_have_count(1)
    # The runtime has read the form JSON (it adds the _js field): answers now update the page live.
    form.locator("input[name='_js']").wait_for(state="attached")
    fill(page, {"reviewer_name": "Alex Jones", "reviewer_collar": "2210"})
    choose(page, "recording_decision", "crime")
    choose(page, "classification_correct", "yes")  # shown live once "crime" is chosen
    choose(page, "safeguarding_actions", "dash")
    choose(page, "victim_contact_safe", "no")
    form.locator("button[type=submit], button:not([type])").last.click()
    page.wait_for_load_state("load")
    with server.db.session(write=False) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert task.state == "completed", page.locator("main").inner_text()[:1500]
        assert (task.result or {}).get("recording_decision") == "crime"
    # The worker carries on: the crime goes to the records system (the fake back-end).
    deadline = time.monotonic() + 30
    while not any(path.startswith("/crimes") for path, _, _ in server.backend.requests):
        assert time.monotonic() < deadline, f"no call to /crimes: {server.backend.requests}"
        time.sleep(0.1)
