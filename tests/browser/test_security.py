"""In a real browser: the security headers arrive, and the Content-Security-Policy is enforced.

Server-side tests check that the headers are sent; these check what Chromium receives and does:
an inline script is refused (with a ``securitypolicyviolation`` event), and script payloads
reflected by the app are shown as text and never run.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response

from engine._web import CONTENT_SECURITY_POLICY
from tests.browser.conftest import LiveServer, new_context, sign_in_cookie
from tests.browser.helpers import ENABLERS, STARTABLE, page_ids, save_answer, start_draft

SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror="window.__pwned=1">'
PAYLOADS = (SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD)

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def not_pwned(page: Page) -> bool:
    """True when no payload has run in ``page`` (nor in any frame of it)."""
    return all(frame.evaluate("typeof window.__pwned === 'undefined'") for frame in page.frames)


def check_headers(response: Response | None, url: str) -> None:
    assert response is not None, f"no response for {url}"
    headers = response.headers
    for name, value in EXPECTED_HEADERS.items():
        assert headers.get(name) == value, f"{url}: {name} is {headers.get(name)!r}"
    # Served over plain http on loopback: HSTS would be wrong here (it is sent over https only).
    assert "strict-transport-security" not in headers, url


@pytest.mark.parametrize(
    "path",
    ["/preview/", "/preview/d/response/forms/witness_statement", "/no/such/page", "/healthz"],
)
def test_security_headers_reach_the_browser(
    server: LiveServer, context: BrowserContext, page: Page, path: str
) -> None:
    """Pages, error pages and JSON all arrive with the strict CSP and the other headers."""
    sign_in_cookie(context, server, "pc.smith")
    check_headers(page.goto(path), path)


def test_static_files_carry_the_headers_too(server: LiveServer, context: BrowserContext, page: Page) -> None:
    """The stylesheet and the script a page links to arrive with the same headers."""
    sign_in_cookie(context, server, "pc.smith")
    seen: dict[str, Response] = {}

    def note(response: Response) -> None:
        seen.setdefault(response.url.split("?")[0].rsplit("/", 1)[-1], response)

    page.on("response", note)
    page.goto("/preview/")
    page.wait_for_load_state("networkidle")
    assert "waypost.css" in seen, sorted(seen)
    for name, response in seen.items():
        if name.startswith("waypost."):
            check_headers(response, name)
            assert response.status == 200


def test_the_signed_out_redirect_keeps_the_headers(page: Page) -> None:
    """A signed-out visit to a page is sent to sign in; the redirect itself carries the headers."""
    redirects: list[Response] = []
    page.on("response", lambda r: redirects.append(r) if r.status in (302, 303, 307) else None)
    page.goto("/preview/")
    assert redirects, "a signed-out visit was not redirected"
    assert "/login?next=" in (redirects[0].headers.get("location") or "")
    check_headers(redirects[0], "redirect")


def test_an_injected_inline_script_is_refused(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    """A <script> element added to a page does not run: Chromium enforces script-src 'self'."""
    sign_in_cookie(context, server, "pc.smith")
    page.goto("/preview/")
    outcome = page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener('securitypolicyviolation',
                e => resolve('refused ' + e.violatedDirective));
            const s = document.createElement('script');
            s.textContent = 'window.__pwned = 1';
            document.body.appendChild(s);
            setTimeout(() => resolve('no violation reported'), 3000);
        })"""
    )
    assert outcome == "refused script-src-elem"
    assert not_pwned(page)


def test_an_inline_event_handler_is_refused(server: LiveServer, context: BrowserContext, page: Page) -> None:
    """An onerror attribute on an injected image does not run either."""
    sign_in_cookie(context, server, "pc.smith")
    page.goto("/preview/")
    outcome = page.evaluate(
        """() => new Promise(resolve => {
            document.addEventListener('securitypolicyviolation',
                e => resolve('refused ' + e.violatedDirective));
            const holder = document.createElement('div');
            holder.innerHTML = '<img src="/nothing-here.png" onerror="window.__pwned = 1">';
            document.body.appendChild(holder);
            setTimeout(() => resolve('no violation reported'), 3000);
        })"""
    )
    assert outcome.startswith("refused script-src"), outcome
    assert not_pwned(page)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_the_address_is_shown_as_text(
    server: LiveServer, context: BrowserContext, page: Page, payload: str
) -> None:
    """The not-found page repeats the path it was asked for: the payload is text, and never runs."""
    sign_in_cookie(context, server, "pc.smith")
    response = page.goto("/preview/d/" + quote(payload, safe=""))
    assert response is not None
    assert response.status == 404
    assert payload in page.locator("main").inner_text()
    assert page.locator("main script, main img[src='x']").count() == 0
    assert not_pwned(page)


TEXT_LIKE = ", ".join(
    f"{kind}:visible:not([readonly]):not([disabled])"
    for kind in (
        "input[type=text]",
        "input:not([type])",
        "input[type=email]",
        "input[type=tel]",
        "input[type=search]",
        "input[type=url]",
        "textarea",
    )
)


# Parts of a date, time or location: the server keeps only the first few characters of each.
PARTS = (".day", ".month", ".year", ".time", ".lat", ".lon", ".accuracy")


def csp_reports(page: Page) -> list[str]:
    """Console messages in which Chromium reports a refused script (filled in as they happen)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def check_shown(page: Page, page_id: str, expected: dict[str, str]) -> int:
    """Each payload is back in its field as typed (parts of dates and places may be cut short),
    and nothing made of it is in the page or has run; how many fields were checked."""
    checked = 0
    for name, payload in expected.items():
        shown = page.locator(f"[name='{name}']")
        if not shown.count():  # a field may have become irrelevant through another payload
            continue
        value = shown.input_value()
        if name.endswith(PARTS):
            assert len(value) >= 4, f"{page_id}: {name}"
            assert payload.startswith(value), f"{page_id}: {name}"
        else:
            assert value == payload, f"{page_id}: {name}"
        checked += 1
    assert page.locator("img[src='x'], script:not([src])").count() == 0, page_id
    assert not_pwned(page), page_id
    return checked


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize(("username", "department", "form"), STARTABLE)
def test_payloads_typed_into_every_text_field_stay_text(
    server: LiveServer, browser: Browser, username: str, department: str, form: str, js: bool
) -> None:
    """Both payloads, typed into every text-like field of every page: saved and shown again by
    the server, shown again with the page's errors (by the runtime or, without JavaScript, by
    the server) and on the check-answers page, always as text: no element is made from them,
    nothing runs, and the browser never even has to refuse a script."""
    context = new_context(browser, server, java_script_enabled=js)
    try:
        page = context.new_page()
        refused = csp_reports(page)
        sign_in_cookie(context, server, username)
        draft = start_draft(page, department, form)
        if (department, form) in ENABLERS:
            save_answer(page, draft, department, form, *ENABLERS[department, form])
        typed = 0
        for page_id in page_ids(department, form):
            url = f"/drafts/{draft}/pages/{page_id}"
            page.goto(url)
            fields = page.locator(TEXT_LIKE)
            names = [fields.nth(i).get_attribute("name") or "" for i in range(fields.count())]
            expected = {}
            for n, name in enumerate(names):
                field = page.locator(f"[name='{name}']")
                field.fill(PAYLOADS[n % 2])
                limit = field.get_attribute("maxlength")  # the browser keeps only that many characters
                expected[name] = PAYLOADS[n % 2][: int(limit)] if limit else PAYLOADS[n % 2]
            page.locator("button[name='_action'][value='save']").click()  # saved as typed
            page.wait_for_load_state("load")
            page.goto(url)
            typed += check_shown(page, page_id, expected)
            page.locator("[data-wp-continue]").click()
            page.wait_for_load_state("load")
            if urlsplit(page.url).path == url:  # the page again, with its errors
                check_shown(page, page_id, expected)
        assert typed >= 5, f"only {typed} text fields took a payload"
        page.goto(f"/drafts/{draft}/check")
        text = page.locator("main").inner_text()
        assert SCRIPT_PAYLOAD in text
        assert ATTRIBUTE_PAYLOAD in text
        assert page.locator("img[src='x'], script:not([src])").count() == 0
        assert not_pwned(page)
        assert refused == [], refused
    finally:
        context.close()
