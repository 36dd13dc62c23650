"""What the browser tests do with the demo force: start drafts, list pages, submit, find tasks.

Definitions are read from ``examples/demo-force`` (page ids, scenario answers); everything a
user does goes through the browser, except :func:`submit_in_process`, which stands in for an
officer when a test is about what a supervisor sees.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Page
from sqlalchemy import select

from engine._tables import Instance, Task, User
from tests.browser.conftest import DEMO_FORCE, LiveServer

#: Forms an officer starts from the home page: (user, department, form).
STARTABLE = (
    ("pc.smith", "response", "crime_report"),
    ("pc.smith", "response", "witness_statement"),
    ("pc.evans", "public_protection", "child_concern"),
    ("dc.patel", "investigations", "investigation_update"),
)
#: An answer that makes each form's conditional page relevant: {(department, form): (field, value)}.
ENABLERS = {
    ("response", "crime_report"): ("victim_type", "person"),
    ("response", "witness_statement"): ("statement_type", "victim"),
    ("public_protection", "child_concern"): ("immediate_risk", "yes"),
}


def department_folder(department: str) -> Path:
    """The folder of a demo department by its id (``public_protection`` -> ``public-protection``)."""
    for folder in sorted(DEMO_FORCE.iterdir()):
        meta = folder / "department.yaml"
        if meta.exists() and yaml.safe_load(meta.read_text("utf-8"))["department"] == department:
            return folder
    raise LookupError(department)


def form_yaml(department: str, form: str) -> dict[str, Any]:
    """The parsed YAML of a demo form."""
    text = (department_folder(department) / "forms" / f"{form}.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def page_ids(department: str, form: str) -> list[str]:
    """The ids of a demo form's pages, in order."""
    return [page["id"] for page in form_yaml(department, form)["pages"]]


def _field_ids(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield item["id"]
        if item.get("type") == "group":
            yield from _field_ids(item.get("fields", []))


def page_of(department: str, form: str, field: str) -> str:
    """The id of the page holding top-level (or grouped) field ``field``."""
    for page in form_yaml(department, form)["pages"]:
        if field in _field_ids(page["fields"]):
            return str(page["id"])
    raise LookupError(field)


def start_draft(page: Page, department: str, form: str) -> str:
    """Start ``form`` from the home page (as its officer, already signed in); the draft id."""
    page.goto("/")
    page.locator(f"form[action='/forms/{department}/{form}/start'] button").click()
    page.wait_for_url("**/drafts/*/pages/*")
    return page.url.split("/drafts/", 1)[1].split("/", 1)[0]


def save_answer(page: Page, draft: str, department: str, form: str, field: str, value: str) -> None:
    """Answer one radio question on its page and save the draft (without moving on)."""
    page.goto(f"/drafts/{draft}/pages/{page_of(department, form, field)}")
    choose(page, field, value)
    page.locator("button[name='_action'][value='save']").click()
    page.wait_for_load_state("load")


def choose(page: Page, field: str, value: str) -> None:
    """Pick a radio or checkbox by tapping its label, as an officer does (the label is the target)."""
    control = page.locator(f"input[name='{field}'][value='{value}']")
    page.locator(f"label[for='{control.get_attribute('id')}']").click()
    if not control.is_checked():
        raise AssertionError(f"tapping the label of {field}={value} did not select it")


def typed_json(value: Any) -> Any:
    """A scenario answer (YAML dates and times) as strict JSON, as an API client sends it."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: typed_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_json(v) for v in value]
    return value


def scenario_answers(department: str, scenario: str) -> dict[str, Any]:
    """The answers of one of a demo department's workflow scenarios (``tests/<scenario>.yaml``)."""
    text = (department_folder(department) / "tests" / f"{scenario}.yaml").read_text("utf-8")
    answers: dict[str, Any] = typed_json(yaml.safe_load(text)["answers"])
    return answers


def submit_in_process(
    server: LiveServer, username: str, department: str, form: str, answers: dict[str, Any]
) -> str:
    """Submit ``answers`` as ``username`` through the app's own runtime; the submission id."""
    runtime = server.ctx.runtime
    if runtime is None:
        raise RuntimeError("the live server has no runtime")
    with server.db.session() as session:
        user_id = session.scalars(select(User.id).where(User.username == username)).one()
        result = runtime.submit(session, department, form, answers, user_id=user_id)
        if result.submission_id is None:
            raise ValueError(f"{form} answers refused: {result.validation.errors}")
        return result.submission_id


def wait_for_task(server: LiveServer, submission_id: str, timeout: float = 30.0) -> str:
    """The id of the open task the submission's workflow creates (the app's worker runs it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.db.session(write=False) as session:
            task_id = session.scalars(
                select(Task.id)
                .join(Instance, Instance.id == Task.instance_id)
                .where(Instance.submission_id == submission_id, Task.state == "open")
            ).first()
        if task_id is not None:
            return str(task_id)
        time.sleep(0.1)
    raise TimeoutError(f"no task for submission {submission_id} after {timeout:g}s")
