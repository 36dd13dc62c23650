"""``waypost test``: scenario tests of a department's workflows, run by the real executor.

Each scenario (``tests/<name>.yaml``, format in docs/workflows.md) runs on a fresh temporary
SQLite database with the real :class:`~engine.Runtime`: the answers are submitted through the
form, jobs run one at a time, tasks are claimed and completed through the task API. Only two
things are fake: the plugins (a mock per installed plugin, keeping its input and output schemas,
answering as the scenario scripts per step) and the clock, which stands still unless an
``advance`` action moves it or a failed step waits for its retry.

The result of each scenario lists the failed expectations; the routes each took feed a coverage
report of every workflow (:mod:`engine._scenario_report`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from dsl import did_you_mean
from engine._database import Database
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._incidents import RuntimeFault
from engine._queue import JobQueue
from engine._registry import PluginRegistry
from engine._scenario_load import MockPlugin, Scenario
from engine._sources import CompiledDepartment
from engine._tables import (
    Base,
    CaseValue,
    Department,
    Incident,
    Instance,
    InstanceEvent,
    Job,
    StepRun,
    Task,
    User,
    UserRole,
)
from forms import ValidationResult
from workflows import PluginSpec, Workflow

__all__ = ["ScenarioResult", "run_scenario"]

_USER = "scenario-tester"
_MAX_ROUNDS = 10_000


@dataclass
class ScenarioResult:
    """The outcome of one scenario: ``failures`` (empty when it passed) and the edges it took."""

    scenario: Scenario
    workflow: str | None = None
    failures: list[str] = field(default_factory=list)
    edges: set[str] = field(default_factory=set)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.failures


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class _AnyEnv(Mapping[str, str]):
    """Every environment variable is set (to a placeholder): connections need no secrets here."""

    def __getitem__(self, key: str) -> str:
        return f"<{key}>"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


async def run_scenario(
    compiled: CompiledDepartment, scenario: Scenario, specs: Mapping[str, PluginSpec]
) -> ScenarioResult:
    """Run ``scenario`` against ``compiled`` with mocks of ``specs``; never raises for a failure."""
    result = ScenarioResult(scenario)
    flow = _choose_workflow(compiled, scenario, result)
    if flow is None:
        return result
    result.workflow = flow.id
    _check_names(flow, scenario, result)
    if result.failures:
        return result
    run = _Run(compiled, scenario, specs, flow, result)
    try:
        await run.go()
    except Exception as exc:  # a scenario that breaks the runner is a failed scenario, not a crash
        result.failures.append(f"the scenario could not run: {type(exc).__name__}: {exc}")
    finally:
        run.close()
    return result


def _choose_workflow(
    compiled: CompiledDepartment, scenario: Scenario, result: ScenarioResult
) -> Workflow | None:
    flows = compiled.workflows
    if scenario.workflow is not None:
        flow = flows.get(scenario.workflow)
        if flow is None:
            hint = did_you_mean(scenario.workflow, flows) or ""
            result.failures.append(f"unknown workflow '{scenario.workflow}' {hint}".strip())
        return flow
    candidates = [f for f in flows.values() if scenario.form is None or f.trigger_form == scenario.form]
    if len(candidates) == 1:
        return candidates[0]
    what = f"form '{scenario.form}'" if scenario.form else "this department"
    if not candidates:
        result.failures.append(f"no workflow is started by {what}")
    else:
        names = ", ".join(sorted(f.id for f in candidates))
        result.failures.append(f"{what} has several workflows ({names}): say which with 'workflow:'")
    return None


def _check_names(flow: Workflow, scenario: Scenario, result: ScenarioResult) -> None:
    expect = scenario.expect
    named: list[tuple[str, str]] = [(s, "steps") for s in scenario.steps]
    named += [(s, "tasks") for s in scenario.tasks]
    named += [(a.step, "actions") for a in scenario.actions if a.kind != "advance"]
    named += [(s, "expect.inputs") for s in expect.inputs]
    for part in ("route", "open_tasks", "incidents"):
        named += [(s, f"expect.{part}") for s in getattr(expect, part) or ()]
    for step, where in named:
        if step not in flow.steps:
            hint = did_you_mean(step, flow.steps)
            result.failures.append(
                f"{where}: workflow '{flow.id}' has no step '{step}'" + (f" ({hint})" if hint else "")
            )
    if scenario.form is not None and scenario.form != flow.trigger_form:
        result.failures.append(
            f"workflow '{flow.id}' is started by form '{flow.trigger_form}', not '{scenario.form}'"
        )


class _Run:
    def __init__(
        self,
        compiled: CompiledDepartment,
        scenario: Scenario,
        specs: Mapping[str, PluginSpec],
        flow: Workflow,
        result: ScenarioResult,
    ) -> None:
        self.compiled = compiled
        self.scenario = scenario
        self.flow = flow
        self.result = result
        start = scenario.now or datetime.now(UTC).replace(second=0, microsecond=0)
        self.clock = _Clock(start)
        self.db = Database("sqlite://")
        Base.metadata.create_all(self.db.engine)
        registry = PluginRegistry()
        self.calls: Counter[str] = Counter()
        for spec in specs.values():
            registry.register(MockPlugin(spec, scenario.steps, self.calls))
        self.queue = JobQueue(self.db, clock=self.clock, poll_interval=0.01)
        store = DefinitionStore(self.db, specs, clock=self.clock)
        self.rt = Runtime(
            self.db, self.queue, store, registry, clock=self.clock, rand=lambda: 0.5, environ=_AnyEnv()
        )
        self.task_answers = {step: list(answers) for step, answers in scenario.tasks.items()}
        self.instance_id = ""

    def close(self) -> None:
        self.queue.close()
        self.db.dispose()

    def fail(self, message: str) -> None:
        self.result.failures.append(message)

    async def go(self) -> None:
        with self.db.session() as session:
            self.rt.store.publish(session, self.compiled)
            session.add(
                User(
                    id=_USER, username=_USER, display_name="Scenario test", department_id=self.flow.department
                )
            )
        if not self._submit():
            return
        await self.settle()
        for action in self.scenario.actions:
            if action.kind == "advance":
                self.clock.now += timedelta(seconds=action.seconds)
            elif action.kind == "complete":
                self._complete_action(action.step, action.answers)
            else:
                self._retry(action.step)
            await self.settle()
        self._check()

    def _submit(self) -> bool:
        flow_id, _ = self.rt.store.current_workflow(self.flow.department, self.flow.id)
        with self.db.session() as session:
            sub = self.rt.submit(session, self.flow.department, self.flow.trigger_form, self.scenario.answers)
            if not sub.ok:
                self.fail("the answers do not pass the form's validation: " + _errors(sub.validation))
                return False
            self.instance_id = session.scalars(
                select(Instance.id).where(
                    Instance.submission_id == sub.submission_id, Instance.definition_id == flow_id
                )
            ).one()
        return True

    async def settle(self) -> None:
        """Run due jobs and scripted tasks; jump the clock to pending retries, never to timers."""
        for _ in range(_MAX_ROUNDS):
            await self.rt.run_until_idle(owner="scenario")
            if self._auto_tasks():
                continue
            with self.db.session(write=False) as session:
                retry = session.scalar(
                    select(func.min(Job.due_at)).where(Job.state == "ready", Job.kind == "run_step")
                )
            if retry is not None and retry > self.clock.now:
                self.clock.now = retry
                continue
            return
        self.fail(f"the workflow did not settle after {_MAX_ROUNDS} rounds")

    def _open_tasks(self) -> list[Task]:
        with self.db.session(write=False) as session:
            query = select(Task).where(
                Task.instance_id == self.instance_id, Task.state.in_(("open", "claimed"))
            )
            return list(session.scalars(query.order_by(Task.created_at, Task.id)))

    def _auto_tasks(self) -> bool:
        for task in self._open_tasks():
            queued = self.task_answers.get(task.step)
            if queued:
                self._complete(task, queued.pop(0))
                return True
        return False

    def _complete_action(self, step: str, answers: Mapping[str, Any] | None) -> None:
        task = next((t for t in self._open_tasks() if t.step == step), None)
        if task is None:
            self.fail(f"actions: there is no open task at step '{step}' to complete")
            return
        if answers is None:
            queued = self.task_answers.get(step)
            answers = queued.pop(0) if queued else {}
        self._complete(task, answers)

    def _complete(self, task: Task, answers: Mapping[str, Any]) -> None:
        with self.db.session() as session:
            if session.get(Department, task.department_id) is None:
                session.add(Department(id=task.department_id, title=task.department_id))
                session.flush()
            if session.get(UserRole, (_USER, task.department_id, task.role)) is None:
                session.add(UserRole(user_id=_USER, department_id=task.department_id, role=task.role))
        try:
            with self.db.session() as session:
                if task.state == "open":
                    self.rt.claim_task(session, task.id, _USER)
                outcome: ValidationResult = self.rt.complete_task(session, task.id, _USER, answers)
        except RuntimeFault as exc:
            self.fail(f"task '{task.step}': {exc}")
            return
        if not outcome.ok:
            self.fail(
                f"task '{task.step}': the answers do not pass its form's validation: {_errors(outcome)}"
            )
            self.task_answers.pop(task.step, None)

    def _retry(self, step: str) -> None:
        with self.db.session() as session:
            incident = session.scalars(
                select(Incident).where(
                    Incident.instance_id == self.instance_id,
                    Incident.step == step,
                    Incident.resolved_at.is_(None),
                )
            ).first()
            if incident is None:
                self.fail(f"actions: there is no open incident at step '{step}' to retry")
                return
            self.rt.retry_incident(session, incident.id, by=_USER)

    def _check(self) -> None:
        from engine._scenario_report import compare

        with self.db.session(write=False) as session:
            events = list(
                session.scalars(
                    select(InstanceEvent)
                    .where(InstanceEvent.instance_id == self.instance_id)
                    .order_by(InstanceEvent.id)
                )
            )
            runs = list(
                session.scalars(
                    select(StepRun).where(StepRun.instance_id == self.instance_id).order_by(StepRun.id)
                )
            )
            case: dict[str, Any] = dict(
                session.execute(
                    select(CaseValue.name, CaseValue.value).where(CaseValue.instance_id == self.instance_id)
                ).all()
            )
            instance = session.get(Instance, self.instance_id)
            incidents = list(
                session.scalars(
                    select(Incident).where(
                        Incident.instance_id == self.instance_id, Incident.resolved_at.is_(None)
                    )
                )
            )
        self.result.edges = {
            str(e.detail["edge"])
            for e in events
            if e.kind == "route" and isinstance(e.detail, dict) and "edge" in e.detail
        }
        route = [str(e.step) for e in events if e.kind == "entered"]
        inputs: dict[str, list[Any]] = {}
        for run in runs:
            if self.flow.steps[run.step].call is not None:
                inputs.setdefault(run.step, []).append(run.inputs)
        observed = {
            "route": route,
            "inputs": inputs,
            "case": case,
            "state": instance.state if instance is not None else "missing",
            "open_tasks": [t.step for t in self._open_tasks()],
            "incidents": [(i.step, i.error) for i in incidents],
        }
        self.result.failures.extend(compare(self.scenario.expect, observed))


def _errors(result: ValidationResult) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e.path) or '(form)'}: {e.message}" for e in result.blocking)
