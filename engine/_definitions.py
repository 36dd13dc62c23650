"""Definition versions: every form and workflow the engine ran, stored immutably by content hash.

Publishing a department folder (:meth:`DefinitionStore.publish`) writes one ``definitions`` row
per distinct version of each file, and nothing for a file that did not change:

=============  ===========================================  =====================================
kind           content hash over                            dependencies
=============  ===========================================  =====================================
``department`` the text of department.yaml                  ``{"file": ...}``
``list``       the file name and text                       ``{"file": ...}``
``form``       the form's canonical hash and its lists'     ``{"file", "lists": {name: id}}``
``workflow``   the workflow's hash, the department's and    ``{"file", "department": id,
               its forms'                                    "forms": {name: id}}``
``release``    the manifest (its source): which version of  the manifest itself
               every file the department has now
=============  ===========================================  =====================================

A form whose list changed is therefore a new form version, and a workflow whose task form
changed is a new workflow version: a version is exactly what was checked together. The newest
``release`` of a department says which versions are current; submissions, instances and tasks
pin the row they started on, and :meth:`DefinitionStore.workflow` rebuilds that row's workflow
from its stored text (kept in a small LRU cache), however the files have changed since.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine._database import Database
from engine._folder import LoadedDepartment
from engine._publish import PublishResult, Release, publish, release_of
from engine._sources import CompiledDepartment, DepartmentSources, compile_department
from engine._tables import Definition, utcnow
from forms import ChoiceList, Department, Form, load_department, load_form, load_list
from workflows import PluginSpec, Workflow, load_workflow

__all__ = ["DefinitionNotFound", "DefinitionStore", "PublishResult", "Release"]

Publishable = LoadedDepartment | CompiledDepartment | DepartmentSources | Path


class DefinitionNotFound(LookupError):
    """No definition row, current form or current workflow of that name or id."""


class DefinitionStore:
    """Publishes department folders into ``definitions`` and rebuilds pinned versions on demand.

    ``plugins`` are the installed plugins' specs (``PluginRegistry.specs()``): a workflow is
    checked against them when it is published and when a stored version is rebuilt.
    """

    def __init__(
        self,
        db: Database,
        plugins: Mapping[str, PluginSpec],
        *,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = 256,
    ) -> None:
        self.db = db
        self.plugins = dict(plugins)
        self.clock = clock
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # Publishing --------------------------------------------------------------------------------

    def publish(self, session: Session, loaded: Publishable) -> PublishResult:
        """Store every definition of a department folder that is not stored yet; make it current.

        ``loaded`` is a loaded folder (its files are read again, so that exactly the stored text
        is what gets compiled), the folder's path, its sources, or an already compiled
        department. Raises :class:`~dsl.DefinitionError` when a definition does not load.
        Idempotent: publishing unchanged files creates nothing.
        """
        return publish(session, self._compiled(loaded), self.clock)

    def _compiled(self, loaded: Publishable) -> CompiledDepartment:
        if isinstance(loaded, CompiledDepartment):
            return loaded
        if isinstance(loaded, LoadedDepartment):
            loaded = loaded.path
        sources = DepartmentSources.read(loaded) if isinstance(loaded, Path) else loaded
        return compile_department(sources, self.plugins)

    # Current versions ----------------------------------------------------------------------------

    def release(self, department: str, *, session: Session | None = None) -> Release:
        """The current release of ``department``; DefinitionNotFound if it was never published."""
        query = (
            select(Definition.id, Definition.dependencies)
            .where(Definition.kind == "release", Definition.department_id == department)
            .order_by(Definition.loaded_at.desc(), Definition.id.desc())
            .limit(1)
        )
        if session is not None:
            row = session.execute(query).first()
        else:
            with self.db.session(write=False) as own:
                row = own.execute(query).first()
        if row is None:
            raise DefinitionNotFound(f"department '{department}' has no published definitions")
        return release_of(int(row[0]), department, row[1])

    def release_holding(
        self, session: Session, department: str, form_name: str, definition_id: int
    ) -> Release:
        """The newest release of ``department`` whose form ``form_name`` was ``definition_id``.

        A draft pinned to an older version of a form is submitted into the workflows that were
        published with that version, which were checked against its fields. Falls back to the
        current release when no release ever held it (it cannot happen for a published form).
        """
        rows = session.execute(
            select(Definition.id, Definition.dependencies)
            .where(Definition.kind == "release", Definition.department_id == department)
            .order_by(Definition.loaded_at.desc(), Definition.id.desc())
        )
        for ident, manifest in rows:
            release = release_of(int(ident), department, manifest)
            if release.forms.get(form_name) == definition_id:
                return release
        return self.release(department, session=session)

    def current_form(self, department: str, name: str, *, session: Session | None = None) -> tuple[int, Form]:
        """The id and model of the current version of form ``name`` of ``department``."""
        return self.form_in(self.release(department, session=session), name)

    def form_in(self, release: Release, name: str) -> tuple[int, Form]:
        """The id and model of form ``name`` in ``release``; DefinitionNotFound if it has none."""
        department = release.department
        ident = release.forms.get(name)
        if ident is None:
            raise DefinitionNotFound(f"department '{department}' has no form '{name}'")
        return ident, self.form(ident)

    def current_workflow(
        self, department: str, name: str, *, session: Session | None = None
    ) -> tuple[int, Workflow]:
        """The id and model of the current version of workflow ``name`` of ``department``."""
        release = self.release(department, session=session)
        ident = release.workflows.get(name)
        if ident is None:
            raise DefinitionNotFound(f"department '{department}' has no workflow '{name}'")
        return ident, self.workflow(ident)

    def workflows_for_form(
        self, department: str, form_name: str, *, session: Session | None = None
    ) -> list[tuple[int, Workflow]]:
        """The current workflows that a submission of ``form_name`` starts, by workflow name."""
        return self.triggered_by(self.release(department, session=session), form_name)

    def triggered_by(self, release: Release, form_name: str) -> list[tuple[int, Workflow]]:
        """The workflows of ``release`` that a submission of ``form_name`` starts, by name."""
        found = []
        for _, ident in sorted(release.workflows.items()):
            flow = self.workflow(ident)
            if flow.trigger_form == form_name:
                found.append((ident, flow))
        return found

    # Pinned versions -----------------------------------------------------------------------------

    def form(self, definition_id: int) -> Form:
        """The form of definition row ``definition_id``, rebuilt from its stored text."""
        value = self._get(definition_id, "form")
        if not isinstance(value, Form):  # pragma: no cover - _get checks the kind
            raise DefinitionNotFound(f"definition {definition_id} is not a form")
        return value

    def workflow(self, definition_id: int) -> Workflow:
        """The workflow of definition row ``definition_id``, rebuilt from its stored text."""
        value = self._get(definition_id, "workflow")
        if not isinstance(value, Workflow):  # pragma: no cover - _get checks the kind
            raise DefinitionNotFound(f"definition {definition_id} is not a workflow")
        return value

    def department(self, definition_id: int) -> Department:
        """The department of a ``department`` row, or of a ``workflow`` row's pinned department."""
        row = self._row(definition_id)
        if row.kind == "workflow":
            return self.department(int(row.dependencies["department"]))
        value = self._get(definition_id, "department")
        if not isinstance(value, Department):  # pragma: no cover - _get checks the kind
            raise DefinitionNotFound(f"definition {definition_id} is not a department")
        return value

    def form_ids(self, workflow_definition_id: int) -> dict[str, int]:
        """The form definition ids a workflow version was checked against, by form name."""
        row = self._row(workflow_definition_id)
        return {str(k): int(v) for k, v in (row.dependencies or {}).get("forms", {}).items()}

    def _row(self, definition_id: int) -> Definition:
        key = -definition_id  # rows are cached under negative ids, models under positive ones
        with self._lock:
            cached = self._cache.get(key)
        if isinstance(cached, Definition):
            return cached
        with self.db.session(write=False) as session:
            row = session.get(Definition, definition_id)
        if row is None:
            raise DefinitionNotFound(f"no definition with id {definition_id}")
        self._remember(key, row)
        return row

    def _get(self, definition_id: int, kind: str) -> Any:
        with self._lock:
            if definition_id in self._cache:
                self._cache.move_to_end(definition_id)
                return self._cache[definition_id]
        row = self._row(definition_id)
        if row.kind != kind:
            raise DefinitionNotFound(f"definition {definition_id} is a {row.kind}, not a {kind}")
        value = self._build(row)
        self._remember(definition_id, value)
        return value

    def _remember(self, key: int, value: Any) -> None:
        with self._lock:
            self._cache[key] = value
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _build(self, row: Definition) -> Any:
        deps = row.dependencies or {}
        where = f"{row.department_id}/{_FOLDERS[row.kind]}{deps.get('file', row.name)}"
        if row.kind == "department":
            return load_department(row.source, where)
        if row.kind == "list":
            return load_list(row.source, where)
        if row.kind == "form":
            lists = {name: self._list(int(ident)) for name, ident in deps.get("lists", {}).items()}
            return load_form(row.source, where, lists=lists)
        forms = {name: self.form(int(ident)) for name, ident in deps.get("forms", {}).items()}
        department = self.department(int(deps["department"]))
        return load_workflow(row.source, where, department=department, forms=forms, plugins=self.plugins)

    def _list(self, definition_id: int) -> ChoiceList:
        value = self._get(definition_id, "list")
        if not isinstance(value, ChoiceList):  # pragma: no cover - _get checks the kind
            raise DefinitionNotFound(f"definition {definition_id} is not a list")
        return value


_FOLDERS = {"department": "", "list": "lists/", "form": "forms/", "workflow": "workflows/", "release": ""}
