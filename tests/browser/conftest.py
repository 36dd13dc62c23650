"""Real-browser fixtures: the whole app served by uvicorn, Debian's Chromium driven by Playwright.

* ``server`` (session): the real app of ``engine._web.create_app`` over the demo force, a SQLite
  file and an attachments folder in a temporary directory, with its in-process worker, served by
  uvicorn in a background thread on a free loopback port. The demo users of
  ``tests/web/support.py`` exist once it has started (the departments are published by then).
  The workflows' back-ends are loopback fakes (``tests/engine/fakes.py``), named through the
  environment variables the demo force's connections read.
* ``browser`` (session): ``/usr/bin/chromium`` (the Debian package, never a downloaded build),
  launched headless with a fresh profile and no background networking.
* ``context`` / ``page``: an iPad mini (768 x 1024 CSS pixels, 2x, mobile, touch) with the
  app's strict Content-Security-Policy in force. ``axe_page`` is the same device with CSP
  bypassed, only so that axe-core can be injected: never use it for the CSP tests.
* ``axe(page)``: injects ``node_modules/axe-core/axe.min.js`` (``npm ci``) and returns the WCAG
  2.2 A/AA violations of the page as it is.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select
from starlette.applications import Starlette

from engine._database import Database
from engine._principal import COOKIE
from engine._tables import User
from engine._users import open_session
from engine._web import WebConfig, WebContext, create_app
from tests.engine.fakes import FakeBackend
from tests.web.support import DEMO_USERS, PASSWORD, ensure_user

ROOT = Path(__file__).resolve().parents[2]
DEMO_FORCE = ROOT / "examples" / "demo-force"
CHROMIUM = Path(os.environ.get("WAYPOST_CHROMIUM", "/usr/bin/chromium"))
# Headless, no sandbox (CI runs as root), and nothing that reaches outside the machine.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
IPAD_MINI: dict[str, Any] = {
    "viewport": {"width": 768, "height": 1024},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
    "timezone_id": "Europe/London",
}
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
#: Environment variables of the demo force's connections, pointed at loopback fakes.
BACKEND_ENV = ("CRIME_RECORDS_URL", "MASH_URL")
TOKEN_ENV = ("CRIME_RECORDS_TOKEN", "MASH_TOKEN", "SMTP_PASSWORD")


@dataclass
class LiveServer:
    """The app under test: its base ``url``, its shared context and the fake back-end."""

    url: str
    app: Starlette
    backend: FakeBackend

    @property
    def ctx(self) -> WebContext:
        """The app's :class:`~engine._web.WebContext` (database, runtime, store)."""
        ctx: WebContext = self.app.state.waypost
        return ctx

    @property
    def db(self) -> Database:
        """The app's database (the server was started with one)."""
        db = self.ctx.db
        if db is None:
            raise RuntimeError("the live server has no database")
        return db


def _free_socket() -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle's algorithm).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve(app: Starlette, *, timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yields its base URL, stops it on exit."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", server_header=False, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the live server did not start (see the log above)")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo force served for real, with the demo users created."""
    tmp = tmp_path_factory.mktemp("browser")
    with FakeBackend() as backend, pytest.MonkeyPatch.context() as env:
        for name in BACKEND_ENV:
            env.setenv(name, backend.url)
        for name in TOKEN_ENV:
            env.setenv(name, "test-secret")
        config = WebConfig(
            DEMO_FORCE,
            database_url=f"sqlite:///{tmp}/browser.db",
            worker=True,
            attachments=tmp / "attachments",
        )
        app = create_app(config)
        with serve(app) as url:
            live = LiveServer(url, app, backend)
            for username, department, roles in DEMO_USERS:
                ensure_user(live.db, username, department, roles)
            yield live


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, stopped after the browser tests: its event loop must not outlive them
    (the rest of the suite calls asyncio.run)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with a fresh profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
    yield launched
    launched.close()


def new_context(browser: Browser, server: LiveServer, **options: Any) -> BrowserContext:
    """A fresh iPad-mini context on ``server`` (own cookies and storage); ``options`` override."""
    context = browser.new_context(base_url=server.url, **{**IPAD_MINI, **options})
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    """An iPad mini with the app's CSP in force."""
    ctx = new_context(browser, server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab of :func:`context`."""
    return context.new_page()


@pytest.fixture
def axe_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """An iPad-mini tab whose context bypasses CSP, so that axe-core can be injected."""
    ctx = new_context(browser, server, bypass_csp=True)
    yield ctx.new_page()
    ctx.close()


def axe(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.2 A/AA violations axe-core finds on ``page`` as it is now."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` at the repository root (make test does).")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(WCAG_TAGS),
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as readable lines: rule, impact, help and the offending elements."""
    lines = []
    for v in violations:
        targets = "; ".join(str(node["target"]) for node in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


def sign_in_cookie(context: BrowserContext, server: LiveServer, username: str) -> str:
    """Sign ``context`` in as demo user ``username`` without the sign-in page; the CSRF token.

    Used where the sign-in form is not what a test is about (argon2 costs a fraction of a second
    per sign-in); the sign-in page has its own browser test.
    """
    department, roles = next((d, r) for u, d, r in DEMO_USERS if u == username)
    ensure_user(server.db, username, department, roles)
    with server.db.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        opened = open_session(session, user)
    context.add_cookies([{"name": COOKIE, "value": opened.token, "url": server.url}])
    return opened.csrf_token


def log_in(page: Page, username: str, password: str = PASSWORD, *, next_path: str = "/") -> None:
    """Sign in through the real ``/login`` page, as an officer would."""
    page.goto(f"/login?next={next_path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
