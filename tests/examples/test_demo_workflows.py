"""The demo force's workflows (examples/demo-force/*/workflows) load against the installed plugins,
and the scenario tests beside them (examples/demo-force/*/tests) pass and take every route.

The workflows are the showcase of the workflow format, so these tests pin what they promise:
each department compiles with its forms, roles and connections; every call goes through a
connection whose addresses and secrets come from the environment; every scenario passes through
the real executor with mocked plugins; and between them the scenarios take every route of every
workflow, so a new branch without a scenario fails here. The last tests make sure these checks
can fail: a misspelt name, a wrong expectation and a missing scenario are all caught.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest

from dsl import DefinitionError
from engine._registry import PluginRegistry
from engine._scenario import ScenarioResult, run_scenario
from engine._scenario_load import load_scenario
from engine._sources import CompiledDepartment, DepartmentSources, compile_department
from workflows import PluginSpec, StepKind

FORCE = Path(__file__).resolve().parents[2] / "examples" / "demo-force"

#: Department folder -> the workflows it must have.
WORKFLOWS = {
    "response": {"crime_report", "witness_statement"},
    "public-protection": {"child_concern"},
    "investigations": {"investigation_update"},
}
SCENARIOS = sorted(FORCE.glob("*/tests/*.yaml"))
ENV_PLACEHOLDER = re.compile(r"\$\{env:[A-Z][A-Z0-9_]*\}")


@cache
def specs() -> Mapping[str, PluginSpec]:
    """The installed plugins, as `waypost check` and `waypost test` see them."""
    return PluginRegistry.from_entry_points().specs()


@cache
def compiled(folder: str) -> CompiledDepartment:
    """One demo department, compiled with its workflows (raises DefinitionError if broken)."""
    return compile_department(DepartmentSources.read(FORCE / folder), specs())


def run(department: CompiledDepartment, path: Path, text: str | None = None) -> ScenarioResult:
    """Run one scenario file (or ``text`` in its place) through the scenario runner."""
    source = path.read_text(encoding="utf-8") if text is None else text
    scenario = load_scenario(source, str(path), path.stem)
    return asyncio.run(run_scenario(department, scenario, specs()))


@cache
def results(path: Path) -> ScenarioResult:
    """The result of one demo scenario, run once for all the tests that read it."""
    return run(compiled(path.parts[-3]), path)


# --- Loading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", sorted(WORKFLOWS))
def test_each_department_compiles_with_its_workflows(folder: str) -> None:
    """Every demo department compiles (forms, lists and workflows) against the installed plugins,
    and holds exactly the workflows it is meant to, each started by a form of its own."""
    department = compiled(folder)
    assert set(department.workflows) == WORKFLOWS[folder]
    for flow in department.workflows.values():
        assert flow.trigger_form in department.forms
        assert flow.version == "1.0"
        assert flow.routes(), flow.id


@pytest.mark.parametrize("folder", sorted(WORKFLOWS))
def test_every_call_goes_through_a_connection_of_its_own_plugin(folder: str) -> None:
    """Each call step uses a built-in plugin through a department connection made for it, and
    overrides the retry policy of every back-end (http) call."""
    department = compiled(folder)
    calls = [s for f in department.workflows.values() for s in f.steps.values() if s.kind is StepKind.CALL]
    assert calls
    for step in calls:
        assert step.call is not None
        assert step.call.plugin in {"http", "email"}
        assert step.call.connection is not None
        assert department.department.connections[step.call.connection]["plugin"] == step.call.plugin
        if step.call.plugin == "http":
            assert step.call.retry != specs()["http"].retry, step.id


@pytest.mark.parametrize("folder", sorted(WORKFLOWS))
def test_connections_keep_addresses_and_secrets_in_the_environment(folder: str) -> None:
    """Back-end addresses and bearer tokens are ${env:NAME} placeholders, never written in YAML;
    mail goes to a local SMTP sink and carries no password."""
    connections = compiled(folder).department.connections
    assert {c["plugin"] for c in connections.values()} == {"http", "email"}
    for name, connection in connections.items():
        if connection["plugin"] == "http":
            assert ENV_PLACEHOLDER.fullmatch(connection["base_url"]), name
            for header in connection.get("headers", {}).values():
                assert ENV_PLACEHOLDER.search(header), name
        else:
            assert connection["host"] == "127.0.0.1"
            assert "password" not in connection


def test_child_concern_alerts_the_duty_inspector_in_parallel_with_the_referral() -> None:
    """The immediate-risk path is a parallel step whose two branches meet at one join, and the
    supervisor review is due in 4 hours with an escalation when it is overdue."""
    flow = compiled("public-protection").workflows["child_concern"]
    fan_out = flow.steps["act_now"]
    assert fan_out.kind is StepKind.PARALLEL
    assert set(fan_out.branches) == {"alert_duty_inspector", "urgent_referral"}
    assert flow.joins["act_now"] == "acted"
    review = flow.steps["supervisor_review"].task
    assert review is not None
    assert (review.role, review.form, review.due, review.on_overdue) == (
        "supervisor",
        "supervisor_review",
        4 * 3600,
        "escalate_late_review",
    )


# --- Scenarios -----------------------------------------------------------------------------------


def test_every_department_has_scenarios() -> None:
    """Each department with workflows has scenario tests, and each names its workflow."""
    assert {p.parts[-3] for p in SCENARIOS} == set(WORKFLOWS)
    for path in SCENARIOS:
        scenario = load_scenario(path.read_text(encoding="utf-8"), str(path), path.stem)
        assert scenario.workflow in WORKFLOWS[path.parts[-3]], path.name
        assert scenario.now is not None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_demo_scenario_passes(path: Path) -> None:
    """Each scenario's expectations (route, inputs, case data, state, incidents) hold."""
    result = results(path)
    assert result.failures == []
    assert result.passed
    assert result.workflow == result.scenario.workflow


@pytest.mark.slow
@pytest.mark.parametrize("folder", sorted(WORKFLOWS))
def test_the_scenarios_take_every_route_of_every_workflow(folder: str) -> None:
    """Between them, a department's scenarios take every route of each of its workflows."""
    department = compiled(folder)
    for name, flow in department.workflows.items():
        taken: set[str] = set()
        for path in SCENARIOS:
            if path.parts[-3] == folder and results(path).workflow == name:
                taken |= results(path).edges
        untaken = sorted(e.id for e in flow.routes() if e.id not in taken)
        assert untaken == [], f"{folder}/{name}: no scenario takes {untaken}"


# --- The checks can fail -------------------------------------------------------------------------


def copy_department(folder: str, into: Path) -> Path:
    """A copy of one demo department in ``into`` that a test may break."""
    target = into / folder
    shutil.copytree(FORCE / folder, target)
    return target


def test_a_misspelt_name_in_a_demo_workflow_is_reported_at_its_line(tmp_path: Path) -> None:
    """Breaking a condition and a connection of child_concern gives positioned diagnostics."""
    folder = copy_department("public-protection", tmp_path)
    path = folder / "workflows" / "child_concern.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("mash_decision != null", "mash_decison != null")
    text = text.replace(
        "connection: mash\n    with:\n      method: GET", "connection: mas\n    with:\n      method: GET"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        compile_department(DepartmentSources.read(folder), specs())
    message = str(caught.value)
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "mash_decison" in t)
    assert f"child_concern.yaml:{line}:" in message
    assert "unknown name 'mash_decison'" in message
    assert "did you mean 'mash_decision'?" in message
    assert "unknown connection 'mas'" in message


def test_a_connection_with_a_literal_port_placeholder_is_refused(tmp_path: Path) -> None:
    """A mail connection whose port is an ${env:...} text does not suit the email plugin."""
    folder = copy_department("investigations", tmp_path)
    path = folder / "department.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("port: 1025", 'port: "${env:SMTP_PORT}"'), encoding="utf-8"
    )
    with pytest.raises(DefinitionError, match="connection 'mail' does not suit plugin 'email'"):
        compile_department(DepartmentSources.read(folder), specs())


@pytest.mark.slow
def test_a_wrong_expectation_fails_the_scenario() -> None:
    """The runner reports a crime reference and a route that differ from the expected ones."""
    path = FORCE / "response" / "tests" / "crime_burglary_email_confirmation.yaml"
    text = path.read_text(encoding="utf-8")
    wrong = text.replace("    crime_reference: WV/004512/25", "    crime_reference: WV/999999/25")
    wrong = wrong.replace(
        "[triage, create_crime, confirm_to_victim, recorded]", "[triage, create_crime, recorded]"
    )
    assert wrong != text
    result = run(compiled("response"), path, wrong)
    assert not result.passed
    assert any("crime_reference: expected 'WV/999999/25', got 'WV/004512/25'" in f for f in result.failures)
    assert any(f.startswith("route differs") for f in result.failures)


@pytest.mark.slow
def test_answers_the_form_refuses_fail_the_scenario() -> None:
    """A scenario whose answers break the form's own rules fails before the workflow starts."""
    path = FORCE / "investigations" / "tests" / "update_cctv_no_attention.yaml"
    text = path.read_text(encoding="utf-8").replace("WV/004512/25", "WV-4512-25", 1)
    result = run(compiled("investigations"), path, text)
    assert not result.passed
    assert result.edges == set()
    assert any("crime_reference" in f and "validation" in f for f in result.failures)


@pytest.mark.slow
def test_one_scenario_alone_leaves_routes_untaken() -> None:
    """The coverage check can fail: the closing scenario alone misses the MASH routes."""
    flow = compiled("public-protection").workflows["child_concern"]
    result = results(FORCE / "public-protection" / "tests" / "child_review_closes.yaml")
    untaken = {e.id for e in flow.routes()} - result.edges
    assert {"triage#1", "supervisor_review#1", "check_decision#2"} <= untaken
    assert result.edges == {"triage#2", "supervisor_review#2"}


def test_a_scenario_naming_a_step_the_workflow_lacks_fails() -> None:
    """A scripted reply for a step that does not exist is reported with a did-you-mean."""
    path = FORCE / "investigations" / "tests" / "update_cctv_no_attention.yaml"
    text = path.read_text(encoding="utf-8").replace("  add_update:\n    reply:", "  add_updat:\n    reply:")
    result = run(compiled("investigations"), path, text)
    assert not result.passed
    assert any("has no step 'add_updat'" in f and "add_update" in f for f in result.failures)
