"""A department at a glance, for the force and department pages of the author preview.

A department whose definitions have errors still gets a summary: its forms and workflows are
named after their files, and its problems are the compiler-style diagnostics an author sees from
``waypost check`` (file, line and column, the line, a caret, a hint).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dsl import Diagnostic, Severity
from forms import Department, Form, Text
from workflows import Workflow


@dataclass(frozen=True, slots=True)
class DefinitionLink:
    """A form or workflow in a list: ``name`` is its id (and URL segment), ``note`` a short aside."""

    name: str
    title: Text
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DepartmentSummary:
    """What the force page shows of one department.

    ``key`` is the department's URL segment, ``folder`` the folder it was read from. ``problems``
    holds each diagnostic formatted as ``waypost check`` prints it; an empty tuple means clean.
    """

    key: str
    folder: str
    title: Text
    description: Text | None
    roles: tuple[tuple[str, Text], ...]
    forms: tuple[DefinitionLink, ...]
    workflows: tuple[DefinitionLink, ...]
    problems: tuple[str, ...] = ()
    errors: int = 0
    warnings: int = 0

    @property
    def ok(self) -> bool:
        """True when the department's definitions loaded without a problem."""
        return not self.problems

    @property
    def status(self) -> str:
        """``"No problems"`` or ``"3 problems"``."""
        count = len(self.problems)
        if not count:
            return "No problems"
        return f"{count} problem{'s' if count != 1 else ''}"


def summarise_department(
    key: str,
    folder: str,
    *,
    department: Department | None,
    forms: Mapping[str, Form] | Iterable[str],
    workflows: Mapping[str, Workflow] | Iterable[str],
    diagnostics: Iterable[Diagnostic] = (),
) -> DepartmentSummary:
    """Summarise a department: loaded models when it compiled, else the names of its files.

    ``forms`` and ``workflows`` are the compiled definitions by id, or just their names when the
    department did not compile; ``diagnostics`` are its problems (empty when it is clean).
    """
    problems = tuple(diagnostics)
    form_links = tuple(
        DefinitionLink(name, model.title, None)
        if isinstance(model, Form)
        else DefinitionLink(name, Text(name), None)
        for name, model in _pairs(forms)
    )
    flow_links = tuple(
        DefinitionLink(name, Text(model.title), f"starts when {model.trigger_form} is submitted")
        if isinstance(model, Workflow)
        else DefinitionLink(name, Text(name), None)
        for name, model in _pairs(workflows)
    )
    return DepartmentSummary(
        key=key,
        folder=folder,
        title=department.title if department is not None else Text(key),
        description=department.description if department is not None else None,
        roles=tuple(sorted(department.roles.items())) if department is not None else (),
        forms=form_links,
        workflows=flow_links,
        problems=tuple(d.format() for d in problems),
        errors=sum(1 for d in problems if d.severity is Severity.ERROR),
        warnings=sum(1 for d in problems if d.severity is Severity.WARNING),
    )


def _pairs(
    given: Mapping[str, Form] | Mapping[str, Workflow] | Iterable[str],
) -> list[tuple[str, Form | Workflow | None]]:
    if isinstance(given, Mapping):
        return sorted(given.items())
    return [(name, None) for name in sorted(given)]
