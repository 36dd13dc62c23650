"""The author commands of the CLI: ``waypost check`` and ``waypost schema``.

``check`` writes its diagnostics to stdout (they are the command's output, and an editor or CI
log reads them from there); ``schema`` writes the schema to stdout and any problem to stderr, so
that ``waypost schema form.yaml > form.schema.json`` never puts diagnostics in the JSON file.
Usage errors and missing paths go to stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dsl import DefinitionError, Diagnostic, Diagnostics, Severity
from engine._folder import (
    LoadedDepartment,
    find_departments,
    load_department_folder,
    load_form_file,
    load_lists,
)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


@dataclass
class CheckReport:
    """What one ``waypost check`` run found, across every folder it was given."""

    departments: int = 0
    loaded: list[LoadedDepartment] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of error severity."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics of warning severity."""
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    def summary(self, seconds: float) -> str:
        """The last line of the output, e.g. ``checked 3 departments: 5 forms, 9 lists, no problems``."""
        took = f"({seconds:.2f} s)"
        warnings = len(self.warnings)
        errors = self.errors
        if errors:
            files = len({d.position.path if d.position is not None else "" for d in errors})
            also = f" and {plural(warnings, 'warning')}" if warnings else ""
            return f"found {plural(len(errors), 'error')} in {plural(files, 'file')}{also} {took}"
        forms = sum(len(d.forms) for d in self.loaded)
        lists = sum(len(d.lists) for d in self.loaded)
        flows = sum(len(d.workflows) for d in self.loaded)
        problems = plural(warnings, "warning") if warnings else "no problems"
        return (
            f"checked {plural(self.departments, 'department')}: {plural(forms, 'form')}, "
            f"{plural(flows, 'workflow')}, {plural(lists, 'list')}, {problems} {took}"
        )


def plural(count: int, noun: str) -> str:
    """``1 form``, ``2 forms``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def display_path(path: Path) -> Path:
    """``path`` relative to the current directory when it lies inside it, else unchanged.

    Diagnostics name files the way the loader was given them, so the CLI passes this form.
    """
    if not path.is_absolute():
        return path
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def check_paths(paths: Iterable[Path]) -> CheckReport:
    """Load every department under each of ``paths`` and gather what was found."""
    report = CheckReport()
    seen: set[Path] = set()
    for path in paths:
        try:
            departments = find_departments(path)
        except DefinitionError as exc:
            report.diagnostics.extend(exc.diagnostics)
            continue
        for folder in departments:
            key = folder.resolve()
            if key in seen:  # the same department given twice (a force and one of its folders)
                continue
            seen.add(key)
            report.departments += 1
            try:
                loaded = load_department_folder(folder)
            except DefinitionError as exc:
                report.diagnostics.extend(exc.diagnostics)
            else:
                report.loaded.append(loaded)
                report.diagnostics.extend(loaded.warnings)
    return report


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost check DIR [DIR ...]``."""
    paths = [Path(d) for d in args.dirs]
    bad = [_path_problem(p, want_dir=True) for p in paths]
    if any(bad):
        for problem in bad:
            if problem:
                print(f"waypost check: error: {problem}", file=err)
        return EXIT_USAGE
    started = time.perf_counter()
    report = check_paths(display_path(p) for p in paths)
    write_diagnostics(report.diagnostics, out)
    print(report.summary(time.perf_counter() - started), file=out)
    return EXIT_INVALID if report.errors else EXIT_OK


def run_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost schema FORM.yaml [--indent N]``."""
    given = Path(args.form)
    problem = _path_problem(given, want_dir=False)
    if problem:
        print(f"waypost schema: error: {problem}", file=err)
        return EXIT_USAGE
    path = display_path(given)
    list_diags, form_diags = Diagnostics(), Diagnostics()
    # The department's shared lists sit next to its forms/ folder. A broken list that this form
    # does not use is `check`'s business; when the form fails, the list problems may be the cause
    # (an "unknown list" error), so they are shown with the form's.
    lists = load_lists(path.parent.parent / "lists", list_diags)
    form = load_form_file(path, lists, form_diags)
    if form is None or form_diags.has_errors:
        diags = [*list_diags, *form_diags]
        errors = [d for d in diags if d.severity is Severity.ERROR]
        write_diagnostics(diags, err)
        files = len({d.position.path if d.position is not None else "" for d in errors})
        print(f"found {plural(len(errors), 'error')} in {plural(files, 'file')}", file=err)
        return EXIT_INVALID
    indent = args.indent if args.indent > 0 else None
    out.write(json.dumps(form.json_schema(), indent=indent, ensure_ascii=False, sort_keys=False))
    out.write("\n")
    return EXIT_OK


def write_diagnostics(diagnostics: Iterable[Diagnostic], out: TextIO) -> None:
    """Print each diagnostic in compiler format, sorted by file and line, a blank line after each."""
    for diagnostic in sorted(diagnostics, key=Diagnostic.sort_key):
        print(diagnostic.format(), file=out)
        print(file=out)


def _path_problem(path: Path, *, want_dir: bool) -> str | None:
    """Why ``path`` cannot be used, or None when it can."""
    if not path.exists():
        return f"no such {'folder' if want_dir else 'file'}: {path}"
    if want_dir and not path.is_dir():
        return f"not a folder: {path} (give a department folder or a force folder)"
    if not want_dir and path.is_dir():
        return f"{path} is a folder; give a form file (<department>/forms/<form>.yaml)"
    return None
