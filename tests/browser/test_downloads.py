"""The ``web`` benchmark's page-weight figure counts exactly what Chromium downloads.

``bench/web.py`` finds a page's files by reading its HTML (stylesheets, scripts, images and the
form JSON the runtime fetches); this checks that list against the requests a fresh iPad mini
makes for the witness statement's first page, so the published figure leaves nothing out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page

from bench.web import page_files
from tests.browser.conftest import LiveServer, new_context, sign_in_cookie
from tests.browser.helpers import start_draft


def test_the_benchmark_counts_every_file_a_tablet_fetches(
    server: LiveServer, browser: Browser, page: Page
) -> None:
    """Every request of a cold load of the page is in the benchmark's list, and nothing more."""
    sign_in_cookie(page.context, server, "pc.smith")
    start_draft(page, "response", "witness_statement")
    url = page.url
    cold = new_context(browser, server)
    try:
        sign_in_cookie(cold, server, "pc.smith")
        tab = cold.new_page()
        fetched: list[str] = []
        tab.on("requestfinished", lambda r: fetched.append(urlsplit(r.url).path))
        response = tab.goto(url)
        assert response is not None
        assert response.status == 200
        tab.wait_for_load_state("networkidle")
        html = response.text()
    finally:
        cold.close()
    files = {urlsplit(link).path for link in page_files(html)}
    assert len(files) >= 3, files  # stylesheet, script, form JSON at least
    assert set(fetched) - {urlsplit(url).path} == files
