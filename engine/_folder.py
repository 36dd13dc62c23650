"""Reading a department folder from disk.

The pure packages (``dsl``, ``forms``, ``workflows``) never touch files: they are handed text and
a name. This module is where Waypost reads a department's folder (layout in docs/forms.md)::

    <department>/
      department.yaml
      lists/<list>.csv | <list>.yaml | <list>.yml
      forms/<form>.yaml
      workflows/<flow>.yaml      (loaded by the next stage; see ``_load_workflows``)

Every file is read and checked before anything is raised, so an author sees every problem of a
folder in one run: the diagnostics of all files are gathered into one :class:`DefinitionError`,
sorted by file, line and column. Warnings (a stray file that is ignored) never stop loading; they
travel on the :class:`LoadedDepartment` or, when there are errors too, inside the error.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsl import DefinitionError, Diagnostic, Diagnostics, Position, Source, YMap, YScalar, load_yaml
from forms import ChoiceList, Department, Form, load_department, load_form, load_list
from workflows import PluginSpec, Workflow, load_workflow

DEPARTMENT_FILE = "department.yaml"
LIST_SUFFIXES = (".csv", ".yaml", ".yml")
FORM_SUFFIXES = (".yaml", ".yml")
# Sub-folders that make a folder look like a department even when department.yaml is missing, so
# that a misnamed department.yaml is reported instead of the whole department being skipped.
_DEPARTMENT_PARTS = ("forms", "lists", "workflows")


@dataclass(frozen=True, slots=True)
class LoadedDepartment:
    """Everything defined in one department folder, checked and ready to serve.

    ``forms`` is keyed by form id (which is also the file name), ``lists`` by list name (the file
    name without its extension). ``warnings`` holds the problems that did not stop loading.
    """

    department: Department
    forms: Mapping[str, Form]
    lists: Mapping[str, ChoiceList]
    path: Path
    warnings: tuple[Diagnostic, ...] = field(default=())
    workflows: Mapping[str, Workflow] = field(default_factory=dict)


def load_department_folder(
    path: Path, *, plugins: Mapping[str, PluginSpec] | None = None
) -> LoadedDepartment:
    """Load and check the department in folder ``path``.

    Raises :class:`DefinitionError` holding the diagnostics of every file (warnings included)
    when any file has an error. Positions name files as ``path / <file>``, so pass the path the
    way the author should see it (the CLI passes paths relative to the current directory).
    Workflows are checked against ``plugins`` (default: the plugins installed through the
    ``waypost.steps`` entry points, loaded only when the department has workflows).
    """
    diags = Diagnostics()
    department = _load_department_file(path, diags)
    lists = load_lists(path / "lists", diags)
    forms = _load_forms(path / "forms", lists, diags)
    # Workflows come last: they refer to the department's roles and forms by id.
    workflows = _load_workflows(path / "workflows", department, forms, plugins, diags)
    diags.raise_if_errors()
    if department is None:  # pragma: no cover - a missing department always records an error
        raise DefinitionError.at(_folder_position(path), "the department could not be loaded")
    return LoadedDepartment(
        department=department,
        forms=forms,
        lists=lists,
        path=path,
        warnings=tuple(sorted(diags, key=Diagnostic.sort_key)),
        workflows=workflows,
    )


def find_departments(path: Path) -> list[Path]:
    """The department folders under ``path``, in name order.

    A folder holding ``department.yaml`` is one department. Otherwise every direct sub-folder
    that holds one is (a force folder such as ``examples/demo-force``). A folder that has
    ``forms/``, ``lists/`` or ``workflows/`` but no ``department.yaml`` is returned too, so that
    loading it reports the missing file rather than the department being silently skipped.

    Raises :class:`DefinitionError` positioned at ``path`` when no department is found, and
    :class:`NotADirectoryError` / :class:`FileNotFoundError` when ``path`` is not a folder.
    """
    if not path.exists():
        raise FileNotFoundError(f"no such folder: {path}")
    if not path.is_dir():
        raise NotADirectoryError(f"not a folder: {path}")
    if _present(path / DEPARTMENT_FILE):
        return [path]
    found = [
        child
        for child in sorted(path.iterdir(), key=lambda p: p.name)
        if child.is_dir() and not child.name.startswith(".") and _looks_like_department(child)
    ]
    if not found and _looks_like_department(path):
        return [path]  # a department folder whose department.yaml is missing: loading reports it
    if not found:
        raise DefinitionError.at(
            _folder_position(path),
            f"no department found: '{path}' has no {DEPARTMENT_FILE} and no sub-folder with one",
            hint=(
                f"a department folder holds {DEPARTMENT_FILE} (with forms/ and lists/); "
                "a force folder holds one such folder per department"
            ),
            code="no-department",
        )
    return found


def read_text(path: Path, diags: Diagnostics) -> Source | None:
    """Read a UTF-8 file, or record a positioned error and return None.

    A byte-order mark is accepted (spreadsheet programs write one at the start of CSV files).
    Invalid UTF-8 is reported at the line and column of the first bad byte.
    """
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        diags.error(_file_position(path), f"cannot read the file: {reason}", code="unreadable")
        return None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return Source(name, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        # Show the line with the bad byte replaced, and point the caret at it.
        source = Source(name, data.decode("utf-8", errors="replace"))
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        prefix = data[line_start : exc.start].decode("utf-8", errors="replace")
        diags.error(
            Position(source, line, len(prefix) + 1),
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="save the file with UTF-8 encoding (in Excel: 'CSV UTF-8 (Comma delimited)')",
            code="encoding",
        )
        return None


def load_lists(folder: Path, diags: Diagnostics) -> dict[str, ChoiceList]:
    """Load every list in ``folder`` (if it exists), keyed by name; problems go to ``diags``."""
    lists: dict[str, ChoiceList] = {}
    claimed: dict[str, Path] = {}
    for file in _definition_files(folder, LIST_SUFFIXES, "list", diags):
        name = file.stem
        if _claim(name, file, claimed, "list", diags):
            continue
        source = read_text(file, diags)
        if source is None:
            continue
        try:
            lists[name] = load_list(source.text, source.name)
        except DefinitionError as exc:
            diags.absorb(exc)
    return lists


def load_form_file(file: Path, lists: Mapping[str, ChoiceList], diags: Diagnostics) -> Form | None:
    """Load one form file and check that its id matches the file name; problems go to ``diags``."""
    source = read_text(file, diags)
    if source is None:
        return None
    try:
        form = load_form(source.text, source.name, lists=lists)
    except DefinitionError as exc:
        diags.absorb(exc)
        _check_form_id(source, file.stem, diags)  # still worth saying, with the other problems
        return None
    if form.id != file.stem:
        _check_form_id(source, file.stem, diags)
        return None
    return form


def _load_department_file(path: Path, diags: Diagnostics) -> Department | None:
    file = path / DEPARTMENT_FILE
    if not _present(file):
        near = sorted(
            p.name
            for p in (path.iterdir() if path.is_dir() else ())
            if p.is_file() and p.name.lower() in {"department.yml", "department.yaml", "departments.yaml"}
        )
        hint = (
            f"rename '{near[0]}' to '{DEPARTMENT_FILE}'"
            if near
            else f"create {DEPARTMENT_FILE} with the department's id, title and roles (docs/forms.md)"
        )
        diags.error(
            _folder_position(path),
            f"this department folder has no {DEPARTMENT_FILE}",
            hint=hint,
            code="no-department",
        )
        return None
    source = read_text(file, diags)
    if source is None:
        return None
    try:
        return load_department(source.text, source.name)
    except DefinitionError as exc:
        diags.absorb(exc)
        return None


def _load_forms(folder: Path, lists: Mapping[str, ChoiceList], diags: Diagnostics) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    claimed: dict[str, Path] = {}
    for file in _definition_files(folder, FORM_SUFFIXES, "form", diags):
        if _claim(file.stem, file, claimed, "form", diags):
            continue
        form = load_form_file(file, lists, diags)
        if form is not None:
            forms[form.id] = form
    return forms


def _load_workflows(
    folder: Path,
    department: Department | None,
    forms: Mapping[str, Form],
    plugins: Mapping[str, PluginSpec] | None,
    diags: Diagnostics,
) -> dict[str, Workflow]:
    files = _definition_files(folder, FORM_SUFFIXES, "workflow", diags)
    if not files or department is None:
        return {}
    if plugins is None:
        # Imported here: loading the plugins pulls in httpx and aiosmtplib, which a department
        # without workflows never needs.
        from engine._registry import PluginRegistry

        plugins = PluginRegistry.from_entry_points().specs()
    workflows: dict[str, Workflow] = {}
    claimed: dict[str, Path] = {}
    for file in files:
        if _claim(file.stem, file, claimed, "workflow", diags):
            continue
        source = read_text(file, diags)
        if source is None:
            continue
        try:
            flow = load_workflow(
                source.text, source.name, department=department, forms=forms, plugins=plugins
            )
        except DefinitionError as exc:
            diags.absorb(exc)
            continue
        workflows[flow.id] = flow
    return workflows


def _definition_files(folder: Path, suffixes: tuple[str, ...], kind: str, diags: Diagnostics) -> list[Path]:
    """The files of ``folder`` with one of ``suffixes``, in name order; warn about any other file.

    Hidden files (``.DS_Store``, editor swap files) are skipped without a word.
    """
    if not folder.is_dir():
        return []
    files: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        # Not `is_file()`: a file that cannot be read (a dangling link) is reported by read_text.
        if entry.suffix.lower() in suffixes and not entry.is_dir():
            files.append(entry)
            continue
        is_dir = entry.is_dir()
        endings = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
        diags.warning(
            _folder_position(entry) if is_dir else _file_position(entry),
            f"ignored {'folder' if is_dir else 'file'} in {folder.name}/: a {kind} file ends in {endings}",
            hint=f"rename it, or move it out of {folder.name}/ if it is not a {kind}",
            code="stray-file",
        )
    return files


def _claim(name: str, file: Path, claimed: dict[str, Path], kind: str, diags: Diagnostics) -> bool:
    """Record that ``file`` defines ``name``; report and return True when another file already did."""
    first = claimed.get(name)
    if first is None:
        claimed[name] = file
        return False
    diags.error(
        _file_position(file),
        f"{kind} name '{name}' is defined twice: by '{first.name}' and by '{file.name}'",
        hint=f"a {kind} is named after its file; keep one of the two files",
        code="duplicate-name",
    )
    return True


def _check_form_id(source: Source, expected: str, diags: Diagnostics) -> None:
    """Report a ``form:`` id that differs from the file name, at the id itself."""
    try:
        root = load_yaml(source.text, source.name)
    except DefinitionError:
        return  # the form loader has already reported the YAML problem
    if not isinstance(root, YMap):
        return
    node = root.get("form")
    if not isinstance(node, YScalar) or not isinstance(node.value, str) or node.value == expected:
        return
    diags.error(
        node.pos,
        f"form id '{node.value}' does not match its file name '{expected}'",
        hint=f"the file of form '{node.value}' must be named '{node.value}.yaml', or change the id to "
        f"'{expected}'",
        code="form-id-mismatch",
    )


def _present(path: Path) -> bool:
    """True when ``path`` exists, or is a link to nothing (reading it then reports the problem)."""
    return path.is_symlink() or path.exists()


def _looks_like_department(folder: Path) -> bool:
    if _present(folder / DEPARTMENT_FILE):
        return True
    return any((folder / part).is_dir() for part in _DEPARTMENT_PARTS)


def _folder_position(path: Path) -> Position:
    """A position for a problem with a whole folder, named with a trailing separator."""
    return Position(Source(os.path.join(path, ""), ""), 1, 1)


def _file_position(path: Path) -> Position:
    """A position for a problem with a whole file or folder (there is no line to point at)."""
    return Position(Source(str(path), ""), 1, 1)
