"""Running a department's scenario tests, checking expectations, and reporting coverage.

:func:`run_tests` runs every ``tests/*.yaml`` of each department folder and prints, for each
scenario, PASS or FAIL with what differed; then, per workflow, how many of its routes
(:meth:`workflows.Workflow.routes`: each decision, ``next``, parallel branch and overdue path)
some scenario took, listing the routes none took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dsl import DefinitionError, Diagnostics
from engine._folder import read_text
from engine._scenario import ScenarioResult, run_scenario
from engine._scenario_load import Expectation, load_scenario
from engine._sources import CompiledDepartment, DepartmentSources, compile_department
from workflows import Edge, EdgeKind, PluginSpec

__all__ = ["Summary", "compare", "run_tests"]


@dataclass
class Summary:
    """Totals of a ``waypost test`` run."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)  # workflow -> (taken, all)

    @property
    def ok(self) -> bool:
        """True when every scenario passed and every file loaded."""
        return self.failed == 0 and self.errors == 0


def compare(expect: Expectation, observed: Mapping[str, Any]) -> list[str]:
    """The expectations ``observed`` does not meet, as sentences (empty: all met)."""
    failures: list[str] = []
    route: list[str] = observed["route"]
    if expect.route is not None and list(expect.route) != route:
        failures.append(
            "route differs:\n"
            f"    expected: {' -> '.join(expect.route) or '(no steps)'}\n"
            f"    got:      {' -> '.join(route) or '(no steps)'}"
        )
    calls: Mapping[str, list[Any]] = observed["inputs"]
    for step, wanted in expect.inputs.items():
        got = calls.get(step, [])
        if not got:
            failures.append(f"inputs of '{step}': the step was never called")
            continue
        expected = list(wanted) * len(got) if len(wanted) == 1 else list(wanted)
        if len(expected) != len(got):
            failures.append(f"inputs of '{step}': expected {len(wanted)} calls, got {len(got)}")
            continue
        for number, (want, have) in enumerate(zip(expected, got, strict=True), start=1):
            where = f"inputs of '{step}'" + (f" (call {number})" if len(got) > 1 else "")
            failures.extend(f"{where}: {problem}" for problem in _mismatches(want, have, ""))
    if expect.case is not None:
        case: Mapping[str, Any] = observed["case"]
        for name, want in expect.case.items():
            if name not in case:
                failures.append(
                    f"case data has no '{name}'" + (f" (it has: {', '.join(sorted(case))})" if case else "")
                )
                continue
            failures.extend(f"case data: {problem}" for problem in _mismatches(want, case[name], name))
    if expect.state is not None and expect.state != observed["state"]:
        failures.append(f"state: expected {expect.state}, got {observed['state']}")
    open_tasks: list[str] = observed["open_tasks"]
    if expect.open_tasks is not None and sorted(expect.open_tasks) != sorted(open_tasks):
        failures.append(f"open tasks: expected {_names(expect.open_tasks)}, got {_names(open_tasks)}")
    incidents: list[tuple[str, str]] = observed["incidents"]
    if expect.incidents is not None:
        steps = sorted(step for step, _ in incidents)
        if sorted(expect.incidents) != steps:
            failures.append(f"incidents: expected {_names(expect.incidents)}, got {_names(steps)}")
    else:
        # An incident nobody expected is almost always a mistake in the test or the workflow.
        failures.extend(f"unexpected incident at step '{step}': {error}" for step, error in incidents)
    return failures


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def _mismatches(want: Any, have: Any, path: str) -> list[str]:
    """Where ``have`` differs from ``want``; mappings are compared only on the keys written."""
    at = path or "value"
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [f"{at}: expected a mapping, got {have!r}"]
        out: list[str] = []
        for key, item in want.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in have:
                out.append(f"{sub}: missing (expected {item!r})")
            else:
                out.extend(_mismatches(item, have[key], sub))
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [f"{at}: expected {want!r}, got {have!r}"]
        return [
            p
            for index, (w, h) in enumerate(zip(want, have, strict=True))
            for p in _mismatches(w, h, f"{at}[{index}]")
        ]
    same = want == have and isinstance(want, bool) == isinstance(have, bool)
    return [] if same else [f"{at}: expected {want!r}, got {have!r}"]


def _describe(edge: Edge) -> str:
    text = f"{edge.id}: {edge.step} -> {edge.goto}"
    if edge.when is not None:
        text += f" when {edge.when}"
    elif edge.kind is EdgeKind.ROUTE:
        text += " (default)"
    elif edge.kind is EdgeKind.OVERDUE:
        text += " (task overdue)"
    return text


async def run_tests(
    folders: Sequence[Path], specs: Mapping[str, PluginSpec], out: TextIO, *, fail_under: float | None = None
) -> Summary:
    """Run the scenario tests of each department folder; print results and coverage to ``out``."""
    summary = Summary()
    for folder in folders:
        try:
            compiled = compile_department(DepartmentSources.read(folder), specs)
        except DefinitionError as error:
            print(f"{folder}: the definitions have errors:\n{error}", file=out)
            summary.errors += 1
            continue
        results = await _run_folder(folder, compiled, specs, out, summary)
        _coverage(compiled, results, out, summary)
    total = summary.passed + summary.failed
    line = f"{total} scenario{'s' if total != 1 else ''}: {summary.passed} passed, {summary.failed} failed"
    if summary.errors:
        line += f", {summary.errors} could not be run"
    print(line, file=out)
    if fail_under is not None:
        for name, (taken, every) in sorted(summary.coverage.items()):
            if every and 100.0 * taken / every < fail_under:
                print(f"coverage of {name} is below {fail_under:g}%", file=out)
                summary.errors += 1
    return summary


async def _run_folder(
    folder: Path, compiled: CompiledDepartment, specs: Mapping[str, PluginSpec], out: TextIO, summary: Summary
) -> list[ScenarioResult]:
    tests = folder / "tests"
    files = sorted(p for p in tests.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if tests.is_dir() else []
    if not files:
        print(f"{folder}: no scenario tests (add tests/<name>.yaml)", file=out)
    results: list[ScenarioResult] = []
    for file in files:
        diags = Diagnostics()
        source = read_text(file, diags)
        try:
            if source is None:
                diags.raise_if_errors()
                continue
            scenario = load_scenario(source.text, source.name, file.stem)
        except DefinitionError as error:
            print(f"ERROR {file}\n{error}", file=out)
            summary.errors += 1
            continue
        result = await run_scenario(compiled, scenario, specs)
        results.append(result)
        if result.passed:
            summary.passed += 1
            print(f"PASS  {file}  {scenario.title}", file=out)
        else:
            summary.failed += 1
            print(f"FAIL  {file}  {scenario.title}", file=out)
            for failure in result.failures:
                print("      " + failure.replace("\n", "\n      "), file=out)
    return results


def _coverage(
    compiled: CompiledDepartment, results: list[ScenarioResult], out: TextIO, summary: Summary
) -> None:
    for name, flow in sorted(compiled.workflows.items()):
        edges = flow.routes()
        taken = set().union(*(r.edges for r in results if r.workflow == name)) if results else set()
        missed = [e for e in edges if e.id not in taken]
        count = len(edges) - len(missed)
        label = f"{compiled.department.id}/{name}"
        summary.coverage[label] = (count, len(edges))
        percent = 100.0 * count / len(edges) if edges else 100.0
        print(f"coverage of {label}: {count} of {len(edges)} routes taken ({percent:.0f}%)", file=out)
        for edge in missed:
            print(f"    not taken: {_describe(edge)}", file=out)
