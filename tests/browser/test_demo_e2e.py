"""Issue 7 end to end: an officer in Chromium, the real web app, its worker, the real demo back-ends.

The demo force is served for real (uvicorn, SQLite, the in-process worker) with its connections
pointed at :class:`examples.demo_backends.DemoBackends` on free loopback ports: the crime records
system, the safeguarding hub (MASH) and the SMTP sink. Nothing is faked. An officer fills a form
in Chromium on an iPad mini (the earlier pages' answers are put into the draft from a demo
scenario, as an officer who had already filled them would have; the last page, the check-answers
page and Submit are done by tapping in the browser), then watches the submission page until the
back-end's reference appears on it, and the test checks that reference against the back-end's
own state, its page and the SMTP sink.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from starlette.applications import Starlette

from engine._database import Database
from engine._drafts import raw_value
from engine._scenario_load import load_scenario
from engine._tables import CaseValue, Draft, Instance, Job
from engine._web import WebConfig, WebContext, create_app
from examples.demo_backends import DemoBackends, Settings
from forms import Field, Group, Item, Repeat
from tests.browser.conftest import DEMO_FORCE, log_in, new_context, serve, sign_in_cookie
from tests.browser.helpers import choose, department_folder, start_draft
from tests.web.support import DEMO_USERS, ensure_user

CRIME_TOKEN = "crime-token-for-browser-tests"  # noqa: S105 - a test token for a loopback service
MASH_TOKEN = "mash-token-for-browser-tests"  # noqa: S105
REFERENCE = r"WV/\d{6}/\d{2}"  # the records system's crime reference format
WAIT = 30.0  # seconds: the longest a workflow may take to show its result on the page


class OffsetClock:
    """The wall clock plus an offset that only moves forward: the runtime's and queue's clock.

    Time passes as usual (sessions, page timestamps and the worker all see real time), but a
    test can jump to the moment a deferred job falls due instead of sleeping until then.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, when: datetime) -> timedelta:
        """Jump forward to ``when`` (never back); how far the clock moved."""
        with self._lock:
            step = max(when - self(), timedelta(0))
            self.offset += step
            return step


@dataclass
class DemoServer:
    """The app under test, shaped like conftest's ``LiveServer`` (``url``, ``ctx``, ``db``) so that
    its helpers (``new_context``, ``sign_in_cookie``) take it, plus the back-ends and the clock."""

    url: str
    app: Starlette
    backends: DemoBackends
    clock: OffsetClock

    @property
    def ctx(self) -> WebContext:
        """The app's shared context (database, runtime, definition store)."""
        ctx: WebContext = self.app.state.waypost
        return ctx

    @property
    def db(self) -> Database:
        """The app's database."""
        db, _runtime = self.ctx.require_storage()
        return db


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo force served with its worker, against the demo back-ends, with the demo users.

    As in tests/examples/test_demo_backends.py: a copy of the force whose mail goes to the sink's
    SMTP port, and the runtime reads the back-ends' environment (their URLs and tokens).
    """
    tmp = tmp_path_factory.mktemp("demo-e2e")
    force = tmp / "force"
    shutil.copytree(DEMO_FORCE, force, ignore=shutil.ignore_patterns("tests"))
    with DemoBackends(Settings(0, 0, 0, 0, CRIME_TOKEN, MASH_TOKEN)) as backends:
        for meta in force.glob("*/department.yaml"):
            text = meta.read_text("utf-8")
            meta.write_text(text.replace("port: 1025", f"port: {backends.port('smtp')}"), "utf-8")
        config = WebConfig(
            force, database_url=f"sqlite:///{tmp}/demo.db", worker=True, attachments=tmp / "attachments"
        )
        app = create_app(config)
        with serve(app) as url:
            ctx: WebContext = app.state.waypost
            if ctx.runtime is None or ctx.queue is None:
                raise RuntimeError("the app started without storage")
            # Set before any form is submitted, so the worker never sees the defaults.
            ctx.runtime.environ = backends.environment()
            clock = OffsetClock()
            ctx.runtime.clock = ctx.queue.clock = clock
            # The worker also wakes on this process's commits; a short poll only bounds how soon
            # it notices a job that fell due because the test moved the clock.
            ctx.queue.poll_interval = 0.1
            live = DemoServer(url, app, backends, clock)
            for username, department, roles in DEMO_USERS:
                ensure_user(live.db, username, department, roles)
            yield live


@pytest.fixture
def context(browser: Browser, demo: DemoServer) -> Iterator[BrowserContext]:
    """An iPad mini on the demo server (overrides conftest's, which serves the fake back-end)."""
    ctx = new_context(browser, demo)  # type: ignore[arg-type]  # DemoServer is LiveServer-shaped
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab of :func:`context`."""
    return context.new_page()


# --- Filling a form as the officer -------------------------------------------------------------


def scenario(department: str, name: str) -> dict[str, Any]:
    """The answers of a demo scenario, typed as the scenario runner reads them (dates as dates)."""
    path = department_folder(department) / "tests" / f"{name}.yaml"
    return dict(load_scenario(path.read_text("utf-8"), name, name).answers)


def raw_answers(items: tuple[Item, ...], answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` for ``items`` in the shape the pages save to a draft (see engine/_drafts.py)."""
    raw: dict[str, Any] = {}
    for item in items:
        value = answers.get(item.id)
        if value is None:
            continue
        if isinstance(item, Group):
            raw[item.id] = raw_answers(item.fields, value)
        elif isinstance(item, Repeat):
            raw[item.id] = [raw_answers(item.fields, entry) for entry in value]
        elif isinstance(item, Field) and item.takes_answer and not item.read_only:
            raw[item.id] = raw_value(item, value)
    return raw


def answer(page: Page, field: Field, value: Any) -> None:
    """Answer one question of the page in front of the officer, as they would."""
    shaped = raw_value(field, value)
    name = field.id
    if page.locator(f"select[name='{name}']").count():
        page.locator(f"select[name='{name}']").select_option(shaped)
    elif page.locator(f"input[name='{name}'][type=radio], input[name='{name}'][type=checkbox]").count():
        for one in shaped if isinstance(shaped, list) else [shaped]:
            choose(page, name, one)
    else:
        page.locator(f"[name='{name}']").fill(shaped)


def file_in_browser(page: Page, demo: DemoServer, department: str, form: str, answers: dict[str, Any]) -> str:
    """Start ``form`` from the home page, answer its last page, check and submit; the submission id.

    The pages before the last are saved into the draft straight from ``answers`` (their filling
    in the browser has its own tests in test_journey.py and test_live.py).
    """
    draft = start_draft(page, department, form)
    store = demo.ctx.store
    if store is None:
        raise RuntimeError("the demo server has no definition store")
    with demo.db.session() as session:
        row = session.get(Draft, draft)
        assert row is not None
        model = store.form(row.definition_id)
        earlier = tuple(item for shown in model.pages[:-1] for item in shown.fields)
        row.answers = {**row.answers, **raw_answers(earlier, answers)}
    last = model.pages[-1]
    page.goto(f"/drafts/{draft}/pages/{last.id}")
    for item in last.fields:  # in page order: an answer may reveal the next question
        if isinstance(item, Field) and item.id in answers:
            answer(page, item, answers[item.id])
    page.locator("[data-wp-continue]").click()
    page.wait_for_url("**/check")
    expect(page.locator("#error-summary")).to_have_count(0)
    page.get_by_role("button", name=re.compile("submit|send", re.IGNORECASE)).click()
    page.wait_for_url("**/submissions/*")
    expect(page.locator("h1")).to_contain_text("submitted")
    return page.url.rsplit("/", 1)[1]


def shown_reference(page: Page, label: str, *, between: Callable[[], None] | None = None) -> str:
    """The value of the ``label`` row of the submission page, reloading until the workflow puts
    it there (``between`` runs before each reload); fails after :data:`WAIT` seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        row = page.locator(".summary-list__row").filter(has=page.locator("dt", has_text=label))
        if row.count():
            return row.locator("dd").inner_text().strip()
        if time.monotonic() > deadline:
            raise AssertionError(f"no {label!r} after {WAIT:g}s:\n{page.locator('main').inner_text()}")
        if between is not None:
            between()
        time.sleep(0.2)
        page.reload()


def case_value(demo: DemoServer, submission: str, name: str) -> Any:
    """The value ``name`` in the case data of the submission's workflow instance."""
    with demo.db.session(write=False) as session:
        return session.scalars(
            select(CaseValue.value)
            .join(Instance, Instance.id == CaseValue.instance_id)
            .where(Instance.submission_id == submission, CaseValue.name == name)
        ).one()


def mail_to(demo: DemoServer, recipient: str, subject_has: str) -> list[dict[str, Any]]:
    """The sink's messages (its JSON list) to ``recipient`` whose subject holds ``subject_has``,
    waiting up to :data:`WAIT` seconds for at least one."""
    deadline = time.monotonic() + WAIT
    while True:
        listed = httpx.get(demo.backends.url("mail_page") + "/messages.json", trust_env=False).json()
        found = [m for m in listed if recipient in m["to"] and subject_has in m["subject"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def burglary() -> dict[str, Any]:
    """The demo burglary whose victim asked for their crime reference by email."""
    return scenario("response", "crime_burglary_email_confirmation")


# --- The tests ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_officer_files_a_crime_and_sees_the_records_systems_reference(
    demo: DemoServer, page: Page
) -> None:
    """Signed in through /login, pc.smith submits a burglary; the crime reference the records
    system issued appears on the submission page, on the system's own page, and in the victim's
    confirmation email in the SMTP sink."""
    before = set(demo.backends.crime_records.state["crimes"])
    log_in(page, "pc.smith")
    expect(page).to_have_url(f"{demo.url}/")
    submission = file_in_browser(page, demo, "response", "crime_report", burglary())

    reference = shown_reference(page, "Crime reference")
    assert re.fullmatch(REFERENCE, reference)
    assert set(demo.backends.crime_records.state["crimes"]) - before == {reference}
    assert case_value(demo, submission, "crime_reference") == reference
    crime = demo.backends.crime_records.state["crimes"][reference]
    assert crime["victim"] == "Alex Morgan"
    assert crime["offence_title"] == "Burglary – residential (dwelling)"
    page.goto(demo.backends.url("crime_records") + "/")
    expect(page.locator("tbody tr", has_text=reference)).to_contain_text("Alex Morgan")

    (email,) = mail_to(demo, "alex.morgan@example.com", reference)
    assert email["subject"] == f"Your crime reference number: {reference}"
    assert f"Crime reference number: {reference}" in email["body"]
    assert "Victims' Code" in email["body"]
    page.goto(demo.backends.url("mail_page") + "/")
    expect(page.locator("main, body").first).to_contain_text(f"Your crime reference number: {reference}")


@pytest.mark.slow
def test_a_child_at_immediate_risk_alerts_the_inspector_and_is_referred(
    demo: DemoServer, context: BrowserContext, page: Page
) -> None:
    """pc.evans reports a child at immediate risk: the duty inspector's email arrives, the hub
    holds one immediate referral, and the hub's reference comes back onto the case."""
    sign_in_cookie(context, demo, "pc.evans")  # type: ignore[arg-type]  # LiveServer-shaped
    answers = scenario("public_protection", "child_immediate_risk")
    submission = file_in_browser(page, demo, "public_protection", "child_concern", answers)
    ours = page.locator("strong.reference").inner_text().strip()

    hub_reference = shown_reference(page, "Mash reference")
    referrals = [
        r for r in demo.backends.mash.state["referrals"].values() if r.get("referrer_reference") == ours
    ]
    assert [r["reference"] for r in referrals] == [hub_reference]
    assert referrals[0]["priority"] == "immediate"
    assert case_value(demo, submission, "mash_reference") == hub_reference
    page.goto(demo.backends.url("mash") + "/")
    expect(page.locator("body")).to_contain_text(hub_reference)

    (alert,) = mail_to(demo, "duty.inspector.ppu@wessexvale.example", ours)
    assert alert["subject"] == f"URGENT: child at immediate risk - {ours}"
    assert "9 Kiln Lane" in alert["body"]
    assert "Mia" not in alert["subject"]  # no child's name in a subject line


def due_retry(demo: DemoServer, submission: str) -> datetime | None:
    """When the submission's next deferred job falls due, if it has one and no job is running."""
    with demo.db.session(write=False) as session:
        if session.scalar(select(func.count()).select_from(Job).where(Job.state == "leased")):
            return None  # moving the clock now could expire a running job's lease
        instances = select(Instance.id).where(Instance.submission_id == submission)
        due = session.scalar(
            select(func.min(Job.due_at)).where(Job.instance_id.in_(instances), Job.state == "ready")
        )
    if due is None:
        return None
    return due if due.tzinfo is not None else due.replace(tzinfo=UTC)


@pytest.mark.slow
def test_two_failed_calls_are_retried_and_record_the_crime_once(
    demo: DemoServer, context: BrowserContext, page: Page
) -> None:
    """The records system is told (through /_control) to fail the next two calls: the step
    retries after its back-off, with its idempotency key, and exactly one crime is recorded, the
    one whose reference the officer sees."""
    records = demo.backends.crime_records
    control = httpx.post(
        demo.backends.url("crime_records") + "/_control", json={"fail_next": 2}, trust_env=False
    )
    assert control.json()["fail_next"] == 2
    before, calls_before = set(records.state["crimes"]), records.calls
    sign_in_cookie(context, demo, "pc.smith")  # type: ignore[arg-type]  # LiveServer-shaped
    submission = file_in_browser(page, demo, "response", "crime_report", burglary())

    # create_crime retries after 30 s, then about 60 s (exponential, with jitter): too long to
    # wait for. While the page is polled, whenever the step's job is waiting for its retry and no
    # job is running, the runtime's clock jumps to the retry's due time, so the real worker runs
    # the real retry at once. The jumps are recorded: the back-off itself is under test too.
    jumps: list[timedelta] = []

    def skip_to_retry() -> None:
        due = due_retry(demo, submission)
        if due is not None and due > demo.clock():
            jumps.append(demo.clock.move_to(due))

    reference = shown_reference(page, "Crime reference", between=skip_to_retry)
    assert set(records.state["crimes"]) - before == {reference}
    assert records.calls - calls_before == 3  # two refused, one recorded
    assert records.fail_next == 0
    assert len(jumps) == 2, jumps
    assert jumps[0] >= timedelta(seconds=20)  # 30 s less the 20 % jitter, less the time spent
    assert jumps[1] > jumps[0]  # exponential
    assert case_value(demo, submission, "crime_reference") == reference
    (email,) = mail_to(demo, "alex.morgan@example.com", reference)
    assert f"Crime reference number: {reference}" in email["body"]
