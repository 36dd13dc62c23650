"""In a real browser: relevance, calculations and checks happen as the officer types.

``renderers/static/js/20-form.js`` evaluates the form JSON's IR on the page: these tests drive
the demo forms in Chromium and watch the page change without a request, then check that the
server, with JavaScript off, reaches the same verdicts (same messages, same markup).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from engine._web_fill_common import draft_answers
from tests.browser.conftest import LiveServer, new_context, sign_in_cookie
from tests.browser.helpers import page_ids, page_of, save_answer, start_draft

FORM_JS = Path(__file__).resolve().parents[2] / "renderers" / "static" / "js" / "20-form.js"


def ready(page: Page) -> None:
    """Wait until the runtime has read the form JSON (it then adds the ``_js`` field)."""
    page.wait_for_selector("form.wp-form input[name='_js']", state="attached")


def choose(page: Page, input_id: str) -> None:
    """Tick a radio or checkbox the way a finger does: on its (large) label."""
    page.locator(f"label[for='{input_id}']").click()


def watch(page: Page) -> list[Request]:
    """Every request the page makes from now on."""
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    return seen


def summary_links(page: Page) -> list[tuple[str, str]]:
    """The error summary's (href, text) links, in order."""
    links = page.locator("[data-wp-error-summary] a")
    return [(a.get_attribute("href") or "", a.inner_text().strip()) for a in links.all()]


@pytest.fixture
def officer(server: LiveServer, context: BrowserContext, page: Page) -> Page:
    """pc.smith's tab, signed in."""
    sign_in_cookie(context, server, "pc.smith")
    return page


def test_an_answer_reveals_and_hides_questions_without_a_page_load(officer: Page) -> None:
    page = officer
    draft = start_draft(page, "response", "crime_report")
    page.goto(f"/drafts/{draft}/pages/what_happened")
    ready(page)
    weapon, strands = page.locator("#item-weapon_description"), page.locator("#item-hate_strands")
    expect(weapon).to_be_hidden()
    expect(strands).to_be_hidden()
    page.evaluate("window.__same_page = 1")
    requests = watch(page)

    choose(page, "f-weapon_used")  # "Yes"
    expect(weapon).to_be_visible()
    expect(weapon).not_to_have_class(re.compile("wp-irrelevant"))
    choose(page, "f-hate_crime")
    expect(strands).to_be_visible()
    choose(page, "f-weapon_used-2")  # "No"
    expect(weapon).to_be_hidden()
    expect(weapon).to_have_class(re.compile("wp-irrelevant"))

    assert page.evaluate("window.__same_page") == 1, "the page was reloaded"
    assert requests == [], [r.url for r in requests]

    # The server, given the same answers, draws the same page.
    choose(page, "f-weapon_used")
    page.locator("button[name='_action'][value='save']").click()
    page.wait_for_url("**/?saved=*")
    page.goto(f"/drafts/{draft}/pages/what_happened")
    expect(page.locator("#item-weapon_description")).to_be_visible()
    expect(page.locator("#item-hate_strands")).to_be_visible()


def offences(group: str) -> list[str]:
    """The offences of a group in the demo force's shared list, in order."""
    path = Path(__file__).resolve().parents[2] / "examples/demo-force/response/lists/offences.csv"
    with path.open(encoding="utf-8", newline="") as rows:
        return [row["value"] for row in csv.DictReader(rows) if row["group"] == group]


def test_a_drop_down_offers_what_its_filter_allows(officer: Page) -> None:
    """The offence list follows the type of offence as it is chosen (choice_filter)."""
    page = officer
    draft = start_draft(page, "response", "crime_report")
    page.goto(f"/drafts/{draft}/pages/what_happened")
    ready(page)
    requests = watch(page)
    offence, entry = page.locator("#f-offence"), page.locator("#item-point_of_entry")

    def shown() -> list[str]:
        values: list[str] = offence.locator("option").evaluate_all("(os) => os.slice(1).map((o) => o.value)")
        return values

    assert shown() == []  # nothing chosen yet: the filter offers nothing

    page.locator("label", has_text="Burglary").first.click()
    burglaries = offences("burglary")
    assert len(burglaries) >= 2
    expect(offence.locator("option")).to_have_count(len(burglaries) + 1)
    assert shown() == burglaries
    expect(entry).to_be_visible()
    offence.select_option(burglaries[1])

    page.locator("label", has_text="Robbery").first.click()
    # The chosen offence stays offered (as on the server, which then reports it as not listed).
    assert set(shown()) == {*offences("robbery"), burglaries[1]}
    expect(entry).to_be_hidden()
    assert requests == [], [r.url for r in requests]


def test_a_calculation_updates_as_you_type(server: LiveServer, context: BrowserContext, page: Page) -> None:
    """The child's age (a calculation) shows in the item's name and decides a question."""
    sign_in_cookie(context, server, "pc.evans")
    draft = start_draft(page, "public_protection", "child_concern")
    page.goto(f"/drafts/{draft}/pages/{page_of('public_protection', 'child_concern', 'children')}")
    ready(page)
    requests = watch(page)
    legend = page.locator("[data-wp-entry='children.0'] > legend")
    school = page.locator("#item-children-0-child_school")
    expect(school).to_be_hidden()

    choose(page, "f-children-0-child_unborn-2")  # "No": born
    page.locator("#f-children-0-child_family_name").fill("Smith")
    page.locator("#f-children-0-child_given_names").fill("Amy")
    expect(legend).to_have_text("Item 1: Amy SMITH")
    today = dt.date.today()
    page.locator("#f-children-0-child_dob").fill("1")
    page.locator("#f-children-0-child_dob-month").fill("1")
    page.locator("#f-children-0-child_dob-year").fill(str(today.year - 10))
    expect(legend).to_have_text("Item 1: Amy SMITH, 10")
    expect(school).to_be_visible()  # relevant: child_age >= 2

    page.locator("#f-children-0-child_dob-year").fill(str(today.year - 1))
    expect(legend).to_have_text(re.compile(r"^Item 1: Amy SMITH, [01]$"))
    expect(school).to_be_hidden()
    assert requests == [], [r.url for r in requests]


def test_a_missed_answer_is_reported_before_any_request(officer: Page) -> None:
    page = officer
    draft = start_draft(page, "response", "crime_report")
    page.goto(f"/drafts/{draft}/pages/report")
    ready(page)
    requests = watch(page)

    # A wrong answer is reported when the officer leaves the field...
    page.locator("#f-officer_collar").fill("12ab")
    page.locator("#f-officer_unit").focus()
    error = page.locator("#f-officer_collar-error")
    expect(error).to_have_text("Error: Enter your collar or warrant number using numbers only")
    assert "f-officer_collar-error" in (
        page.locator("#f-officer_collar").get_attribute("aria-describedby") or ""
    )
    # ...and cleared as soon as it is put right.
    page.locator("#f-officer_collar").fill("4127")
    expect(error).to_have_count(0)
    expect(page.locator("#item-officer_collar")).not_to_have_class(re.compile("field--error"))

    page.locator("button[data-wp-continue]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.get_attribute("role") == "alert"
    assert summary_links(page) == [
        ("#f-how_reported", "Select how this was reported"),
        ("#f-officer_name", "Enter your full name"),
    ]
    expect(page.locator("#f-how_reported-error")).to_have_text("Error: Select how this was reported")
    expect(page.locator("#item-how_reported")).to_have_class(re.compile("field--error"))
    expect(page.locator("#f-officer_name")).to_have_class(re.compile("input--error"))
    assert page.title().startswith("Error: ")
    assert [r for r in requests if r.method == "POST"] == []
    assert requests == [], [r.url for r in requests]

    page.locator("#error-summary a[href='#f-officer_name']").click()
    expect(page.locator("#f-officer_name")).to_be_focused()

    # Put right, the page posts and the server moves on.
    page.locator("#f-officer_name").fill("PC Sam Smith")
    choose(page, "f-how_reported")
    expect(page.locator("#f-how_reported-error")).to_have_count(0)
    page.locator("button[data-wp-continue]").click()
    page.wait_for_url(f"**/drafts/{draft}/pages/what_happened")


def fill_report_page(page: Page) -> None:
    page.locator("#f-officer_collar").fill("12ab")
    page.locator("#f-cad_reference").fill("412")
    page.locator("#f-officer_unit").fill("Response Team 3")


def fill_what_happened_page(page: Page) -> None:
    for part, value in (("", "1"), ("-month", "1"), ("-year", "2099"), ("-time", "10:00")):
        page.locator(f"#f-offence_from{part}").fill(value)  # in the future: the constraint
    page.locator("#f-circumstances").fill("Too short")  # min_length 30


FILLERS = {"report": fill_report_page, "what_happened": fill_what_happened_page}


def errors_shown(page: Page) -> dict[str, str]:
    """Inline errors by field wrapper id, as drawn (with the wrapper's and input's classes)."""
    found = {}
    for wrapper in page.locator(".field--error").all():
        wid = wrapper.get_attribute("id") or ""
        message = wrapper.locator(".error-message").inner_text().strip()
        found[wid] = message
        assert wrapper.locator(".input--error, input[type=radio]").count() > 0, wid
    return found


@pytest.mark.parametrize("page_id", sorted(FILLERS))
def test_with_javascript_off_the_server_reports_the_same(
    server: LiveServer, browser: Browser, officer: Page, page_id: str
) -> None:
    """The same page with JavaScript off still posts, and the server's errors match the runtime's:
    same links, same messages, same inline markup."""
    page, fill = officer, FILLERS[page_id]
    draft = start_draft(page, "response", "crime_report")
    page.goto(f"/drafts/{draft}/pages/{page_id}")
    ready(page)
    fill(page)
    requests = watch(page)
    page.locator("button[data-wp-continue]").click()
    expect(page.locator("#error-summary")).to_be_focused()
    live_links, live_errors = summary_links(page), errors_shown(page)
    assert requests == [], "the runtime let a page with errors post"
    assert len(live_links) >= 3

    plain = new_context(browser, server, java_script_enabled=False)
    try:
        sign_in_cookie(plain, server, "pc.smith")
        tab = plain.new_page()
        tab.goto(f"/drafts/{draft}/pages/{page_id}")
        assert tab.locator("input[name='_js']").count() == 0
        fill(tab)
        posts = watch(tab)
        with tab.expect_navigation():
            tab.locator("button[data-wp-continue]").click()
        assert [r.method for r in posts if r.resource_type == "document"] == ["POST"]
        assert tab.url.endswith(f"/drafts/{draft}/pages/{page_id}")
        assert summary_links(tab) == live_links
        assert errors_shown(tab) == live_errors
        assert tab.title().startswith("Error: ")
    finally:
        plain.close()


def test_the_runtime_runs_no_text_as_code(server: LiveServer, officer: Page) -> None:
    """No eval, no Function, no HTML parsing in 20-form.js; and the page bundle carries it."""
    source = FORM_JS.read_text("utf-8")
    for banned in (
        "eval(",
        "Function(",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "setTimeout(",
        "setInterval(",
    ):
        assert banned not in source, banned
    assert not re.search(r"\.on[a-z]+\s*=", source), "event handler properties instead of listeners"
    bundle = officer.request.get("/static/waypost.js")
    assert bundle.ok
    assert "Waypost.form=" in bundle.text().replace(" ", "")


# What the server drew: the paths of hidden items and the names of repeat items.
_WRAPPER = re.compile(r"<[^>]*\sdata-wp-path=\"([^\"]+)\"[^>]*>")
_LEGEND = re.compile(r"data-wp-entry=\"([^\"]+)\">\s*<legend[^>]*>([^<]*)</legend>")
_DRAWN = """() => {
  const all = (s) => [...document.querySelectorAll(s)];
  return {
    hidden: all('[data-wp-path]').filter((e) => e.hidden).map((e) => e.dataset.wpPath),
    legends: Object.fromEntries(
      all('[data-wp-entry]').map((e) => [e.dataset.wpEntry, e.firstElementChild.textContent])),
  };
}"""


def drawn_by_server(text: str) -> dict[str, object]:
    hidden = [m[1] for m in _WRAPPER.finditer(text) if re.search(r"\shidden(?=[\s>])", m[0])]
    legends = {path: html.unescape(legend) for path, legend in _LEGEND.findall(text)}
    return {"hidden": sorted(hidden), "legends": legends}


def drawn_by_runtime(page: Page) -> dict[str, object]:
    found = page.evaluate(_DRAWN)
    return {"hidden": sorted(found["hidden"]), "legends": found["legends"]}


def test_the_runtime_draws_every_page_as_the_server_does(
    server: LiveServer, context: BrowserContext, page: Page
) -> None:
    """On load the runtime's relevance and item names agree with the server's, page by page."""
    sign_in_cookie(context, server, "pc.smith")
    draft = start_draft(page, "response", "crime_report")
    for field, value in (("weapon_used", "yes"), ("hate_crime", "no"), ("any_suspects", "yes")):
        save_answer(page, draft, "response", "crime_report", field, value)
    page.goto(f"/drafts/{draft}/pages/suspects_page")
    choose(page, "f-suspects-0-suspect_named")
    page.locator("#f-suspects-0-suspect_name").fill("Jo Bloggs")
    page.locator("button[name='_action'][value='save']").click()
    page.wait_for_url("**/?saved=*")
    compared = 0
    for page_id in page_ids("response", "crime_report"):
        url = f"/drafts/{draft}/pages/{page_id}"
        served = page.request.get(url)
        if not served.ok or not served.url.endswith(url):
            continue  # a page that is not asked
        page.goto(url)
        ready(page)
        assert drawn_by_runtime(page) == drawn_by_server(served.text()), page_id
        compared += 1
    assert compared >= 8
    page.goto(f"/drafts/{draft}/pages/suspects_page")
    expect(page.locator("[data-wp-entry='suspects.0'] > legend")).to_have_text(
        "Item 1: Jo Bloggs – outstanding"
    )


def _tick_repeat_victim(page: Page) -> None:
    page.locator("label[for^='f-vulnerability_factors']", has_text="Has been targeted before").click()


def test_answers_on_other_pages(server: LiveServer, context: BrowserContext, page: Page) -> None:
    """Relevance that reads other pages' answers is worked out live too: the page carries the
    draft's answers of its other pages (``data-wp-answers``), and no request is made."""
    sign_in_cookie(context, server, "pc.smith")
    draft = start_draft(page, "response", "crime_report")
    for field, value in (("domestic_abuse", "no"), ("hate_crime", "no"), ("victim_type", "person")):
        save_answer(page, draft, "response", "crime_report", field, value)
    needs = f"/drafts/{draft}/pages/needs"
    page.goto(needs)
    ready(page)
    carried = json.loads(page.locator("form[data-wp-answers]").get_attribute("data-wp-answers") or "null")
    assert carried["hate_crime"] == "no"
    assert carried["victim_type"] == "person"
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    details, note = page.locator("#item-needs_details"), page.locator("#item-enhanced_note")
    expect(note).to_be_hidden()
    _tick_repeat_victim(page)
    expect(details).to_be_visible()  # reads only this page
    expect(note).to_be_visible()  # enhanced_service also reads earlier pages' answers
    expect(page.locator("#item-child_victim_referral")).to_be_hidden()
    _tick_repeat_victim(page)
    expect(note).to_be_hidden()
    assert posts == []


#: (field id, raw answer as the page posts it) for the reader cross-check, crime report fields.
READ_CASES: list[tuple[str, object]] = [
    *(("suspect_age_from", v) for v in ("5", "50", "101", " 42 ", "1.0", "abc", "12,000", "1.5", "")),
    *(("suspect_height_cm", v) for v in ("99", "231", "178")),
    *(("prop_value", v) for v in ("-1", "249.99", "0", "£5")),
    *(("officer_collar", v) for v in ("12ab", "1234", "1", "1234567", "  99  ")),
    *(("cad_reference", v) for v in ("412-010324", "412", "412-010324\n")),
    *(("circumstances", v) for v in ("short", "x" * 30, "   ")),
    *(("weapon_used", v) for v in ("yes", "No", "maybe")),
    ("victim_dob", {"day": "1", "month": "1", "year": "2000"}),
    ("victim_dob", {"day": "31", "month": "2", "year": "2000"}),
    ("victim_dob", {"day": "1", "month": "", "year": "2000"}),
    ("victim_dob", {"day": "1", "month": "1", "year": "20"}),
    ("offence_from", {"day": "1", "month": "1", "year": "2020", "time": "10:00"}),
    ("offence_from", {"day": "1", "month": "1", "year": "2020", "time": ""}),
]
_READ_ALL = """async ([url, cases]) => {
  const J = await (await fetch(url)).json(), byId = {}, F = Waypost.form;
  const walk = (items) => items.forEach((it) => { byId[it.id] = it; if (it.items) walk(it.items); });
  J.pages.forEach((p) => walk(p.items));
  return cases.map(([id, raw]) => {
    const r = F.read(byId[id], raw, F.words(byId[id]));
    return r === F.BAD ? ['bad'] : r instanceof String ? ['message', '' + r] : r == null ? ['none'] : ['ok'];
  });
}"""
#: Where each field's answer goes in the answers, and what makes it relevant.
_PLACES: dict[str, tuple[dict[str, object], tuple[object, ...]]] = {
    "suspect_age_from": ({"any_suspects": "yes"}, ("suspects", 0)),
    "suspect_height_cm": ({"any_suspects": "yes"}, ("suspects", 0)),
    "prop_value": ({"property_involved": "yes"}, ("property_items", 0)),
    "victim_dob": ({"victim_type": "person"}, ()),
}


def test_the_runtime_reads_answers_as_the_server_does(server: LiveServer, officer: Page) -> None:
    """Each raw answer gets the server's message, or none where the server has none; what the
    runtime leaves to the server (BAD) is an error on the server too."""
    page = officer
    store = server.ctx.store
    assert store is not None
    definition, form = store.current_form("response", "crime_report")
    page.goto("/")
    found = page.evaluate(_READ_ALL, [f"/forms/response/crime_report/v/{definition}.json", READ_CASES])
    for (field, raw), (verdict, *message) in zip(READ_CASES, found, strict=True):
        answers, prefix = _PLACES.get(field, ({}, ()))
        answers = dict(answers)
        if prefix:
            answers[str(prefix[0])] = [{field: raw}]
        else:
            answers[field] = raw
        path = (*prefix, field)
        posted = draft_answers(form, answers)  # as the page's post reaches validation
        errors = [e for e in form.validate(posted, coerce=True).errors if e.path == path and e.blocking]
        server_says = None if not errors else errors[0].message
        if errors and errors[0].code == "required":
            server_says = None  # the runtime reports required answers in check(), not read()
        case = f"{field}={raw!r}: runtime {verdict} {message}, server {server_says!r}"
        if verdict == "message":
            assert message == [server_says], case
        elif verdict == "bad":
            assert server_says is not None, case
        else:
            assert server_says is None, case
    assert sum(v == "message" for v, *_ in found) >= 8
