"""Suite ``check``: ``waypost check`` of a generated department with a 1,000-item form.

Target (DESIGN.md section 8): at most 1 s. Timed three ways: in the running process through
``engine.cli.main`` (the first run, then the best warm run) and as a fresh subprocess, cold start
included, with an interpreter that only imports ``engine.cli`` as the reference for start-up.
Times are CPU seconds (user + system), the measure least moved by other load on a shared
machine; wall-clock seconds are recorded too. The phases of loading the form are timed on their
own, and when the target is missed a profile of one run says where the time goes.
"""

from __future__ import annotations

import contextlib
import io
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _generate
from bench._profile import by_area, describe, profile, top_functions
from bench._report import BenchError, Column, Config, SuiteResult, Target
from dsl import Diagnostics, load_yaml, to_json
from engine.cli import main as waypost_main
from forms import load_form, load_list
from forms._schemacheck import check_definition

GOAL = 1.0
LIST = "shared list (CSV)"
YAML = "YAML load (dsl.load_yaml)"
SCHEMA = "definition schema check"
REST = "compile and build (the rest)"
WHOLE = "whole load_form"
ROOT = Path(__file__).resolve().parent.parent

COLUMNS = (
    Column("name", "measure"),
    Column("cpu_s", "CPU s", ".3f"),
    Column("wall_s", "wall s", ".3f"),
    Column("share", "share", ".0%"),
    Column("runs", "runs"),
    Column("verdict", "<= 1 s"),
)


def _cpu() -> float:
    return time.process_time()


def _best(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """The best CPU and wall seconds of ``runs`` calls of ``work``."""
    cpu, wall = [], []
    for _ in range(runs):
        c, w = _cpu(), time.perf_counter()
        work()
        cpu.append(_cpu() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall)


def check_in_process(folder: Path) -> None:
    """``waypost check folder`` through ``engine.cli.main``; raise unless it is clean."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = waypost_main(["check", str(folder)])
    if code != 0 or "no problems" not in out.getvalue():
        raise BenchError(f"waypost check of the generated form failed ({code}):\n{out.getvalue()[-2000:]}")


def waypost_command() -> list[str]:
    """The installed ``waypost`` script next to this interpreter, else ``python -m engine.cli``."""
    script = Path(sys.executable).with_name("waypost")
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine.cli"]


def _child_run(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` to completion: its CPU seconds (from the children's rusage) and wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def subprocess_times(folder: Path, runs: int) -> dict[str, tuple[float, float]]:
    """Best (CPU, wall) of the real command and of bare start-up, runs interleaved."""
    check = [*waypost_command(), "check", str(folder)]
    startup = [sys.executable, "-c", "import engine.cli"]
    samples: dict[str, list[tuple[float, float]]] = {"check": [], "startup": []}
    for _ in range(runs):
        samples["check"].append(_child_run(check))
        samples["startup"].append(_child_run(startup))
    return {name: (min(c for c, _ in s), min(w for _, w in s)) for name, s in samples.items()}


def phases(folder: Path, runs: int) -> dict[str, tuple[float, float, float]]:
    """Per phase of loading the department's list and form: best CPU seconds, best wall
    seconds, and median share of the whole ``load_form`` CPU time.

    The phases run back to back in each round. "The rest" (compiling expressions, reading
    options, building the model and the validation plans) is the whole load less the YAML and
    schema phases of the same round; its seconds are the median of the rounds, since the best
    of a difference of noisy times means nothing.
    """
    form_text = (folder / "forms" / f"{_generate.FORM_ID}.yaml").read_text("utf-8")
    list_name = f"{_generate.LIST_NAME}.csv"
    list_text = (folder / "lists" / list_name).read_text("utf-8")
    lists = {_generate.LIST_NAME: load_list(list_text, list_name)}
    root = load_yaml(form_text, "big_form.yaml")
    work: dict[str, Callable[[], object]] = {
        LIST: lambda: load_list(list_text, list_name),
        YAML: lambda: load_yaml(form_text, "big_form.yaml"),
        SCHEMA: lambda: check_definition(root, to_json(root), "form", Diagnostics()),
        WHOLE: lambda: load_form(form_text, "big_form.yaml", lists=lists),
    }
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in [*work, REST]}
    for _ in range(runs):
        for name, job in work.items():
            rounds[name].append(_best(job, 1))
        whole, yaml_, schema = rounds[WHOLE][-1], rounds[YAML][-1], rounds[SCHEMA][-1]
        rounds[REST].append((whole[0] - yaml_[0] - schema[0], whole[1] - yaml_[1] - schema[1]))
    wholes = [c for c, _ in rounds[WHOLE]]
    out: dict[str, tuple[float, float, float]] = {}
    for name, values in rounds.items():
        share = statistics.median(c / w for (c, _), w in zip(values, wholes, strict=True) if w > 0)
        if name == REST:
            cpu = max(statistics.median(c for c, _ in values), 0.0)
            out[name] = (cpu, max(statistics.median(w for _, w in values), 0.0), max(share, 0.0))
        else:
            out[name] = (min(c for c, _ in values), min(w for _, w in values), share)
    return out


def _row(name: str, cpu: float, wall: float, runs: int, share: float | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "cpu_s": cpu, "wall_s": wall, "runs": runs}
    if share is not None:
        row["share"] = share
    else:
        row["verdict"] = "met" if cpu <= GOAL else "MISSED"
    return row


def run(config: Config) -> SuiteResult:
    """Run the suite in a temporary department folder."""
    fields, list_rows = (60, 50) if config.quick else (1000, 500)
    runs = 1 if config.quick else max(3, min(config.rounds, 5))
    result = SuiteResult("check", f"waypost check of a generated {fields}-item form", COLUMNS)
    with tempfile.TemporaryDirectory(prefix="waypost-bench-check-") as tmp:
        folder = Path(tmp) / "bench"
        made = _generate.write_department(folder, fields, list_rows)
        first = _best(lambda: check_in_process(folder), 1)
        warm = _best(lambda: check_in_process(folder), runs)
        children = subprocess_times(folder, runs)
        parts = phases(folder, runs)
        stats = (
            profile(lambda: check_in_process(folder)) if max(warm[0], children["check"][0]) > GOAL else None
        )
    result.rows += [
        _row("subprocess, cold start (waypost check)", *children["check"], runs),
        _row("in-process, first run", *first, 1),
        _row("in-process, warm (best)", *warm, runs),
        _row(
            "reference: start-up (import engine.cli)",
            *children["startup"],
            runs,
            children["startup"][0] / children["check"][0],
        ),
    ]
    for name in (YAML, SCHEMA, REST, WHOLE, LIST):
        result.rows.append(_row(f"phase: {name}", *parts[name][:2], runs, parts[name][2]))
    cold = children["check"][0]
    result.targets.append(
        Target("waypost check, subprocess with cold start (CPU)", f"<= {GOAL:g} s", cold, " s", cold <= GOAL)
    )
    result.targets.append(
        Target("waypost check, in-process warm (CPU)", f"<= {GOAL:g} s", warm[0], " s", warm[0] <= GOAL)
    )
    result.extra["department"] = made
    result.notes.append(
        f"form: {made['fields']} items ({made['expressions']} with an expression, "
        f"{made['expressions'] / made['fields']:.0%}), {made['yaml_lines']} YAML lines; "
        f"list: {list_rows} rows"
    )
    result.notes.append(
        "phase share = median per-round share of the whole load_form CPU time; "
        "start-up share = of the cold subprocess run"
    )
    if stats is not None:
        result.extra["profile_by_area"] = by_area(stats)
        result.extra["profile_top"] = top_functions(stats, 20)
        result.notes.extend(describe(stats, 10))
    return result


__all__ = ["GOAL", "check_in_process", "phases", "run", "subprocess_times", "waypost_command"]
