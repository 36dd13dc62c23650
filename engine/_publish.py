"""Publishing a compiled department into ``definitions`` rows (see :mod:`engine._definitions`).

Each definition is stored once per content hash; a department's ``release`` row lists the
version of every definition it has now, and the newest release is the current one. Two
processes publishing the same files at once both end up with the same rows: the unique
constraint on (kind, department, name, hash) decides, and the loser reads the winner's row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine._sources import CompiledDepartment
from engine._tables import Definition
from engine._tables import Department as DepartmentRow
from workflows import StepKind, Workflow

__all__ = ["PublishResult", "Release", "publish", "release_of"]


@dataclass(frozen=True, slots=True)
class Release:
    """Which version of each definition a department has now (the newest ``release`` row)."""

    id: int
    department: str
    department_definition: int
    lists: dict[str, int]
    forms: dict[str, int]
    workflows: dict[str, int]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a publish did: ``created`` lists ``(kind, name, id)`` of the rows it added (empty
    when nothing changed); ``release`` is now the department's current release."""

    release: Release
    created: tuple[tuple[str, str, int], ...] = field(default=())

    @property
    def changed(self) -> bool:
        """True when any new version was stored."""
        return bool(self.created)


def sha(text: str) -> str:
    """sha256 hex of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(data: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def release_of(ident: int, department: str, manifest: Any) -> Release:
    """A :class:`Release` from a release row's id and manifest."""
    data = manifest if isinstance(manifest, dict) else {}

    def ids(part: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in data.get(part, {}).items()}

    return Release(
        ident, department, int(data.get("department", 0)), ids("lists"), ids("forms"), ids("workflows")
    )


def forms_used(flow: Workflow) -> list[str]:
    """The forms a workflow was checked against: its trigger form and its task forms."""
    used = {flow.trigger_form}
    for step in flow.steps.values():
        if step.kind is StepKind.TASK and step.task is not None:
            used.add(step.task.form)
    return sorted(used)


def publish(session: Session, compiled: CompiledDepartment, clock: Callable[[], datetime]) -> PublishResult:
    """Store every definition of ``compiled`` not stored yet and make its release current."""
    return _Publisher(session, clock).run(compiled)


class _Publisher:
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self.session = session
        self.clock = clock
        self.created: list[tuple[str, str, int]] = []

    def run(self, compiled: CompiledDepartment) -> PublishResult:
        sources = compiled.sources
        dept = compiled.department.id
        self._department_row(dept, str(compiled.department.title))
        dept_hash = sha(sources.department.text)
        dept_id = self._ensure(
            "department",
            dept,
            dept,
            dept_hash,
            sources.department.text,
            "",
            {"file": sources.department.file},
        )
        list_ids: dict[str, int] = {}
        list_hashes: dict[str, str] = {}
        for name, source in sorted(sources.lists.items()):
            list_hashes[name] = sha(source.file + "\n" + source.text)
            list_ids[name] = self._ensure(
                "list", dept, name, list_hashes[name], source.text, "", {"file": source.file}
            )
        form_ids: dict[str, int] = {}
        form_hashes: dict[str, str] = {}
        for name, form in sorted(compiled.forms.items()):
            used = sorted(form.lists)
            form_hashes[name] = sha(
                canonical({"form": form.content_hash, "lists": {n: list_hashes.get(n) for n in used}})
            )
            deps = {
                "file": sources.forms[name].file,
                "lists": {n: list_ids[n] for n in used if n in list_ids},
            }
            text = sources.forms[name].text
            form_ids[name] = self._ensure(
                "form", dept, name, form_hashes[name], text, form.version or "", deps
            )
        flow_ids: dict[str, int] = {}
        for name, flow in sorted(compiled.workflows.items()):
            used = forms_used(flow)
            digest = sha(
                canonical(
                    {
                        "workflow": flow.content_hash,
                        "department": dept_hash,
                        "forms": {n: form_hashes.get(n) for n in used},
                    }
                )
            )
            flow_deps: dict[str, Any] = {
                "file": sources.workflows[name].file,
                "department": dept_id,
                "forms": {n: form_ids[n] for n in used if n in form_ids},
            }
            text = sources.workflows[name].text
            flow_ids[name] = self._ensure("workflow", dept, name, digest, text, flow.version or "", flow_deps)
        manifest = {"department": dept_id, "lists": list_ids, "forms": form_ids, "workflows": flow_ids}
        text = canonical(manifest)
        release_id = self._ensure("release", dept, dept, sha(text), text, "", manifest)
        self._make_current(dept, release_id)
        return PublishResult(release_of(release_id, dept, manifest), tuple(self.created))

    def _department_row(self, ident: str, title: str) -> None:
        row = self.session.get(DepartmentRow, ident)
        if row is None:
            self.session.add(DepartmentRow(id=ident, title=title, created_at=self.clock()))
        elif row.title != title:
            row.title = title
        self.session.flush()

    def _ensure(
        self, kind: str, department: str, name: str, digest: str, source: str, label: str, deps: Any
    ) -> int:
        """The id of the row with this content hash, inserting it when there is none."""
        query = select(Definition.id).where(
            Definition.kind == kind,
            Definition.department_id == department,
            Definition.name == name,
            Definition.content_hash == digest,
        )
        found = self.session.execute(query).scalar_one_or_none()
        if found is not None:
            return int(found)
        row = Definition(
            kind=kind,
            department_id=department,
            name=name,
            version_label=label[:64],
            content_hash=digest,
            source=source,
            dependencies=deps,
            loaded_at=self.clock(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            # Another process published the same version at the same moment: use its row.
            return int(self.session.execute(query).scalar_one())
        self.created.append((kind, name, row.id))
        return row.id

    def _make_current(self, department: str, release_id: int) -> None:
        newest = self.session.execute(
            select(Definition)
            .where(Definition.kind == "release", Definition.department_id == department)
            .order_by(Definition.loaded_at.desc(), Definition.id.desc())
            .limit(1)
        ).scalar_one()
        if newest.id == release_id:
            return
        # Going back to an earlier release: it becomes the newest again (its text is unchanged).
        row = self.session.get(Definition, release_id)
        if row is not None:
            row.loaded_at = max(self.clock(), newest.loaded_at + timedelta(microseconds=1))
            self.session.flush()
