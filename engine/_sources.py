"""The texts of a department's definitions, and compiling them into forms and workflows.

The runtime keeps every definition it ever ran as text (``definitions.source``), because a
running instance must be able to rebuild exactly the workflow and forms it started on, long
after the files on disk have changed. So the unit here is the *text*: a
:class:`DepartmentSources` is every definition file of one department folder, read once, and
:func:`compile_department` turns it into checked :class:`~forms.Form` and
:class:`~workflows.Workflow` objects with the same loaders ``waypost check`` uses. The stored
versions are rebuilt by the same functions, so a pinned version means the same thing at every
load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dsl import DefinitionError, Diagnostics
from engine._folder import DEPARTMENT_FILE, FORM_SUFFIXES, LIST_SUFFIXES, read_text
from forms import ChoiceList, Department, Form, load_department, load_form, load_list
from workflows import PluginSpec, Workflow, load_workflow

__all__ = ["CompiledDepartment", "DepartmentSources", "SourceFile", "compile_department"]

WORKFLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One definition file: ``name`` is the path shown in errors, ``file`` the bare file name."""

    name: str
    file: str
    text: str


@dataclass(frozen=True, slots=True)
class DepartmentSources:
    """The text of every definition file of one department folder.

    ``lists``, ``forms`` and ``workflows`` are keyed by the name the file defines (its stem).
    """

    department: SourceFile
    lists: Mapping[str, SourceFile] = field(default_factory=dict)
    forms: Mapping[str, SourceFile] = field(default_factory=dict)
    workflows: Mapping[str, SourceFile] = field(default_factory=dict)
    path: Path | None = None

    @staticmethod
    def read(path: Path) -> DepartmentSources:
        """Read the definition files of department folder ``path``.

        Raises :class:`DefinitionError` (positioned at the file) when a file cannot be read or
        the folder has no department.yaml. Stray files are skipped here; ``waypost check``
        warns about them.
        """
        diags = Diagnostics()
        department = _read(path / DEPARTMENT_FILE, diags)
        lists = _read_folder(path, "lists", LIST_SUFFIXES, diags)
        forms = _read_folder(path, "forms", FORM_SUFFIXES, diags)
        workflows = _read_folder(path, "workflows", WORKFLOW_SUFFIXES, diags)
        diags.raise_if_errors()
        if department is None:  # pragma: no cover - read_text records an error when it fails
            raise DefinitionError.at(None, f"cannot read {path / DEPARTMENT_FILE}")
        return DepartmentSources(
            department,
            MappingProxyType(lists),
            MappingProxyType(forms),
            MappingProxyType(workflows),
            path,
        )


@dataclass(frozen=True, slots=True)
class CompiledDepartment:
    """A department's definitions, checked and compiled, with the texts they came from."""

    sources: DepartmentSources
    department: Department
    lists: Mapping[str, ChoiceList]
    forms: Mapping[str, Form]
    workflows: Mapping[str, Workflow]


def compile_department(sources: DepartmentSources, plugins: Mapping[str, PluginSpec]) -> CompiledDepartment:
    """Check and compile every definition of ``sources`` against the installed ``plugins``.

    Raises one :class:`DefinitionError` holding the problems of every file, sorted by file and
    line, as ``waypost check`` reports them.
    """
    diags = Diagnostics()
    department: Department | None = None
    try:
        department = load_department(sources.department.text, sources.department.name)
    except DefinitionError as error:
        diags.absorb(error)
    lists: dict[str, ChoiceList] = {}
    for name, source in sources.lists.items():
        try:
            lists[name] = load_list(source.text, source.name)
        except DefinitionError as error:
            diags.absorb(error)
    forms: dict[str, Form] = {}
    for name, source in sources.forms.items():
        try:
            form = load_form(source.text, source.name, lists=lists)
        except DefinitionError as error:
            diags.absorb(error)
            continue
        if form.id != name:
            diags.error(
                form.position,
                f"form id '{form.id}' does not match its file name '{source.file}'",
                f"rename the file to '{form.id}.yaml', or change the id to '{name}'",
                code="form-id-mismatch",
            )
            continue
        forms[name] = form
    workflows: dict[str, Workflow] = {}
    if department is not None:
        for source in sources.workflows.values():
            try:
                flow = load_workflow(
                    source.text, source.name, department=department, forms=forms, plugins=plugins
                )
            except DefinitionError as error:
                diags.absorb(error)
                continue
            workflows[flow.id] = flow
    diags.raise_if_errors()
    if department is None:  # pragma: no cover - a failed department always records an error
        raise DefinitionError.at(None, "the department could not be loaded")
    return CompiledDepartment(
        sources,
        department,
        MappingProxyType(lists),
        MappingProxyType(forms),
        MappingProxyType(workflows),
    )


def _read(file: Path, diags: Diagnostics) -> SourceFile | None:
    source = read_text(file, diags)
    if source is None:
        return None
    return SourceFile(source.name, file.name, source.text)


def _read_folder(
    path: Path, part: str, suffixes: tuple[str, ...], diags: Diagnostics
) -> dict[str, SourceFile]:
    folder = path / part
    found: dict[str, SourceFile] = {}
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.is_dir() or entry.suffix.lower() not in suffixes:
            continue
        if entry.stem in found:
            diags.error(
                None,
                f"'{entry.stem}' is defined twice in {part}/: by '{found[entry.stem].file}' and "
                f"by '{entry.name}'",
                "a definition is named after its file; keep one of the two files",
                code="duplicate-name",
            )
            continue
        source = _read(entry, diags)
        if source is not None:
            found[entry.stem] = source
    return found
