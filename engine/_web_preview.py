"""The definitions the author preview shows: every department of a folder, kept up to date.

:class:`ForcePreview` reads a force folder (or one department folder) with the same functions
``waypost check`` and the runtime use (:func:`~engine._folder.find_departments`,
:meth:`DepartmentSources.read`, :func:`compile_department`). A department that does not compile
is kept as its diagnostics, so one broken file never takes the other departments down.

With ``reload`` on, :meth:`ForcePreview.state` first scans the folder's files (name, size and
modification time: no file is read unless something changed) and compiles again only the
departments whose files changed. ``on_compiled`` is called with each department that compiled
anew, which is how ``waypost serve`` publishes an edited definition for its worker.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from dsl import DefinitionError, Diagnostic
from engine._folder import find_departments
from engine._sources import CompiledDepartment, DepartmentSources, compile_department
from forms import Department, load_department
from renderers import DepartmentSummary, summarise_department
from workflows import PluginSpec

__all__ = ["DepartmentState", "ForcePreview", "ForceState"]

log = logging.getLogger("waypost.web")

Stamp = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class DepartmentState:
    """One department as the preview sees it: compiled, or the problems that stopped it.

    ``key`` is its URL segment: the department id, or the folder name when department.yaml
    cannot be read. ``sources`` is None only when the files themselves could not be read.
    """

    key: str
    folder: Path
    compiled: CompiledDepartment | None
    sources: DepartmentSources | None
    department: Department | None
    diagnostics: tuple[Diagnostic, ...] = ()
    summary: DepartmentSummary = field(init=False, repr=False)

    def __post_init__(self) -> None:
        compiled = self.compiled
        summary = summarise_department(
            self.key,
            str(self.folder),
            department=self.department,
            forms=compiled.forms if compiled else (self.sources.forms if self.sources else ()),
            workflows=compiled.workflows if compiled else (self.sources.workflows if self.sources else ()),
            diagnostics=self.diagnostics,
        )
        object.__setattr__(self, "summary", summary)

    def defines(self, kind: str, name: str) -> bool:
        """Whether the department has a ``kind`` ("forms" or "workflows") called ``name``.

        For a department with problems this is answered from its file names, so that a broken
        form's page shows the problems instead of "not found".
        """
        if self.compiled is not None:
            found: Mapping[str, object] = getattr(self.compiled, kind)
            return name in found
        if self.sources is None:
            return True  # nothing could be read: every page of the department shows the problems
        files: Mapping[str, object] = getattr(self.sources, kind)
        return name in files


@dataclass(frozen=True, slots=True)
class ForceState:
    """Every department under the folder, by key, in folder order; ``problem`` when there is none."""

    folder: Path
    departments: Mapping[str, DepartmentState]
    problem: str | None = None

    @property
    def broken(self) -> int:
        """How many departments have problems."""
        return sum(1 for d in self.departments.values() if d.compiled is None)


class ForcePreview:
    """The definitions under ``folder``, compiled against the installed ``plugins``' specs.

    Thread-safe: pages are rendered in worker threads, and only one of them rescans at a time.
    """

    def __init__(
        self,
        folder: Path,
        plugins: Mapping[str, PluginSpec],
        *,
        reload: bool = False,
        on_compiled: Callable[[CompiledDepartment], None] | None = None,
    ) -> None:
        self.folder = folder
        self.plugins = dict(plugins)
        self.reload = reload
        self.on_compiled = on_compiled
        self._lock = threading.Lock()
        self._state: ForceState | None = None
        self._stamps: dict[Path, tuple[Stamp, DepartmentState]] = {}

    def state(self) -> ForceState:
        """The current definitions: loaded on first use, and rescanned first when reloading."""
        with self._lock:
            if self._state is None or self.reload:
                self._state = self._scan()
            return self._state

    def load(self) -> ForceState:
        """Read and compile every department again, changed or not (``on_compiled`` sees each)."""
        with self._lock:
            self._stamps.clear()
            self._state = self._scan()
            return self._state

    def _scan(self) -> ForceState:
        try:
            folders = find_departments(self.folder)
        except DefinitionError as error:
            self._stamps.clear()
            return ForceState(self.folder, MappingProxyType({}), str(error))
        except OSError as error:  # the folder was removed or renamed while serving
            self._stamps.clear()
            return ForceState(self.folder, MappingProxyType({}), f"cannot read {self.folder}: {error}")
        departments: dict[str, DepartmentState] = {}
        stamps: dict[Path, tuple[Stamp, DepartmentState]] = {}
        for folder in folders:
            stamp = _stamp(folder)
            previous = self._stamps.get(folder)
            if previous is not None and previous[0] == stamp:
                state = previous[1]
            else:
                state = self._load(folder)
                if previous is not None:
                    log.info("definitions of %s changed: read again", folder)
            if state.key in departments:  # two folders define one department id
                if folder.name in departments:
                    log.warning("department %s is defined twice; %s is left out", state.key, folder)
                    continue
                state = replace(state, key=folder.name)
            departments[state.key] = state
            stamps[folder] = (stamp, state)
        self._stamps = stamps
        return ForceState(self.folder, MappingProxyType(departments))

    def _load(self, folder: Path) -> DepartmentState:
        try:
            sources = DepartmentSources.read(folder)
        except DefinitionError as error:
            return DepartmentState(folder.name, folder, None, None, None, error.diagnostics)
        try:
            compiled = compile_department(sources, self.plugins)
        except DefinitionError as error:
            department = _department_only(sources)
            key = department.id if department is not None else folder.name
            return DepartmentState(key, folder, None, sources, department, error.diagnostics)
        except Exception as error:  # a bug in a loader: keep the other departments serving
            log.exception("loading %s failed", folder)
            message = (
                f"Waypost could not load this department ({type(error).__name__}: {error}). This is a "
                "bug in Waypost, not in your files; the details are in the server's log."
            )
            department = _department_only(sources)
            key = department.id if department is not None else folder.name
            return DepartmentState(key, folder, None, sources, department, (Diagnostic(message, None),))
        if self.on_compiled is not None:
            try:
                self.on_compiled(compiled)
            except Exception:  # publishing is a side line of the preview: log it, keep serving
                log.exception("could not publish the definitions of %s", folder)
        return DepartmentState(compiled.department.id, folder, compiled, sources, compiled.department)


def _department_only(sources: DepartmentSources) -> Department | None:
    """The department of a folder whose other files have errors, when department.yaml loads."""
    try:
        return load_department(sources.department.text, sources.department.name)
    except DefinitionError:
        return None


def _stamp(folder: Path) -> Stamp:
    """Name, size and modification time of every file under ``folder``: cheap, reads no file."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                info = os.stat(path)
            except OSError:  # removed between listing and stat, or a dangling link
                found.append((path, -1, -1))
                continue
            found.append((path, info.st_size, info.st_mtime_ns))
    return tuple(found)
