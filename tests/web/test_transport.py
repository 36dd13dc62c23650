"""What goes over the wire: masked CSRF tokens (BREACH), gzip for pages and bundles, caching."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine._principal import mask_csrf, unmask_csrf
from engine._web import WebConfig, create_app
from tests.web.support import sign_in

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-force"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("transport")
    config = WebConfig(DEMO, database_url=f"sqlite:///{tmp}/t.db", worker=False, attachments=tmp / "files")
    with TestClient(create_app(config)) as running:
        yield running


def test_mask_round_trips_and_differs_each_time() -> None:
    token = "abcDEF123_-xyz"  # noqa: S105 - a made-up token
    first, second = mask_csrf(token), mask_csrf(token)
    assert first != second
    assert token not in first
    assert unmask_csrf(first) == unmask_csrf(second) == token


@pytest.mark.parametrize("junk", ["", "!!!", "abc", "a" * 7, "\u00e9t\u00e9", "AAAA"])
def test_unmask_of_junk_is_none_or_harmless(junk: str) -> None:
    result = unmask_csrf(junk)
    assert result is None or result != "abcDEF123_-xyz"


def _page_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def test_each_page_carries_a_fresh_mask_and_every_one_is_accepted(client: TestClient) -> None:
    app = client.app
    opened = sign_in(client, app.state.waypost.db, "pc.mask", "response")  # type: ignore[attr-defined]
    first, second = _page_token(client.get("/").text), _page_token(client.get("/").text)
    assert first != second
    assert opened.csrf_token not in client.get("/").text  # the real token never appears in a page
    for token in (first, second):
        started = client.post(
            "/forms/response/crime_report/start", data={"csrf_token": token}, follow_redirects=False
        )
        assert started.status_code == 303, started.text
    forged = mask_csrf("not-the-token")
    refused = client.post("/forms/response/crime_report/start", data={"csrf_token": forged})
    assert refused.status_code == 403


def test_pages_and_bundles_are_gzipped_for_clients_that_ask(client: TestClient) -> None:
    sign_in(client, client.app.state.waypost.db, "pc.gzip", "response")  # type: ignore[attr-defined]
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"
    assert "Content-Security-Policy" in page.headers
    css_url = re.search(r'href="(/static/waypost\.css\?v=[0-9a-f]+)"', page.text)
    assert css_url
    packed = client.get(css_url.group(1), headers={"Accept-Encoding": "gzip"})
    plain = client.get(css_url.group(1), headers={"Accept-Encoding": "identity"})
    assert packed.headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.content == plain.content  # httpx decodes: the same bytes either way
    assert packed.headers["vary"] == "Accept-Encoding"
    assert len(gzip.compress(plain.content)) < len(plain.content) / 2
