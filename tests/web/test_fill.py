"""Filling forms with no JavaScript: every demo form end to end, repeats, files, errors, warnings.

The app runs for real on SQLite (TestClient, the real Runtime and DefinitionStore). A form is
filled the way a browser without JavaScript does it: GET each page, POST its fields as
``multipart/form-data`` with the Continue button, follow the redirect to the next relevant page,
then the check page and Submit. Answers come from the demo force's scenario tests (valid,
realistic answers); files are uploaded as small PNGs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from starlette.exceptions import StarletteDeprecationWarning

from dsl._env import LONDON
from engine._attachments import attachment_shas
from engine._tables import Attachment, Draft, Submission
from engine._web import WebConfig, create_app
from forms import Field, FieldType, Form, Group, Item, Repeat
from tests.web.support import sign_in

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-force"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
FT = FieldType

#: (department, form, scenario file) for each form an officer can start.
DEMO_FORMS = (
    ("response", "witness_statement", "response/tests/witness_statement_to_officer_in_case.yaml"),
    ("response", "crime_report", "response/tests/crime_domestic_abuse_review.yaml"),
    ("public_protection", "child_concern", "public-protection/tests/child_review_closes.yaml"),
    ("investigations", "investigation_update", "investigations/tests/update_cctv_no_attention.yaml"),
)
USERS = {"response": "pc.smith", "public_protection": "pc.evans", "investigations": "dc.patel"}


class Site:
    """The app, its client and helpers to act as an officer."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.ctx = client.app.state.waypost  # type: ignore[attr-defined]
        self.db, self.runtime = self.ctx.require_storage()
        self.csrf = ""

    def be(self, username: str, department: str = "response", roles: tuple[str, ...] = ("officer",)) -> str:
        self.csrf = sign_in(self.client, self.db, username, department, roles).csrf_token
        return self.csrf

    def at(self, when: dt.datetime | None) -> None:
        """Set the runtime's clock (None: the real time)."""
        self.runtime.clock = (lambda: when) if when is not None else (lambda: dt.datetime.now(dt.UTC))

    def start(self, department: str, form: str) -> str:
        """Start a draft; the URL of its first page."""
        response = self.post(f"/forms/{department}/{form}/start", {})
        assert response.status_code == 303, response.text
        return str(response.headers["location"])

    def post(self, url: str, data: Any, files: Any = None, csrf: bool = True) -> Any:
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            pairs.append(("csrf_token", self.csrf))
        body: dict[str, list[str]] = {}
        for key, value in pairs:
            body.setdefault(key, []).extend(value if isinstance(value, list) else [value])
        if files is None:
            # A browser sends the page as multipart (the form has a file input somewhere).
            files = {"_none": ("", b"", "application/octet-stream")}
        return self.client.post(url, data=body, files=files, follow_redirects=False)

    def form(self, department: str, name: str) -> Form:
        with self.db.session() as session:
            return self.runtime.store.current_form(department, name, session=session)[1]

    def run(self) -> int:
        return int(asyncio.run(self.runtime.run_until_idle()))

    def count(self, model: Any, **where: Any) -> int:
        with self.db.session() as session:
            query = select(func.count()).select_from(model)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return int(session.scalar(query) or 0)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("fill")
    config = WebConfig(
        DEMO, database_url=f"sqlite:///{folder}/t.db", worker=False, attachments=folder / "files"
    )
    with TestClient(create_app(config)) as client:
        made = Site(client)
        made.runtime.environ = {}  # back-ends unset: workflow steps that call them fail and retry later
        yield made


def scenario(path: str) -> tuple[dict[str, Any], dt.datetime]:
    data = yaml.safe_load((DEMO / path).read_text(encoding="utf-8"))
    now = data["now"] if isinstance(data["now"], dt.datetime) else dt.datetime.fromisoformat(str(data["now"]))
    return data["answers"], now.astimezone(dt.UTC)


def browser_fields(
    items: tuple[Item, ...], answers: dict[str, Any], prefix: str = ""
) -> tuple[list[tuple[str, str]], list[tuple[str, tuple[str, bytes, str]]]]:
    """What a browser posts for ``items`` with ``answers`` (JSON-shaped, as in a scenario)."""
    data: list[tuple[str, str]] = []
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for item in items:
        path = f"{prefix}{item.id}"
        value = answers.get(item.id)
        if isinstance(item, Group):
            more, extra = browser_fields(item.fields, value or {}, path + ".")
            data += more
            files += extra
        elif isinstance(item, Repeat):
            entries = value or []
            data.append((path + "._count", str(len(entries))))
            for index, entry in enumerate(entries):
                more, extra = browser_fields(item.fields, entry, f"{path}.{index}.")
                data += more
                files += extra
        elif isinstance(item, Field) and item.takes_answer and value is not None and not item.read_only:
            data_, files_ = _field(item, path, value)
            data += data_
            files += files_
    return data, files


def _field(f: Field, path: str, value: Any) -> tuple[list[tuple[str, str]], list[Any]]:
    if f.type is FT.DATE:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return [
            (f"{path}.day", str(day.day)),
            (f"{path}.month", str(day.month)),
            (f"{path}.year", str(day.year)),
        ], []
    if f.type is FT.DATETIME:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        local = when.astimezone(LONDON)
        parts = {"day": local.day, "month": local.month, "year": local.year, "time": f"{local:%H:%M}"}
        return [(f"{path}.{k}", str(v)) for k, v in parts.items()], []
    if f.type is FT.YESNO:
        return [(path, "yes" if value else "no")], []
    if f.type is FT.SELECT_MANY:
        return [(path, v) for v in value], []
    if f.type in (FT.PHOTO, FT.FILE, FT.SIGNATURE):
        records = value if isinstance(value, list) else [value]
        return [], [(path, (r["filename"].replace(".jpg", ".png"), PNG, "image/png")) for r in records]
    if f.type is FT.GEOPOINT:
        return [(f"{path}.{k}", str(v)) for k, v in value.items()], []
    if f.type is FT.TIME and isinstance(value, dt.time):
        return [(path, f"{value:%H:%M}")], []
    if isinstance(value, int) and not isinstance(value, bool) and f.type is FT.TIME:
        minutes = value // 60
        return [(path, f"{minutes // 60:02d}:{minutes % 60:02d}")], []
    return [(path, str(value))], []


def fill(site: Site, department: str, name: str, answers: dict[str, Any]) -> tuple[str, list[str]]:
    """Fill a form page by page; the check page's URL and the pages visited."""
    form = site.form(department, name)
    pages = {p.id: p for p in form.pages}
    url = site.start(department, name)
    visited: list[str] = []
    while "/pages/" in url:
        page_id = url.rsplit("/", 1)[-1]
        visited.append(page_id)
        shown = site.client.get(url)
        assert shown.status_code == 200, shown.text
        data, files = browser_fields(pages[page_id].fields, answers)
        response = site.post(url, [*data, ("_action", "continue")], files or None)
        if response.status_code == 200:  # warnings to acknowledge
            acks = re.findall(r'name="_ack" value="([a-z0-9_]+)"', response.text)
            assert acks, response.text
            data, files = browser_fields(pages[page_id].fields, answers)
            response = site.post(
                url, [*data, *[("_ack", a) for a in acks], ("_action", "continue")], files or None
            )
        assert response.status_code == 303, f"{page_id}: {error_messages(response.text)}"
        url = str(response.headers["location"])
        assert len(visited) <= len(form.pages), visited
    assert url.endswith("/check")
    return url, visited


def error_messages(html: str) -> list[tuple[str, str]]:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', found.group(0)) if found else []


@pytest.mark.parametrize(("department", "name", "path"), DEMO_FORMS, ids=[f[1] for f in DEMO_FORMS])
def test_every_demo_form_fills_checks_and_submits_without_javascript(
    site: Site, department: str, name: str, path: str
) -> None:
    answers, now = scenario(path)
    site.be(USERS[department], department)
    site.at(now)
    try:
        check_url, visited = fill(site, department, name, answers)
        check = site.client.get(check_url)
        assert check.status_code == 200
        assert "Check your answers before submitting" in check.text
        assert not error_messages(check.text), error_messages(check.text)
        assert check.text.count(">Submit</button>") == 1
        assert f'href="/drafts/{check_url.split("/")[2]}/pages/{visited[0]}?return=check#f-' in check.text
        submitted = site.post(check_url.replace("/check", "/submit"), {})
    finally:
        site.at(None)
    assert submitted.status_code == 303, submitted.text
    location = submitted.headers["location"]
    assert location.startswith("/submissions/")
    page = site.client.get(location)
    assert page.status_code == 200
    reference = re.search(r'<strong class="reference">(WP-\d{8}-[A-Z0-9]{8})</strong>', page.text)
    assert reference is not None
    with site.db.session() as session:
        stored = session.get(Submission, location.rsplit("/", 1)[-1])
        assert stored is not None
        assert stored.reference == reference.group(1)
        assert stored.form_name == name
        assert session.get(Draft, check_url.split("/")[2]) is None  # the draft is gone
        # Every file in the answers was uploaded on the pages, and now belongs to the submission.
        shas = attachment_shas(stored.answers)
        rows = session.scalars(select(Attachment).where(Attachment.sha256.in_(shas))).all()
        assert len(rows) == len(shas)
        assert all(row.submission_id == stored.id for row in rows)
        assert len(shas) == len(attachment_shas(answers))  # the scenario's files, as uploads
    assert "Received and started" in page.text
