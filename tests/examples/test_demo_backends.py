"""The demo back-ends (examples/demo_backends) behave as the demo force's workflows need.

Everything runs for real on loopback: the crime records system, the safeguarding hub and the SMTP
sink are started on free ports by :class:`DemoBackends`, called with httpx and smtplib, and the
last tests run the real web app over the demo force against them: a crime report gets its crime
reference from the records system, the victim's email arrives in the sink, and a records system
that fails twice still records the crime exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from engine._scenario_load import load_scenario
from engine._tables import CaseValue, Instance
from engine._web import WebConfig, WebContext, create_app
from examples.demo_backends import DemoBackends, Settings
from tests.engine.fakes import Clock
from tests.web.support import sign_in

ROOT = Path(__file__).resolve().parents[2]
FORCE = ROOT / "examples" / "demo-force"
TIMEOUT = 1  # seconds: the demo connections' timeout in the end-to-end tests
CRIME_TOKEN = "crime-token-for-tests"  # noqa: S105 - a test token for a loopback service
MASH_TOKEN = "mash-token-for-tests"  # noqa: S105
REFERENCE = r"WV/\d{6}/\d{2}"  # the investigation update form's pattern for a crime reference


def settings(state_dir: Path | None = None) -> Settings:
    """Any free ports, known tokens."""
    return Settings(0, 0, 0, 0, CRIME_TOKEN, MASH_TOKEN, state_dir)


@pytest.fixture
def backends() -> Iterator[DemoBackends]:
    """The three back-ends, started on free loopback ports."""
    with DemoBackends(settings()) as running:
        yield running


def crime_client(backends: DemoBackends, token: str | None = CRIME_TOKEN) -> httpx.Client:
    """A client of the crime records system, with its bearer token unless told otherwise."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=backends.url("crime_records"), headers=headers, timeout=10, trust_env=False)


def mash_client(backends: DemoBackends, token: str | None = MASH_TOKEN) -> httpx.Client:
    """A client of the safeguarding hub, with its bearer token unless told otherwise."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=backends.url("mash"), headers=headers, timeout=10, trust_env=False)


CRIME = {
    "provisional_reference": "WP-TEST-1",
    "offence": {"group": "burglary", "code": "burglary_residential_dwelling"},
    "reporting_officer": {"name": "Sam Patel", "collar": "4471"},
    "victim": {"forenames": "Alex", "surname": "Morgan"},
}


# --- Crime records ---------------------------------------------------------------------------


def test_a_crime_gets_a_reference_and_can_be_looked_up(backends: DemoBackends) -> None:
    """POST /crimes answers a reference in the force's format and the offence's title; GET finds
    it (the reference percent-encoded as the workflows send it); an unknown one is 404."""
    with crime_client(backends) as client:
        created = client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "k1"})
        assert created.status_code == 201
        reference = created.json()["crime_reference"]
        assert re.fullmatch(REFERENCE, reference)
        assert created.json()["offence_title"] == "Burglary – residential (dwelling)"
        found = client.get("/crimes/" + reference.replace("/", "%2F"))
        assert found.status_code == 200
        assert found.json()["victim"] == "Alex Morgan"
        assert client.get("/crimes/WV/999999/25").status_code == 404
        assert client.get("/crimes/WV/999999/25").json()["error"]["code"] == "not_found"


def test_updates_and_documents_go_onto_an_existing_crime_only(backends: DemoBackends) -> None:
    """Updates, documents and reclassification requests answer their ids and the officer in the
    case; on a crime the system does not have they are refused with 404."""
    with crime_client(backends) as client:
        reference = client.post("/crimes", json=CRIME).json()["crime_reference"]
        encoded = reference.replace("/", "%2F")
        update = client.post(f"/crimes/{encoded}/updates", json={"title": "CCTV seized"})
        assert update.status_code == 201
        assert update.json()["update_id"].startswith("UPD-")
        assert update.json()["officer_in_case"]["email"].endswith("@wessexvale.example")
        document = client.post(f"/crimes/{encoded}/documents", json={"kind": "mg11"})
        assert document.json()["document_id"].startswith("DOC-")
        request = client.post(f"/crimes/{encoded}/reclassification-requests", json={"new_offence": "theft"})
        assert request.json()["request_id"].startswith("RCL-")
        missing = client.post("/crimes/WV%2F000000%2F20/updates", json={"title": "x"})
        assert missing.status_code == 404
        assert client.post("/incidents", json={"decision": "no_crime"}).json()["incident_reference"]
        assert client.post("/documents", json={"kind": "mg11"}).json()["document_id"].startswith("DOC-")
    crime = backends.crime_records.state["crimes"][reference]
    assert (len(crime["updates"]), len(crime["documents"]), len(crime["reclassification_requests"])) == (
        1,
        1,
        1,
    )


def test_an_idempotency_key_records_a_crime_once(backends: DemoBackends) -> None:
    """The same key and body get the first answer again (marked as replayed) and no second
    crime; the same key with another body is refused with 409."""
    with crime_client(backends) as client:
        before = len(backends.crime_records.state["crimes"])
        first = client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "same"})
        again = client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "same"})
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = client.post("/crimes", json={**CRIME, "victim": {}}, headers={"Idempotency-Key": "same"})
        assert other.status_code == 409
        assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(backends.crime_records.state["crimes"]) == before + 1


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_calls_without_the_right_token_are_refused(backends: DemoBackends, token: str | None) -> None:
    """No bearer token, or a wrong one, is 401 with WWW-Authenticate, and records nothing."""
    before = len(backends.crime_records.state["crimes"])
    with crime_client(backends, token) as client:
        refused = client.post("/crimes", json=CRIME)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert len(backends.crime_records.state["crimes"]) == before
    with mash_client(backends, token) as client:
        assert client.post("/referrals", json={"priority": "standard"}).status_code == 401


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "not JSON"), (b"[1, 2]", "JSON object"), (b"", "needs a JSON object")],
)
def test_a_bad_body_is_a_clear_400(backends: DemoBackends, content: bytes, message: str) -> None:
    """A body that is not a JSON object is refused with 400 and says why."""
    with crime_client(backends) as client:
        answer = client.post("/crimes", content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_fail_next_then_success(backends: DemoBackends) -> None:
    """Told to fail the next two calls, the system answers 503 twice, records nothing, then works."""
    with crime_client(backends) as client:
        control = client.post("/_control", json={"fail_next": 2})
        assert control.json()["fail_next"] == 2
        before = len(backends.crime_records.state["crimes"])
        answers = [client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "r"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert len(backends.crime_records.state["crimes"]) == before + 1


def test_slow_next_delays_only_the_next_call(backends: DemoBackends) -> None:
    """A delay for the next call makes that call late (after recording) and the next one prompt."""
    with crime_client(backends) as client:
        client.post("/_control", json={"delay": 0.4, "slow_next": 1})
        started = time.monotonic()
        slow = client.post("/crimes", json=CRIME)
        middle = time.monotonic()
        client.post("/crimes", json=CRIME)
        ended = time.monotonic()
    assert slow.status_code == 201
    assert middle - started >= 0.4
    assert ended - middle < 0.3


@pytest.mark.parametrize(
    "settings_",
    [{"fail_next": -1}, {"fail_next": "2"}, {"delay": 1000}, {"explode": 1}, [1]],
)
def test_bad_control_settings_are_refused(backends: DemoBackends, settings_: Any) -> None:
    """Control settings out of range, of the wrong type or unknown are 400 and change nothing."""
    with crime_client(backends) as client:
        answer = client.post("/_control", json=settings_)
        assert answer.status_code == 400
        assert client.get("/_control").json()["fail_next"] == 0


def test_the_page_controls_faults_and_escapes_what_it_lists(backends: DemoBackends) -> None:
    """The page's form sets fail_next (then redirects back), and officers' text is escaped."""
    with crime_client(backends) as client:
        client.post("/crimes", json={**CRIME, "victim": {"forenames": "<script>x</script>", "surname": "Y"}})
        posted = client.post("/_control", data={"fail_next": "3"})
        assert posted.status_code == 303
        page = client.get("/")
    assert page.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt; Y" in page.text
    assert "<script>x" not in page.text
    assert "Failing the next 3 call(s)" in " ".join(page.text.split())
    assert backends.crime_records.fail_next == 3


def test_state_survives_a_restart_with_a_state_folder(tmp_path: Path) -> None:
    """With a state folder, crimes and idempotency keys outlive the process."""
    with DemoBackends(settings(tmp_path)) as first, crime_client(first) as client:
        reference = client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "keep"}).json()
    with DemoBackends(settings(tmp_path)) as second, crime_client(second) as client:
        assert client.get("/crimes/" + reference["crime_reference"]).status_code == 200
        again = client.post("/crimes", json=CRIME, headers={"Idempotency-Key": "keep"})
        assert again.json() == reference
        assert again.headers["idempotent-replayed"] == "true"


# --- Safeguarding hub ----------------------------------------------------------------------


def test_a_referral_gets_a_hub_reference_once(backends: DemoBackends) -> None:
    """POST /referrals answers a hub reference; a retry with its key gets the same one; GET
    shows no decision until one is recorded on the page; the page lists the referral."""
    referral = {"referrer_reference": "WP-1", "priority": "immediate", "risk_grade": "high"}
    with mash_client(backends) as client:
        first = client.post("/referrals", json=referral, headers={"Idempotency-Key": "m1"})
        again = client.post("/referrals", json=referral, headers={"Idempotency-Key": "m1"})
        assert first.status_code == again.status_code == 201
        reference = first.json()["reference"]
        assert again.json()["reference"] == reference
        assert reference.startswith("MASH-")
        assert client.get(f"/referrals/{reference}").json()["decision"] is None
        assert client.get("/referrals/MASH-00-99999").status_code == 404
        decided = client.post(f"/referrals/{reference}/decision", data={"decision": "early_help"})
        assert decided.status_code == 303
        assert client.post(f"/referrals/{reference}/decision", data={"decision": "shrug"}).status_code == 400
        assert client.get(f"/referrals/{reference}").json()["decision"] == "early_help"
        assert "WP-1" in client.get("/").text
    assert len(backends.mash.state["referrals"]) == 1


# --- SMTP sink -----------------------------------------------------------------------------


def test_the_sink_keeps_emails_and_shows_them_escaped_newest_first(backends: DemoBackends) -> None:
    """Messages sent over SMTP are listed newest first, with recipients and escaped bodies."""
    for number in (1, 2):
        message = EmailMessage()
        message["From"] = "no-reply@wessexvale.example"
        message["To"] = "victim@example.com"
        message["Subject"] = f"Message {number}"
        message.set_content(f"Body {number} <b>not bold</b>")
        with smtplib.SMTP("127.0.0.1", backends.port("smtp"), timeout=10) as smtp:
            smtp.send_message(message)
    listed = httpx.get(backends.url("mail_page") + "/messages.json", trust_env=False).json()
    assert [m["subject"] for m in listed] == ["Message 2", "Message 1"]
    assert listed[0]["to"] == ["victim@example.com"]
    page = httpx.get(backends.url("mail_page") + "/", trust_env=False).text
    assert "Body 2 &lt;b&gt;not bold&lt;/b&gt;" in page
    assert page.index("Message 2") < page.index("Message 1")


# --- Launcher ------------------------------------------------------------------------------


def _environment(**extra: str) -> dict[str, str]:
    ports = {f"DEMO_{n}_PORT": "0" for n in ("CRIME_RECORDS", "MASH", "MAIL_PAGE", "SMTP")}
    return {**os.environ, **ports, "CRIME_RECORDS_TOKEN": CRIME_TOKEN, "MASH_TOKEN": MASH_TOKEN, **extra}


CHILD = """\
import os, sys, httpx
url, token = os.environ["CRIME_RECORDS_URL"], os.environ["CRIME_RECORDS_TOKEN"]
answer = httpx.post(url + "/crimes", json={}, headers={"Authorization": "Bearer " + token}, trust_env=False)
print("child got", answer.status_code, answer.json()["crime_reference"], os.environ["MASH_URL"][:17])
sys.exit(7)
"""


def test_the_launcher_gives_the_command_the_back_ends_and_its_exit_status() -> None:
    """run.py starts the back-ends, runs the command with their URLs and tokens, returns its
    exit status and stops them."""
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo_backends.run", "--", sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 7, done.stderr
    assert "child got 201 WV/" in done.stdout
    assert "http://127.0.0.1:" in done.stdout
    assert "demo back-ends: emails sent" in done.stdout
    assert done.stdout.rstrip().endswith("demo back-ends: stopped")


def test_the_launcher_stops_before_the_command_when_a_port_is_taken() -> None:
    """A port in use is one clear line and exit 1; the command never runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "examples.demo_backends.run", "--", sys.executable, "-c", "print('ran')"],
            cwd=ROOT,
            env=_environment(DEMO_SMTP_PORT=port),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"SMTP sink cannot listen on 127.0.0.1 port {port}: it is in use" in done.stderr
    assert "ran" not in done.stdout


SIGNALLED = """\
import signal, sys, time
def stop(number, frame):
    print("child got", number, flush=True)
    sys.exit(3)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
print("child up", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_launcher_passes_a_stop_signal_on_once_and_stops_the_back_ends(signum: int) -> None:
    """Ctrl-C (SIGINT) or SIGTERM sent to the launcher reaches the command once; the launcher then
    stops the back-ends and exits as the command did."""
    with subprocess.Popen(
        [sys.executable, "-m", "examples.demo_backends.run", "--", sys.executable, "-c", SIGNALLED],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        text=True,
    ) as launcher:
        assert launcher.stdout is not None
        for line in launcher.stdout:
            if line.startswith("child up"):
                break
        launcher.send_signal(signum)
        code = launcher.wait(timeout=30)
        rest = launcher.stdout.read()
    assert code == 3
    assert rest.count("child got") == 1
    assert f"child got {int(signum)}" in rest
    assert rest.rstrip().endswith("demo back-ends: stopped")


def test_the_back_ends_run_on_their_own_until_ctrl_c() -> None:
    """``python -m examples.demo_backends`` prints the addresses and the environment a server
    needs, answers on them, and stops cleanly (exit 0) on SIGINT."""
    with subprocess.Popen(
        [sys.executable, "-m", "examples.demo_backends"],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        exports = next(line for line in lines if "export " in line)
        url = re.search(r"CRIME_RECORDS_URL=(\S+)", exports)
        assert url is not None
        assert f"CRIME_RECORDS_TOKEN={CRIME_TOKEN}" in exports
        assert httpx.get(url.group(1) + "/crimes/WV/000101/20", trust_env=False).status_code == 401
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        rest = process.stdout.read()
    assert code == 0
    assert "demo back-ends: stopped" in rest


def test_the_launcher_needs_a_command() -> None:
    """Without a command after --, the launcher says what it needs (exit 2)."""
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo_backends.run"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "give the command to run after --" in done.stderr


# --- End to end: the web app over the demo force, against the back-ends ---------------------


@dataclass
class Demo:
    """The real web app over the demo force, its back-ends and the clock its runtime reads."""

    client: TestClient
    ctx: WebContext
    clock: Clock
    backends: DemoBackends

    def submit(self, username: str, department: str, form: str, scenario: str, **changes: Any) -> str:
        """Submit the answers of a demo scenario (with ``changes``) through the JSON API; its id."""
        db, _runtime = self.ctx.require_storage()
        opened = sign_in(self.client, db, username, department, ("officer",))
        folder = department.replace("_", "-")
        source = (FORCE / folder / "tests" / f"{scenario}.yaml").read_text("utf-8")
        answers = {**load_scenario(source, scenario, scenario).answers, **changes}
        answer = self.client.post(
            "/api/v1/submissions",
            json={"department": department, "form": form, "answers": answers},
            headers={"X-CSRF-Token": opened.csrf_token},
        )
        assert answer.status_code == 201, answer.text
        submission_id: str = answer.json()["id"]
        return submission_id

    def file_crime_report(self) -> str:
        """pc.smith reports the burglary of the demo scenario; the submission's id."""
        return self.submit("pc.smith", "response", "crime_report", "crime_burglary_email_confirmation")

    def run_workflows(self, hours: int = 12) -> None:
        """Run every due job, moving the clock on an hour at a time so that retries fall due."""
        _db, runtime = self.ctx.require_storage()
        for _ in range(hours):
            asyncio.run(runtime.run_until_idle())
            self.clock.advance(hours=1)
        asyncio.run(runtime.run_until_idle())

    def case_value(self, name: str) -> Any:
        """The value ``name`` in the case data of the (only) workflow instance."""
        db, _runtime = self.ctx.require_storage()
        with db.session(write=False) as session:
            found = session.scalars(select(CaseValue).where(CaseValue.name == name)).one()
            return found.value

    def states(self) -> list[str]:
        """The state of every workflow instance."""
        db, _runtime = self.ctx.require_storage()
        with db.session(write=False) as session:
            return list(session.scalars(select(Instance.state)))


@pytest.fixture
def demo(tmp_path: Path, backends: DemoBackends) -> Iterator[Demo]:
    """The web app (no worker: the test runs the jobs) over a copy of the demo force whose mail
    goes to the back-ends' SMTP sink, with the runtime reading the back-ends' environment."""
    force = tmp_path / "force"
    shutil.copytree(FORCE, force, ignore=shutil.ignore_patterns("tests"))
    for department in force.glob("*/department.yaml"):
        text = department.read_text("utf-8")
        text = text.replace("port: 1025", f"port: {backends.port('smtp')}")
        # A short timeout, so that a slow answer can be shown without waiting 20 seconds.
        department.write_text(text.replace("timeout: 20", f"timeout: {TIMEOUT}"), "utf-8")
    config = WebConfig(
        force, database_url=f"sqlite:///{tmp_path}/demo.db", worker=False, attachments=tmp_path / "files"
    )
    app = create_app(config)
    with TestClient(app) as client:
        ctx: WebContext = app.state.waypost
        if ctx.runtime is None or ctx.queue is None:
            raise RuntimeError("the app started without storage")
        clock = Clock(datetime.now(UTC))
        ctx.runtime.environ = backends.environment()
        ctx.runtime.clock = ctx.queue.clock = clock
        yield Demo(client, ctx, clock, backends)


@pytest.mark.slow
def test_a_crime_report_gets_its_reference_and_the_victim_is_emailed(demo: Demo) -> None:
    """The crime records system's reference reaches the case data and the submission page, and
    the victim's confirmation email with that reference arrives in the SMTP sink."""
    submission = demo.file_crime_report()
    demo.run_workflows()
    reference = demo.case_value("crime_reference")
    assert re.fullmatch(REFERENCE, reference)
    assert reference in demo.backends.crime_records.state["crimes"]
    page = demo.client.get(f"/submissions/{submission}")
    assert page.status_code == 200
    assert reference in page.text
    (email,) = demo.backends.mail.messages()
    assert email.to == ["alex.morgan@example.com"]
    assert email.subject == f"Your crime reference number: {reference}"
    assert f"Crime reference number: {reference}" in email.body
    assert "Burglary – residential (dwelling)" in email.body


@pytest.mark.slow
def test_two_failed_calls_are_retried_and_record_the_crime_once(demo: Demo) -> None:
    """The records system fails the first two calls: the step retries with its idempotency key
    and exactly one crime is recorded, the one whose reference the case holds."""
    demo.backends.crime_records.control(fail_next=2)
    before = set(demo.backends.crime_records.state["crimes"])
    calls_before = demo.backends.crime_records.calls
    demo.file_crime_report()
    demo.run_workflows()
    created = set(demo.backends.crime_records.state["crimes"]) - before
    assert created == {demo.case_value("crime_reference")}
    assert demo.backends.crime_records.calls - calls_before == 3
    assert demo.backends.crime_records.fail_next == 0
    assert len(demo.backends.mail.messages()) == 1


@pytest.mark.slow
def test_a_child_at_immediate_risk_alerts_the_inspector_and_is_referred(demo: Demo) -> None:
    """Immediate risk: the duty inspector's email arrives and the hub's reference comes back onto
    the case; once the hub records a decision, the next day's check finds it and sends no chase."""
    demo.submit("pc.evans", "public_protection", "child_concern", "child_immediate_risk")
    demo.run_workflows(hours=2)
    (referral,) = demo.backends.mash.state["referrals"].values()
    assert referral["priority"] == "immediate"
    assert demo.case_value("mash_reference") == referral["reference"]
    (alert,) = demo.backends.mail.messages()
    assert alert.to == ["duty.inspector.ppu@wessexvale.example"]
    assert alert.subject.startswith("URGENT: child at immediate risk")
    assert demo.backends.mash.decide(referral["reference"], "strategy_discussion")
    demo.run_workflows(hours=26)
    assert demo.case_value("mash_decision") == "strategy_discussion"
    assert len(demo.backends.mail.messages()) == 1  # no chase: the decision was there
    assert demo.states() == ["completed"]


@pytest.mark.slow
def test_an_investigation_update_goes_onto_a_crime_already_on_the_system(demo: Demo) -> None:
    """An update to a crime the records system holds is added to it, and the officer in the case
    the system names is emailed when the investigator asks for attention."""
    reference = next(iter(demo.backends.crime_records.state["crimes"]))
    demo.submit(
        "dc.patel",
        "investigations",
        "investigation_update",
        "update_arrest_needs_attention",
        crime_reference=reference,
        next_review_date=(date.today() + timedelta(days=7)).isoformat(),
    )
    demo.run_workflows(hours=2)
    crime = demo.backends.crime_records.state["crimes"][reference]
    (update,) = crime["updates"]
    assert demo.case_value("update_id") == update["update_id"]
    (email,) = demo.backends.mail.messages()
    assert email.to[0] == crime["officer_in_case"]["email"]
    assert reference in email.subject


@pytest.mark.slow
def test_a_slow_answer_times_out_and_the_retry_gets_the_recorded_crime(demo: Demo) -> None:
    """The records system records the crime but answers after the step's timeout: the retry
    carries the same idempotency key, gets the stored answer, and no second crime is made."""
    demo.backends.crime_records.control(delay=TIMEOUT + 1.0, slow_next=1)
    before = set(demo.backends.crime_records.state["crimes"])
    calls_before = demo.backends.crime_records.calls
    demo.file_crime_report()
    demo.run_workflows(hours=2)
    created = set(demo.backends.crime_records.state["crimes"]) - before
    assert created == {demo.case_value("crime_reference")}
    assert demo.backends.crime_records.calls - calls_before == 2  # the late answer, then the replay
    assert len(demo.backends.crime_records.replies) == 1
    assert demo.states() == ["completed"]
