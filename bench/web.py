"""Suite ``web``: a form page through the whole app vs bare Starlette, API ingest, tablet bytes.

Targets (DESIGN.md section 8, issue 4):

* **page** - GET of a 30-field form page through the full app (signed in, PostgreSQL, the draft
  page of a one-page form holding the validation suite's 30 fields) at least 0.6x the requests/s
  of bare Starlette returning the same bytes. Each is one uvicorn process with the same settings
  on loopback, loaded by ``wrk`` (one thread, a few connections) in alternating order
  (app, bare, bare, app, ...); the best run of each is compared.
* **ingest** - ``POST /api/v1/submissions`` (token auth, a new ``Idempotency-Key`` each time:
  validate, store, start the workflow) on PostgreSQL with one web process: at least 1,000/s.
  The rows stored are counted afterwards and must match what wrk saw answered.
* **bytes** - what a tablet downloads for the demo witness statement's first page: the HTML and
  every file it links (stylesheet, script, images, the form JSON the script fetches), each gzip
  -9 compressed as a server would send it: at most 20 KB (20,000 bytes).

Wall clock, on the machine as it is: the server, wrk and PostgreSQL share its cores.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import secrets
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import psycopg
import sqlalchemy.exc
from sqlalchemy import func, select

from bench import _web_support as support
from bench._report import BenchError, Column, Config, SuiteResult, Target
from bench._validation_data import FULL
from bench._workflow_support import postgres_schema
from engine._database import Database
from engine._principal import COOKIE
from engine._tables import Submission, User
from engine._users import create_api_token, create_user, open_session

POSTGRES_URL = os.environ.get("WAYPOST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_RESPONSE = Path(__file__).resolve().parent.parent / "examples" / "demo-force" / "response"
PAGE_GOAL, INGEST_GOAL, BYTES_GOAL = 0.6, 1000.0, 20_000
CONNECTIONS = 4

COLUMNS = (
    Column("name", "measure"),
    Column("runs", "runs"),
    Column("requests", "requests"),
    Column("per_second", "req/s", ".0f"),
    Column("raw", "bytes", ".0f"),
    Column("gzip", "gzip -9", ".0f"),
)


class Officer:
    """A signed-in user of the benchmark: their session cookie, CSRF token and API token."""

    def __init__(self, db: Database, department: str) -> None:
        with db.session() as session:
            found = session.scalars(select(User).where(User.username == f"bench.{department}")).first()
            user = found or create_user(
                session,
                f"bench.{department}",
                display_name="Bench Officer",
                department=department,
                roles=("officer",),
                password=secrets.token_urlsafe(16),  # never used: the bench signs in directly
            )
            opened = open_session(session, user)
            self.api_token = create_api_token(session, user, "bench")
        self.cookie = f"{COOKIE}={opened.token}"
        self.csrf = opened.csrf_token

    def client(self, base_url: str) -> httpx.Client:
        """An HTTP client carrying the session cookie."""
        return httpx.Client(base_url=base_url, headers={"Cookie": self.cookie}, timeout=30)


def form_page(client: httpx.Client, officer: Officer, department: str, form: str) -> tuple[str, str]:
    """The URL path of the first page of a new draft of ``form``, and what that page is.

    Falls back to the form's author-preview page when the app cannot start drafts.
    """
    started = client.post(f"/forms/{department}/{form}/start", data={"csrf_token": officer.csrf})
    if started.status_code in (404, 405):
        return f"/preview/d/{department}/forms/{form}", "author-preview page (drafts not served)"
    if started.status_code not in (302, 303):
        raise BenchError(f"starting a draft of {form}: HTTP {started.status_code}: {started.text[:500]}")
    location = started.headers["location"]
    for _ in range(5):  # /drafts/ID redirects to its first page
        reply = client.get(location)
        if reply.status_code not in (302, 303, 307):
            break
        location = reply.headers["location"]
    if reply.status_code != 200:
        raise BenchError(f"the first page of a draft of {form}: HTTP {reply.status_code}")
    return urlsplit(location).path, "draft page"


def same_bytes(client: httpx.Client, app_url: str, bare_url: str, path: str) -> bytes:
    """The page's bytes, checked to be identical from the app (twice) and from bare Starlette."""
    first, again = client.get(app_url + path), client.get(app_url + path)
    bare = httpx.get(bare_url + path, timeout=30)
    for reply in (first, again, bare):
        if reply.status_code != 200:
            raise BenchError(f"GET {reply.url}: HTTP {reply.status_code}")

    # The CSRF token is masked afresh in every page (against BREACH): equal but for that value.
    def unmasked(body: bytes) -> bytes:
        return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token" value=""', body)

    if not unmasked(first.content) == unmasked(again.content) == unmasked(bare.content):
        raise BenchError(f"GET {path} does not return the same bytes every time: the comparison is unfair")
    if len(first.content) != len(bare.content):
        raise BenchError(f"GET {path}: the app and bare Starlette send different sizes")
    return first.content


def measure_page(
    app_url: str, officer: Officer, tmp: Path, config: Config
) -> tuple[list[dict[str, Any]], str]:
    """Rows for the app and for bare Starlette serving the 30-field page, and what the page is."""
    with officer.client(app_url) as client:
        path, kind = form_page(client, officer, "bench", support.FORM)
        body = client.get(path).content
        (tmp / "page.html").write_bytes(body)
        with support.Server(["bare", str(tmp / "page.html")], tmp / "bare.log") as bare:
            same_bytes(client, app_url, bare.url, path)
            seconds, rounds = (1.0, 1) if config.quick else (10.0, 2)
            app_runs: list[support.Load] = []
            bare_runs: list[support.Load] = []
            pair = [(app_url, app_runs), (bare.url, bare_runs)]
            for n in range(rounds):  # app, bare, then bare, app, ...: each goes first as often
                for url, runs in pair if n % 2 == 0 else pair[::-1]:
                    cookie = [f"Cookie: {officer.cookie}"]
                    runs.append(support.run_wrk(url + path, seconds, CONNECTIONS, cookie))
            # Where the time goes: the app's middleware (sessions included) without a page.
            health_runs = [support.run_wrk(app_url + "/healthz", seconds, CONNECTIONS, cookie)]
            health = client.get("/healthz").content
    for label, runs in (("app", app_runs), ("bare", bare_runs), ("healthz", health_runs)):
        if any(r.bad for r in runs):
            raise BenchError(f"{label}: {sum(r.bad for r in runs)} responses were errors or not 2xx/3xx")
    rows = []
    for label, runs, sent in (
        ("GET 30-field page: full app", app_runs, body),
        ("GET same bytes: bare Starlette", bare_runs, body),
        ("GET /healthz: full app (no page)", health_runs, health),
    ):
        best = max(runs, key=lambda r: r.per_second)
        rows.append(
            {
                "name": label,
                "runs": len(runs),
                "requests": best.requests,
                "per_second": best.per_second,
                "raw": len(sent),
                "gzip": len(gzip.compress(sent, 9)),
                "all": [r.per_second for r in runs],
            }
        )
    return rows, kind


def measure_ingest(app_url: str, db: Database, officer: Officer, tmp: Path, config: Config) -> dict[str, Any]:
    """The ingest row: submissions/s through ``POST /api/v1/submissions``, rows counted after."""
    body = json.dumps({"department": "bench", "form": support.FORM, "answers": FULL})
    headers = {"Authorization": f"Bearer {officer.api_token}", "Content-Type": "application/json"}
    first = httpx.post(app_url + "/api/v1/submissions", content=body, headers=headers, timeout=30)
    if first.status_code != 201:
        raise BenchError(f"POST /api/v1/submissions: HTTP {first.status_code}: {first.text[:500]}")
    before = stored(db)
    script = support.post_script(tmp / "post.lua", body, headers)
    load = support.run_wrk(app_url + "/api/v1/submissions", 1.0 if config.quick else 10.0, 8, script=script)
    after = stored(db)
    if load.bad:
        raise BenchError(f"ingest: {load.bad} of {load.requests} submissions were refused or failed")
    # Requests still in flight when wrk stops are completed by the server but not counted by wrk.
    if not load.requests <= after - before <= load.requests + 8:
        raise BenchError(f"ingest: wrk saw {load.requests} answered, the database has {after - before}")
    return {
        "name": "POST /api/v1/submissions (PostgreSQL)",
        "runs": 1,
        "requests": load.requests,
        "per_second": load.per_second,
        "raw": len(body),
        "gzip": None,
    }


def stored(db: Database) -> int:
    """Submissions in the database."""
    with db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Submission)) or 0)


class _Links(HTMLParser):
    """The files a page makes a browser fetch: stylesheets, scripts, images, icons, form JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = (a.get("rel") or "").lower()
        if tag == "link" and ("stylesheet" in rel or "icon" in rel or "preload" in rel):
            self.urls.append(a.get("href") or "")
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"] or "")
        if a.get("data-wp-form-json"):
            self.urls.append(a["data-wp-form-json"] or "")


def page_files(html: str) -> list[str]:
    """The URLs of the files a browser fetches for ``html`` (as written in it), in order, once each."""
    links = _Links()
    links.feed(html)
    return list(dict.fromkeys(u for u in links.urls if u and not u.startswith("data:")))


def measure_bytes(app_url: str, officer: Officer) -> list[dict[str, Any]]:
    """One row per file of the witness statement's first page, and their total."""
    with officer.client(app_url) as client:
        path, kind = form_page(client, officer, "response", "witness_statement")
        html = client.get(path)
        rows: list[dict[str, Any]] = [
            {
                "name": f"witness statement {kind}",
                "raw": len(html.content),
                "gzip": len(gzip.compress(html.content, 9)),
            }
        ]
        for url in page_files(html.text):
            reply = client.get(urljoin(app_url + path, url))
            if reply.status_code != 200:
                raise BenchError(f"{url} linked from the page: HTTP {reply.status_code}")
            rows.append(
                {
                    "name": f"  {urlsplit(url).path}",
                    "raw": len(reply.content),
                    "gzip": len(gzip.compress(reply.content, 9)),
                }
            )
    rows.append(
        {
            "name": "total a tablet downloads",
            "raw": sum(r["raw"] for r in rows),
            "gzip": sum(r["gzip"] for r in rows),
        }
    )
    return rows


def run(config: Config) -> SuiteResult:
    """The suite: page requests/s vs bare Starlette, API ingest/s, witness-statement bytes."""
    result = SuiteResult("web", "web app: page GET vs bare Starlette, API ingest, tablet bytes", COLUMNS)
    if support.wrk_path() is None:
        result.notes.append("wrk is not installed (Debian package wrk): requests/s were not measured")
    with tempfile.TemporaryDirectory(prefix="waypost-bench-web-") as name:
        tmp = Path(name)
        force = tmp / "force"
        support.write_department(force / "bench")
        shutil.copytree(DEMO_RESPONSE, force / "response")
        try:
            with postgres_schema(POSTGRES_URL) as url:
                db = Database(url)
                try:
                    with support.Server(
                        ["app", str(force), url, str(tmp / "attachments")], tmp / "app.log"
                    ) as app:
                        bench_officer, demo_officer = Officer(db, "bench"), Officer(db, "response")
                        if support.wrk_path() is not None:
                            page_rows, kind = measure_page(app.url, bench_officer, tmp, config)
                            result.rows += page_rows
                            result.rows.append(measure_ingest(app.url, db, bench_officer, tmp, config))
                            _page_target(result, page_rows, kind)
                        byte_rows = measure_bytes(app.url, demo_officer)
                finally:
                    db.dispose()
        except (OSError, psycopg.OperationalError, sqlalchemy.exc.OperationalError) as exc:
            raise BenchError(f"PostgreSQL is needed by the web suite: {exc}") from exc
    result.rows += byte_rows
    _targets(result, byte_rows)
    return result


def _page_target(result: SuiteResult, rows: list[dict[str, Any]], kind: str) -> None:
    ratio = rows[0]["per_second"] / rows[1]["per_second"]
    result.targets.append(
        Target(
            "GET 30-field form page: full app vs bare Starlette",
            f">= {PAGE_GOAL}x",
            ratio,
            "x",
            ratio >= PAGE_GOAL,
            f"the form's {kind}; best of each",
        )
    )
    result.extra["page_runs"] = {row["name"]: row.pop("all") for row in rows}


def _targets(result: SuiteResult, byte_rows: list[dict[str, Any]]) -> None:
    ingest = [row for row in result.rows if row["name"].startswith("POST")]
    if ingest:
        rate = ingest[0]["per_second"]
        result.targets.append(
            Target(
                "submission ingest on PostgreSQL, one web process",
                f">= {INGEST_GOAL:,.0f}/s",
                rate,
                "/s",
                rate >= INGEST_GOAL,
                "wrk, 8 connections, no worker running",
            )
        )
    total = byte_rows[-1]["gzip"]
    # The budget names HTML + CSS + JS; the form JSON the script fetches is data, but a
    # tablet downloads it too, so both readings are reported.
    code = sum(r["gzip"] for r in byte_rows[:-1] if not r["name"].strip().endswith(".json"))
    for label, value, what in (
        ("witness statement first page, gzip -9 bytes (HTML + CSS + JS)", code, "the page, its bundles"),
        ("witness statement first page, gzip -9 bytes (all)", total, "HTML + every file it links or fetches"),
    ):
        result.targets.append(Target(label, f"<= {BYTES_GOAL:,}", value, " B", value <= BYTES_GOAL, what))
    result.notes.append(
        f"uvicorn {support.UVICORN['http']} / {support.UVICORN['loop']}, one process per "
        f"server, access log off; wrk 1 thread, {CONNECTIONS} connections for the page"
    )
