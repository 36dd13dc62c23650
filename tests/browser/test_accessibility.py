"""axe-core finds no WCAG 2.2 A or AA violation on the app's pages, on an iPad mini.

axe-core (``node_modules/axe-core``, installed by ``npm ci``) is injected into each page as the
page stands, after its own script has run; the context bypasses CSP only for that injection.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, axe, describe, sign_in_cookie
from tests.browser.helpers import (
    ENABLERS,
    STARTABLE,
    page_ids,
    save_answer,
    scenario_answers,
    start_draft,
    submit_in_process,
    wait_for_task,
)

# Not pages: images and JSON the preview links to.
_NOT_PAGES = (".svg", ".json")


def assert_accessible(page: Page, what: str) -> None:
    """Fail with a readable list when axe-core finds any WCAG 2.2 A/AA violation."""
    violations = axe(page)
    assert not violations, f"{what} ({page.url}):\n{describe(violations)}"


def crawl(page: Page, start: str, prefix: str, limit: int = 60) -> list[str]:
    """Every same-site page under ``prefix`` reachable by links from ``start``, each checked by axe."""
    queue, seen = [start], {start}
    while queue:
        path = queue.pop(0)
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, f"{path}: HTTP {response.status}"
        assert_accessible(page, path)
        hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            parts = urlsplit(href)
            link = parts.path
            if (
                parts.netloc == urlsplit(page.url).netloc
                and link.startswith(prefix)
                and not link.endswith(_NOT_PAGES)
                and link not in seen
            ):
                seen.add(link)
                queue.append(link)
        assert len(seen) <= limit, f"more than {limit} pages under {prefix}: is a link looping?"
    return sorted(seen)


def test_every_preview_page_is_accessible(server: LiveServer, axe_page: Page) -> None:
    """The author preview: the index, each department, each form and each workflow page."""
    sign_in_cookie(axe_page.context, server, "sgt.jones")
    pages = crawl(axe_page, "/preview/", "/preview/")
    # The demo force has 3 departments, 6 forms and 4 workflows: every one was reached.
    assert len([p for p in pages if "/forms/" in p]) == 6, pages
    assert len([p for p in pages if "/workflows/" in p]) == 4, pages
    assert len([p for p in pages if p.count("/") == 3 and p.startswith("/preview/d/")]) == 3, pages


def test_the_error_page_is_accessible(server: LiveServer, axe_page: Page) -> None:
    """The not-found page, as a signed-in officer sees it."""
    sign_in_cookie(axe_page.context, server, "pc.smith")
    response = axe_page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    assert_accessible(axe_page, "not-found page")


def test_axe_finds_violations_when_there_are_some(axe_page: Page) -> None:
    """The check can fail: an unlabelled input, an image without alt text and no lang are reported."""
    axe_page.set_content(
        "<!DOCTYPE html><html><head><title>t</title></head><body><main>"
        "<input type='text'><img src='data:,'></main></body></html>"
    )
    found = {v["id"] for v in axe(axe_page)}
    assert {"label", "image-alt", "html-has-lang"} <= found, found


def test_the_sign_in_page_is_accessible(axe_page: Page) -> None:
    """The sign-in page, as first shown and after a failed attempt (error summary and messages)."""
    axe_page.goto("/login")
    assert_accessible(axe_page, "sign-in page")
    axe_page.get_by_role("button", name="Sign in").click()
    axe_page.wait_for_load_state("load")
    assert axe_page.locator(".error-summary").count() == 1
    assert_accessible(axe_page, "sign-in page with errors")


@pytest.mark.parametrize(("username", "department", "form"), STARTABLE)
def test_every_page_of_a_demo_form_is_accessible(
    server: LiveServer, axe_page: Page, username: str, department: str, form: str
) -> None:
    """Home, each page of the form (its conditional page made relevant), each page's error state,
    and the check-answers page."""
    sign_in_cookie(axe_page.context, server, username)
    axe_page.goto("/")
    assert_accessible(axe_page, "home page")
    draft = start_draft(axe_page, department, form)
    if (department, form) in ENABLERS:
        save_answer(axe_page, draft, department, form, *ENABLERS[department, form])
    errors_seen = 0
    for page_id in page_ids(department, form):
        url = f"/drafts/{draft}/pages/{page_id}"
        axe_page.goto(url)
        assert axe_page.url.endswith(url), f"{page_id} was not shown (sent to {axe_page.url})"
        assert_accessible(axe_page, f"{form} page {page_id}")
        axe_page.locator("[data-wp-continue]").click()
        axe_page.wait_for_load_state("load")
        if axe_page.locator("#error-summary").count():
            errors_seen += 1
            assert_accessible(axe_page, f"{form} page {page_id} with errors")
    assert errors_seen >= 1, "no page of the form showed an error summary when left empty"
    axe_page.goto(f"/drafts/{draft}/check")
    assert_accessible(axe_page, f"{form} check-answers page")


def test_the_inbox_task_and_submission_pages_are_accessible(server: LiveServer, axe_page: Page) -> None:
    """A domestic-abuse crime report goes to a sergeant: the submission page, the inbox, the task
    before and after claiming it."""
    answers = scenario_answers("response", "crime_domestic_abuse_review")
    submission = submit_in_process(server, "pc.smith", "response", "crime_report", answers)
    task = wait_for_task(server, submission)
    sign_in_cookie(axe_page.context, server, "pc.smith")
    axe_page.goto(f"/submissions/{submission}")
    assert_accessible(axe_page, "submission page")
    axe_page.context.clear_cookies()
    sign_in_cookie(axe_page.context, server, "sgt.jones")
    axe_page.goto("/tasks")
    assert axe_page.locator(f"a[href='/tasks/{task}']").count() >= 1
    assert_accessible(axe_page, "inbox")
    axe_page.goto(f"/tasks/{task}")
    assert_accessible(axe_page, "task page")
    axe_page.get_by_role("button", name="Claim").first.click()
    axe_page.wait_for_load_state("load")
    assert_accessible(axe_page, "claimed task page with its form")
