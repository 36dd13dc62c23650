"""The executor: definition versions, submissions, routing, case data, parallel branches, waits.

Every test runs on SQLite and on PostgreSQL (the ``db`` fixture), and every workflow test
rebuilds the whole runtime halfway (``Harness.reload``: new objects, new connections, empty
caches) and carries on from what the database holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine._database import Database
from engine._definitions import DefinitionNotFound
from engine._incidents import SubmissionConflict
from engine._tables import Definition, Instance, Job, Submission
from tests.engine.fakes import Harness, ScriptedPlugin, department, retryable
from tests.engine.helpers import write

FLOW = """\
workflow: flow
title: Concern triage
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "offence == 'assault'", goto: notify}
      - {goto: review}
  notify:
    call: record
    with: {name: "Concern about {{ full_name }}", seen: "{{ seen_on }}", fixed: 3}
    out: {ref: "{{ result.reference }}", seen_copy: "{{ seen_on }}"}
    next: review
  review:
    task: {role: supervisor, form: concern, title: "Review {{ full_name }}"}
    next: done
  done: {end: true}
"""

ANSWERS = {"full_name": "Sam Smith", "offence": "assault", "seen_on": "2025-05-30"}


@pytest.fixture
def plugin() -> ScriptedPlugin:
    return ScriptedPlugin()


def harness(db: Database, folder: Path, plugin: ScriptedPlugin) -> Harness:
    h = Harness(db.url, folder, [plugin])
    h.publish()
    return h


def test_publishing_is_idempotent_and_versions_each_change(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """Unchanged files store nothing; a changed workflow is a new row; going back reuses the old row."""
    folder = department(tmp_path / "ppu", {"flow": FLOW})
    h = Harness(db.url, folder, [plugin])
    first = h.publish()
    assert {kind for kind, _, _ in first.created} == {"department", "list", "form", "workflow", "release"}
    assert h.publish().created == ()
    # Comments and formatting do not make a new version.
    write(folder / "workflows" / "flow.yaml", "# reviewed by the MASH team\n" + FLOW)
    assert h.publish().created == ()
    write(folder / "workflows" / "flow.yaml", FLOW.replace("title: Concern triage", "title: Triage v2"))
    second = h.publish()
    assert [kind for kind, _, _ in second.created] == ["workflow", "release"]
    assert second.release.workflows["flow"] != first.release.workflows["flow"]
    write(folder / "workflows" / "flow.yaml", FLOW)
    third = h.publish()
    assert third.created == ()
    h.reload()
    ident, flow = h.rt.store.current_workflow("ppu", "flow")
    assert ident == first.release.workflows["flow"]
    assert flow.title == "Concern triage"
    with h.rt.db.session(write=False) as session:
        assert (
            session.scalar(select(func.count()).select_from(Definition).where(Definition.kind == "workflow"))
            == 2
        )
    h.close()


def test_a_changed_form_makes_new_form_and_workflow_versions(db: Database, tmp_path: Path) -> None:
    """A workflow version is what was checked together: a new form version gives a new workflow row."""
    folder = department(tmp_path / "ppu", {"flow": FLOW})
    h = Harness(db.url, folder, [ScriptedPlugin()])
    first = h.publish()
    form = (folder / "forms" / "concern.yaml").read_text()
    write(folder / "forms" / "concern.yaml", form.replace("title: Concern for a person", "title: Concern"))
    second = h.publish()
    assert sorted(kind for kind, _, _ in second.created) == ["form", "release", "workflow"]
    assert h.rt.store.form_ids(second.release.workflows["flow"])["concern"] == second.release.forms["concern"]
    assert h.rt.store.form_ids(first.release.workflows["flow"])["concern"] == first.release.forms["concern"]
    h.close()


def test_unknown_department_or_form_is_reported(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """Submitting to a department never published, or to a form it lacks, raises DefinitionNotFound."""
    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    with pytest.raises(DefinitionNotFound, match="no published definitions"):
        h.submit(ANSWERS, dept="cid")
    with pytest.raises(DefinitionNotFound, match="no form 'nope'"):
        h.submit(ANSWERS, form="nope")
    h.close()


def test_invalid_answers_store_nothing(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """A submission that fails validation returns its errors and starts nothing."""
    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    result = h.submit({"offence": "arson", "seen_on": "not a date"})
    assert not result.ok
    assert {e.path[0] for e in result.validation.blocking} == {"full_name", "offence", "seen_on"}
    with h.rt.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    h.close()


def test_client_id_makes_submitting_idempotent(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """The same client id and body give the first result; another body with that id is a conflict."""
    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    first = h.submit(ANSWERS, client_id="tablet-7:42")
    again = h.submit(dict(ANSWERS), client_id="tablet-7:42")
    assert first.ok
    assert not first.duplicate
    assert again.duplicate
    assert (again.submission_id, again.reference, again.instance_ids) == (
        first.submission_id,
        first.reference,
        first.instance_ids,
    )
    with pytest.raises(SubmissionConflict, match="tablet-7:42"):
        h.submit({**ANSWERS, "full_name": "Someone Else"}, client_id="tablet-7:42")
    other = h.submit(ANSWERS, client_id="tablet-7:43")
    assert other.submission_id != first.submission_id
    with h.rt.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 2
    h.close()


def test_route_inputs_and_case_data_survive_a_reload(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """A decision routes to the call, whose inputs and out values are stored; a new runtime carries on."""
    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    plugin.script("notify", {"reference": "MASH-9"})
    iid = h.start(ANSWERS)
    assert h.route(iid) == []  # nothing moves until a job runs
    h.drain()
    assert h.route(iid) == ["triage", "notify", "review"]
    assert plugin.calls[0].inputs == {"name": "Concern about Sam Smith", "seen": "2025-05-30", "fixed": 3}
    assert plugin.calls[0].key == f"{iid}:notify:1"
    h.reload()
    assert h.case(iid) == {"ref": "MASH-9", "seen_copy": "2025-05-30"}
    with h.rt.db.session(write=False) as session:
        instance = session.get(Instance, iid)
        assert instance is not None
        _, data = h.rt.case(session, instance)
    # Case data gets its type back: the date is a date again, like the answer it came from.
    assert data.case["seen_copy"] == data.answers["seen_on"]
    assert data.case["submission"]["reference"].startswith("WP-20250602-")
    assert h.instance(iid).state == "running"
    h.close()


def test_default_route_is_taken_when_no_condition_holds(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """With no condition true the decide's default route runs, and no plugin is called."""
    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    iid = h.start({**ANSWERS, "offence": "theft"})
    h.drain()
    h.reload()
    h.drain()
    assert h.route(iid) == ["triage", "review"]
    assert plugin.calls == []
    edges = [e.detail["edge"] for e in h.events(iid, "route")]
    assert edges == ["triage#2"]
    h.close()


VERSIONED = """\
workflow: flow
title: Versioned
on: {submitted: concern}
steps:
  review:
    task: {role: supervisor, form: concern}
    next: after
  after:
    call: record
    with: {version: "one"}
    next: done
  done: {end: true}
"""


def test_running_instances_keep_their_version(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """An instance started on version 1 finishes on version 1 after version 2 is published."""
    folder = department(tmp_path / "ppu", {"flow": VERSIONED})
    h = harness(db, folder, plugin)
    h.add_user("sgt", "ppu", "supervisor")
    old = h.start(ANSWERS)
    h.drain()
    write(
        folder / "workflows" / "flow.yaml",
        VERSIONED.replace('"one"', '"two"').replace(
            "next: done\n  done", "next: extra\n  extra: {call: record, next: done}\n  done"
        ),
    )
    h.publish()
    h.reload()
    new = h.start(ANSWERS)
    h.drain()
    assert h.instance(old).definition_id != h.instance(new).definition_id
    for iid in (old, new):
        [task] = h.with_session(
            lambda s, i=iid: [
                t for t in h.rt.list_tasks(s, department="ppu", roles=["supervisor"]) if t.instance_id == i
            ]
        )
        h.with_session(lambda s, t=task: h.rt.claim_task(s, t.id, "sgt"))
        h.with_session(lambda s, t=task: h.rt.complete_task(s, t.id, "sgt", {"full_name": "Reviewed"}))
    h.drain()
    assert h.route(old) == ["review", "after", "done"]
    assert h.route(new) == ["review", "after", "extra", "done"]
    assert [c.inputs for c in plugin.calls if c.step == "after"] == [{"version": "one"}, {"version": "two"}]
    assert h.instance(old).state == h.instance(new).state == "completed"
    h.close()


PARALLEL = """\
workflow: flow
title: Fan out
on: {submitted: concern}
steps:
  split:
    parallel: [left, right]
  left: {call: record, with: {side: left}, next: merge}
  right: {call: record, with: {side: right}, next: merge}
  merge: {join: split, next: finish}
  finish: {call: record, with: {side: both}, next: done}
  done: {end: true}
"""


def test_parallel_branches_meet_at_the_join(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """Both branches run; the step after the join runs once, only when the slower branch arrives."""
    h = harness(db, department(tmp_path / "ppu", {"flow": PARALLEL}), plugin)
    plugin.script("right", retryable())
    iid = h.start(ANSWERS)
    h.drain()
    assert sorted(plugin.steps_called()) == ["left", "right"]
    assert h.instance(iid).state == "running"  # right waits for its retry; merge waits for right
    assert [e.detail["arrived"] for e in h.events(iid, "join_waiting")] == [1]
    h.reload()
    h.clock.advance(seconds=10)
    h.drain()
    assert plugin.steps_called().count("finish") == 1
    assert h.route(iid) == ["split", "left", "right", "merge", "merge", "finish", "done"]
    assert h.instance(iid).state == "completed"
    h.close()


WAITS = """\
workflow: flow
title: Waits
on: {submitted: concern}
steps:
  pause:
    wait: {for: 2h}
    next: until_seen
  until_seen:
    wait: {until: seen_on}
    next: notify
  notify: {call: record, next: done}
  done: {end: true}
"""


def test_waits_fire_on_the_clock_and_survive_a_reload(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """A 2h wait fires at 2h, not before; an `until` date waits for midnight UK time of that day."""
    h = harness(db, department(tmp_path / "ppu", {"flow": WAITS}), plugin)
    iid = h.start({**ANSWERS, "seen_on": "2025-06-03"})  # the clock starts 2025-06-02 09:00 UTC
    h.drain()
    h.clock.advance(hours=1, minutes=59)
    h.drain()
    assert h.route(iid) == ["pause"]
    h.reload()
    h.clock.advance(minutes=1)
    h.drain()
    assert h.route(iid) == ["pause", "until_seen"]
    h.clock.advance(hours=11, minutes=58)  # 2025-06-02 22:58 UTC = 23:58 BST
    h.drain()
    assert plugin.calls == []
    h.clock.advance(minutes=2)  # 23:00 UTC = midnight BST on 3 June
    h.drain()
    assert h.route(iid) == ["pause", "until_seen", "notify", "done"]
    assert h.instance(iid).state == "completed"
    h.close()


def test_a_wait_until_a_past_date_does_not_wait(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> None:
    """`until` a date already past (or an unanswered date) moves straight on."""
    h = harness(
        db,
        department(tmp_path / "ppu", {"flow": WAITS.replace("wait: {for: 2h}", "wait: {until: seen_on}")}),
        plugin,
    )
    iid = h.start({"full_name": "Sam Smith"})
    h.drain()
    assert h.route(iid) == ["pause", "until_seen", "notify", "done"]
    assert [e.kind for e in h.events(iid) if e.kind == "wait_skipped"] == ["wait_skipped", "wait_skipped"]
    h.close()


def test_timeline_entries_commit_with_their_transaction(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """Timeline entries are written at commit; a rolled-back savepoint keeps them, a rollback drops them."""
    from engine._advance import event
    from engine._tables import InstanceEvent

    h = harness(db, department(tmp_path / "ppu", {"flow": FLOW}), plugin)
    iid = h.start(ANSWERS)
    with h.rt.db.session() as session:
        event(session, iid, "note", h.clock(), None, n=1)
        with pytest.raises(RuntimeError), session.begin_nested():
            raise RuntimeError("undo the savepoint only")
        event(session, iid, "note", h.clock(), None, n=2)

    def undone() -> None:
        with h.rt.db.session() as session:
            event(session, iid, "note", h.clock(), None, n=3)
            raise RuntimeError("undo everything")

    with pytest.raises(RuntimeError):
        undone()
    with h.rt.db.session(write=False) as session:
        notes = session.scalars(select(InstanceEvent.detail).where(InstanceEvent.kind == "note")).all()
    assert [n["n"] for n in notes] == [1, 2]
    h.close()


def test_a_pinned_form_version_starts_the_workflows_published_with_it(
    db: Database, tmp_path: Path, plugin: ScriptedPlugin
) -> None:
    """A draft begun on form version 1 and submitted after version 2 was published runs version 1's
    workflow (checked against version 1's fields); an unpinned submission runs version 2's."""
    folder = department(tmp_path / "ppu", {"flow": FLOW})
    h = harness(db, folder, plugin)
    first = h.with_session(lambda s: h.rt.store.release("ppu", session=s))
    form = (folder / "forms" / "concern.yaml").read_text()
    write(folder / "forms" / "concern.yaml", form.replace("title: Concern for a person", "title: Concern"))
    second = h.publish().release
    assert first.forms["concern"] != second.forms["concern"]
    assert first.workflows["flow"] != second.workflows["flow"]
    pinned = h.start(ANSWERS, definition_id=first.forms["concern"])
    current = h.start(ANSWERS)
    assert h.instance(pinned).definition_id == first.workflows["flow"]
    assert h.instance(current).definition_id == second.workflows["flow"]
    h.close()
