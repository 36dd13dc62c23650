"""The web app's author preview (`waypost serve`): pages, headers, errors, reload and the server.

Most tests drive the Starlette app in-process with its TestClient and no database (so no
worker); one runs the lifespan with a SQLite file and the worker; one starts the real server as
a subprocess and stops it with SIGTERM.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from engine import _cli_serve
from engine._database import Database
from engine._definitions import DefinitionStore
from engine._registry import PluginRegistry
from engine._sources import DepartmentSources, compile_department
from engine._web import CONTENT_SECURITY_POLICY, WebConfig, create_app
from engine._web_pages import DiagramCache, GraphvizMissing
from tests.engine.fakes import department
from tests.engine.helpers import write
from tests.renderers.test_html import inline_code
from tests.web.support import sign_in

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 package in its TestClient and warns when it finds httpx;
    # httpx is what the project installs, and the warning is not about our code.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-force"

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
    task: {role: supervisor, form: concern}
    next: done
  done: {end: true}
"""


class Links(HTMLParser):
    """The local links (href) and images (src) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and value.startswith("/"):
                self.urls.append(value)


def links(html: str) -> list[str]:
    """Every local URL linked from ``html``."""
    parser = Links()
    parser.feed(html)
    return parser.urls


def client(folder: Path, **options: object) -> TestClient:
    """A client of the app for ``folder`` without a database (no lifespan is run)."""
    return TestClient(create_app(WebConfig(folder, **options)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo() -> TestClient:
    return client(DEMO)


@pytest.fixture(scope="module")
def demo_compiled() -> dict[str, Any]:
    registry = PluginRegistry.from_entry_points()
    found = {}
    for folder in sorted(p for p in DEMO.iterdir() if (p / "department.yaml").is_file()):
        compiled = compile_department(DepartmentSources.read(folder), registry.specs())
        found[compiled.department.id] = compiled
    return found


@pytest.fixture
def ppu(tmp_path: Path) -> Path:
    return department(tmp_path / "force" / "ppu", {"follow_up": FLOW})


def test_every_demo_page_renders(demo: TestClient, demo_compiled: dict[str, Any]) -> None:
    """Every page linked from `/` of the demo force, and from those pages, answers 200 without inline code."""
    seen: set[str] = set()
    queue = ["/preview/"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = demo.get(url)
        assert response.status_code == 200, url
        if response.headers["content-type"].startswith("text/html"):
            assert inline_code(response.text) == [], url
            queue.extend(u.split("#")[0] for u in links(response.text) if u.split("#")[0] not in seen)
    assert any(u.endswith("/diagram.svg") or "/diagram.svg?" in u for u in seen)
    assert any(u.endswith("/schema.json") for u in seen)
    forms = {f"/preview/d/{key}/forms/{name}" for key, c in demo_compiled.items() for name in c.forms}
    flows = {f"/preview/d/{key}/workflows/{name}" for key, c in demo_compiled.items() for name in c.workflows}
    assert forms | flows <= seen
    assert len(forms) >= 6
    assert len(flows) >= 4


def test_index_names_every_department_form_and_workflow(
    demo: TestClient, demo_compiled: dict[str, Any]
) -> None:
    """`/` lists each department with its forms and workflows (linked) and says it has no problems."""
    html = demo.get("/preview/").text
    assert html.count("No problems") == 3
    for key, compiled in demo_compiled.items():
        assert compiled.department.title.en in html
        for name in compiled.forms:
            assert f'href="/preview/d/{key}/forms/{name}"' in html
        for name in compiled.workflows:
            assert f'href="/preview/d/{key}/workflows/{name}"' in html


def test_form_page_shows_the_outline(demo: TestClient, demo_compiled: dict[str, Any]) -> None:
    """A form page names the form, its version and hash, its pages and fields, and links its schema."""
    form = demo_compiled["public_protection"].forms["child_concern"]
    html = demo.get("/preview/d/public_protection/forms/child_concern").text
    assert form.title.en in html
    assert form.content_hash in html
    assert f"<dd>{form.version}</dd>" in html
    for page in form.pages:
        assert f'id="page-{page.id}"' in html
    for item in form.items():
        assert f'id="field-{item.id}"' in html
    assert 'href="/preview/d/public_protection/forms/child_concern/schema.json"' in html
    assert "<code>concern_at &lt;= now()</code>" in html  # an expression, escaped, as code
    assert 'lang="cy"' in html


def test_schema_json_is_the_forms_schema(demo: TestClient, demo_compiled: dict[str, Any]) -> None:
    """`schema.json` is the form's JSON Schema, as JSON."""
    form = demo_compiled["response"].forms["crime_report"]
    response = demo.get("/preview/d/response/forms/crime_report/schema.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(form.json_schema()))


def test_workflow_page_shows_steps_in_order(demo: TestClient, demo_compiled: dict[str, Any]) -> None:
    """A workflow page names its trigger form, shows the diagram as an image, then the steps in order."""
    flow = demo_compiled["public_protection"].workflows["child_concern"]
    html = demo.get("/preview/d/public_protection/workflows/child_concern").text
    assert flow.title in html
    assert 'href="/preview/d/public_protection/forms/child_concern"' in html
    assert (
        f'<img src="/preview/d/public_protection/workflows/child_concern/diagram.svg'
        f'?v={flow.content_hash[:12]}"' in html
    )
    assert "<svg" not in html
    offsets = [html.index(f'id="step-{step}"') for step in flow.steps]
    assert offsets == sorted(offsets)
    assert "immediate_risk" in html  # a route's condition


def test_diagram_is_svg(demo: TestClient) -> None:
    """The diagram is an SVG drawn by Graphviz, cacheable for long when its URL is versioned."""
    page = demo.get("/preview/d/response/workflows/crime_report").text
    (url,) = {u for u in links(page) if "diagram.svg" in u}  # the image, and a link to it
    response = demo.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert "immutable" in response.headers["cache-control"]
    assert "immutable" not in demo.get(url.split("?")[0]).headers["cache-control"]


def test_diagram_without_graphviz_is_503(ppu: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without Graphviz on the PATH the diagram answers 503 with a plain reason; the page still works."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    app = client(ppu)
    response = app.get("/preview/d/ppu/workflows/follow_up/diagram.svg")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert "Graphviz is not installed" in response.text
    assert app.get("/preview/d/ppu/workflows/follow_up").status_code == 200


def test_diagram_cache_draws_each_version_once(monkeypatch: pytest.MonkeyPatch, ppu: Path) -> None:
    """A drawing is kept by content hash: once drawn, it is served even if Graphviz goes away."""
    cache = DiagramCache(size=1)
    dot = "digraph { a -> b }"
    first = cache.svg("v1", dot)
    monkeypatch.setenv("PATH", "")
    assert cache.svg("v1", dot) == first
    with pytest.raises(GraphvizMissing):
        cache.svg("v2", dot)


def test_author_markup_is_escaped(ppu: Path) -> None:
    """An author's `<script>` in a label, a title or a workflow title is shown as text."""
    form = (ppu / "forms" / "concern.yaml").read_text()
    write(
        ppu / "forms" / "concern.yaml", form.replace("label: Full name", 'label: "<script>alert(1)</script>"')
    )
    flow = FLOW.replace("title: Follow up a concern", "title: '<b onmouseover=alert(2)>Follow</b>'")
    write(ppu / "workflows" / "follow_up.yaml", flow)
    app = client(ppu)
    for url in (
        "/preview/d/ppu/forms/concern",
        "/preview/",
        "/preview/d/ppu/workflows/follow_up",
        "/preview/d/ppu",
    ):
        text = app.get(url).text
        assert "<script>alert(1)" not in text, url
        assert "<b onmouseover" not in text, url
        assert inline_code(text) == [], url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in app.get("/preview/d/ppu/forms/concern").text
    assert (
        "&lt;b onmouseover=alert(2)&gt;Follow&lt;/b&gt;" in app.get("/preview/d/ppu/workflows/follow_up").text
    )


@pytest.mark.parametrize(
    "url",
    [
        "/preview/",
        "/healthz",
        "/preview/d/ppu/forms/concern/schema.json",
        "/preview/d/ppu/workflows/follow_up/diagram.svg",
        "/nope",
    ],
)
def test_security_headers_on_every_response(ppu: Path, url: str) -> None:
    """Every response carries the strict CSP, nosniff, no-referrer and DENY; no HSTS over http."""
    response = client(ppu).get(url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers
    assert "server" not in response.headers


def test_hsts_only_over_https(ppu: Path) -> None:
    """HSTS is sent when the request came over https."""
    app = create_app(WebConfig(ppu))
    response = TestClient(app, base_url="https://preview.example").get("/preview/")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_server_error_is_a_page_with_headers(ppu: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug while rendering gives a 500 page with the security headers and no traceback."""
    app = create_app(WebConfig(ppu))

    def broken() -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.waypost.preview, "state", broken)
    response = TestClient(app, raise_server_exceptions=False).get("/preview/")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Sorry, there is a problem" in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_static_stylesheet_is_cached_by_version(demo: TestClient) -> None:
    """The stylesheet URL carries its content hash and is cached for a year; a stale one is not."""
    (href,) = [u for u in links(demo.get("/preview/").text) if u.startswith("/static/")]
    response = demo.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert demo.get("/static/waypost.css?v=old").headers["cache-control"] == "no-cache"
    again = demo.get(href, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert demo.get("/static/nothing.css").status_code == 404


def test_not_found_as_html_and_json(ppu: Path) -> None:
    """Unknown departments, forms, workflows and paths are 404: a page, or JSON when asked for."""
    app = client(ppu)
    cases = {
        "/preview/d/cid": "no department 'cid'",
        "/preview/d/ppu/forms/missing": "no form 'missing'",
        "/preview/d/ppu/workflows/missing": "no workflow 'missing'",
        "/preview/d/ppu/workflows/missing/diagram.svg": "no workflow 'missing'",
        "/elsewhere": "no page at /elsewhere",
    }
    for url, message in cases.items():
        page = app.get(url)
        assert page.status_code == 404, url
        assert page.headers["content-type"].startswith("text/html")
        assert message in unescape(page.text)
        assert inline_code(page.text) == []
        data = app.get(url, headers={"Accept": "application/json"})
        assert data.status_code == 404
        assert data.json()["error"]["code"] == "not_found"
        assert message in data.json()["error"]["message"]
    schema = app.get("/preview/d/ppu/forms/missing/schema.json")
    assert schema.status_code == 404
    assert schema.json()["error"]["code"] == "not_found"


def test_healthz(demo: TestClient) -> None:
    """`/healthz` answers {"status": "ok"}."""
    response = demo.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_reload_shows_an_edited_form(ppu: Path) -> None:
    """With reload on, a form edited on disk is shown changed at the next request."""
    app = client(ppu.parent, reload=True)
    assert "Full name" in app.get("/preview/d/ppu/forms/concern").text
    form = ppu / "forms" / "concern.yaml"
    write(form, form.read_text().replace("label: Full name", "label: Full legal name"))
    assert "Full legal name" in app.get("/preview/d/ppu/forms/concern").text


def test_reload_shows_positioned_errors_then_recovers(ppu: Path) -> None:
    """A broken form shows its file:line:col error on its page and on `/`; fixing it clears both."""
    app = client(ppu.parent, reload=True)
    assert "No problems" in app.get("/preview/").text
    form = ppu / "forms" / "concern.yaml"
    good = form.read_text()
    write(form, good.replace("type: date", "type: dat"))
    line = next(n for n, text in enumerate(form.read_text().splitlines(), 1) if "type: dat," in text)
    where = f"{form}:{line}:"
    positioned = re.compile(re.escape(where) + r"\d+: error: unknown field type")
    page = app.get("/preview/d/ppu/forms/concern")
    assert page.status_code == 422
    assert positioned.search(unescape(page.text))
    assert "unknown field type &#39;dat&#39;" in page.text
    assert "did you mean &#39;date&#39;" in page.text
    index = app.get("/preview/").text
    assert re.search(r'<strong class="tag tag--red">\d+ problems?</strong>', index)
    assert positioned.search(unescape(index))
    assert app.get("/preview/d/ppu/workflows/follow_up").status_code == 422  # the department cannot load
    schema = app.get("/preview/d/ppu/forms/concern/schema.json")
    assert schema.status_code == 422
    assert schema.json()["error"]["code"] == "definition_error"
    assert app.get("/preview/d/ppu/forms/other").status_code == 404  # no such file: still not found
    write(form, good)
    assert "No problems" in app.get("/preview/").text
    assert app.get("/preview/d/ppu/forms/concern").status_code == 200


def test_reload_off_keeps_the_first_reading(ppu: Path) -> None:
    """Without reload, definitions are read once: edits are not seen until a restart."""
    app = client(ppu)
    assert "Full name" in app.get("/preview/d/ppu/forms/concern").text
    form = ppu / "forms" / "concern.yaml"
    write(form, form.read_text().replace("label: Full name", "label: Full legal name"))
    assert "Full legal name" not in app.get("/preview/d/ppu/forms/concern").text


def test_a_removed_folder_is_a_problem_not_a_crash(ppu: Path) -> None:
    """When the served folder loses every department, `/` says so instead of failing."""
    app = client(ppu.parent, reload=True)
    assert app.get("/preview/d/ppu").status_code == 200
    for file in sorted(ppu.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    ppu.rmdir()
    response = app.get("/preview/")
    assert response.status_code == 200
    assert "No definitions to show" in response.text
    assert app.get("/preview/d/ppu").status_code == 404


def test_a_loader_bug_is_shown_not_raised(ppu: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error while compiling a department is shown as its problem; pages still answer."""

    def crash(*args: object, **kwargs: object) -> object:
        raise RecursionError("too deep")

    monkeypatch.setattr("engine._web_preview.compile_department", crash)
    app = client(ppu.parent)
    index = app.get("/preview/")
    assert index.status_code == 200
    assert "RecursionError: too deep" in index.text
    assert "bug in Waypost" in index.text
    assert app.get("/preview/d/ppu/forms/concern").status_code == 422


def test_template_override_folder(ppu: Path, tmp_path: Path) -> None:
    """`--templates` pages replace the built-in ones of the same name; the others stay."""
    templates = tmp_path / "templates"
    write(
        templates / "index.html",
        '{% extends "base.html" %}{% block content %}<p>Wessex look</p>{% endblock %}',
    )
    app = client(ppu, templates=templates)
    assert "Wessex look" in app.get("/preview/").text
    assert "Full name" in app.get("/preview/d/ppu/forms/concern").text


def test_lifespan_publishes_and_runs_the_worker(
    ppu: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With a database, start-up migrates, publishes and starts the worker; shutdown stops the worker."""
    url = f"sqlite:///{tmp_path / 'waypost.db'}"
    app: Starlette = create_app(WebConfig(ppu, database_url=url))
    with caplog.at_level(logging.INFO), TestClient(app) as running:
        assert running.get("/healthz").json() == {"status": "ok"}
        assert any("started" in r.getMessage() for r in caplog.records if r.name == "waypost.worker")
    assert any("stopped" in r.getMessage() for r in caplog.records if r.name == "waypost.worker")
    db = Database(url)
    try:
        release = DefinitionStore(db, PluginRegistry.from_entry_points().specs()).release("ppu")
        assert set(release.forms) == {"concern"}
        assert set(release.workflows) == {"follow_up"}
    finally:
        db.dispose()


def test_no_worker_still_publishes(ppu: Path, sqlite_db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """With the worker off, start-up still publishes, and no worker starts."""
    app = create_app(WebConfig(ppu, database_url=sqlite_db.url, worker=False))
    with caplog.at_level(logging.INFO), TestClient(app):
        pass
    assert not [r for r in caplog.records if r.name == "waypost.worker"]
    assert set(DefinitionStore(sqlite_db, {}).release("ppu").forms) == {"concern"}


def test_reload_publishes_an_edited_department(ppu: Path, sqlite_db: Database) -> None:
    """With reload and a database, an edited department that loads becomes the current release."""
    app = create_app(WebConfig(ppu, database_url=sqlite_db.url, worker=False, reload=True))
    store = DefinitionStore(sqlite_db, {})
    with TestClient(app) as running:
        sign_in(running, sqlite_db, "author", "ppu")
        first = store.release("ppu").forms["concern"]
        form = ppu / "forms" / "concern.yaml"
        write(form, form.read_text().replace("label: Full name", "label: Full legal name"))
        assert "Full legal name" in running.get("/preview/d/ppu/forms/concern").text
        second = store.release("ppu").forms["concern"]
    assert second != first
    assert store.form(second).fields_by_id["full_name"].label.en == "Full legal name"  # type: ignore[union-attr]


def test_two_folders_with_one_department_id(tmp_path: Path) -> None:
    """When two folders define the same department id, the second is served under its folder name."""
    force = tmp_path / "force"
    department(force / "ppu", {})
    department(force / "ppu_copy", {})
    app = client(force)
    assert app.get("/preview/d/ppu").status_code == 200
    assert app.get("/preview/d/ppu_copy/forms/concern").status_code == 200


# The command -----------------------------------------------------------------------------------


def test_serve_help_documents_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """`waypost serve --help` names every option, the default address and the database default."""
    assert _cli_serve.main(["serve", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("DIR", "--database URL", "--host", "--port", "--reload", "--no-worker", "--templates DIR"):
        assert option in text
    assert "127.0.0.1" in text
    assert "sqlite:///var/waypost.db" in text


def test_waypost_cli_has_serve() -> None:
    """The `waypost` parser (engine/cli.py) offers `serve`: `_cli_serve.register(commands)` is wired in."""
    from engine.cli import build_parser

    help_text = build_parser().format_help()
    assert "serve" in help_text, "engine/cli.py build_parser() must call _cli_serve.register(commands)"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["serve", "{tmp}/missing"], 2, "no such folder"),
        (["serve", "{tmp}/empty"], 1, "no department found"),
        (["serve", "{force}", "--database", "mysql://x/y"], 1, "unsupported database"),
        (["serve", "{force}", "--database", "sqlite:///{tmp}/nowhere/w.db"], 1, "does not exist"),
        (["serve", "{force}", "--templates", "{tmp}/none"], 2, "template folder does not exist"),
        (["serve", "{force}", "--port", "99999"], 2, "port from 1 to 65535"),
    ],
)
def test_serve_refuses_bad_arguments(
    ppu: Path, tmp_path: Path, argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad folders, database URLs, template folders and ports are one-line errors, not tracebacks."""
    (tmp_path / "empty").mkdir()
    args = [a.format(tmp=tmp_path, force=ppu.parent) for a in argv]
    assert _cli_serve.main(args) == code
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_serve_refuses_a_port_in_use(ppu: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A port already taken is one line, before the database is touched."""
    url = f"sqlite:///{tmp_path / 'never.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = _cli_serve.main(["serve", str(ppu), "--port", str(port), "--database", url])
    assert code == 1
    assert f"port {port}: it is in use" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()


def test_default_database_is_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database URL is --database, else $WAYPOST_DATABASE_URL, else var/waypost.db."""
    monkeypatch.delenv("WAYPOST_DATABASE_URL", raising=False)
    assert _cli_serve.database_url(None) == "sqlite:///var/waypost.db"
    monkeypatch.setenv("WAYPOST_DATABASE_URL", "sqlite:///env.db")
    assert _cli_serve.database_url(None) == "sqlite:///env.db"
    assert _cli_serve.database_url("sqlite:///given.db") == "sqlite:///given.db"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a loopback http URL
        return response.status, response.read()


@pytest.fixture
def server(ppu: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    port = _free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "engine._cli_serve", "serve", str(ppu.parent), "--port", str(port)]
    command += ["--database", f"sqlite:///{tmp_path / 'serve.db'}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield proc, f"http://127.0.0.1:{port}", log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.slow
def test_real_server_answers_and_stops_on_sigterm(server: tuple[subprocess.Popen[bytes], str, Path]) -> None:
    """`waypost serve` in a process answers /healthz and pages, then exits 0 within 10 s of SIGTERM."""
    proc, base, log = server
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, f"the server exited early:\n{log.read_text()}"
        try:
            status, body = _get(base + "/healthz")
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                pytest.fail(f"no answer from {base}/healthz within 30 s:\n{log.read_text()}")
            time.sleep(0.2)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body = _get(base + "/static/waypost.css")
    assert status == 200
    assert b"font" in body
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0, log.read_text()
    output = log.read_text()
    assert f"on {base}/" in output
    assert "worker" in output
    assert "stopped" in output  # the worker was stopped gracefully
