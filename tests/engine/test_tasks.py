"""Human tasks: inbox per role, claim, release, complete with a validated form, escalation.

On SQLite and PostgreSQL, with a fake clock, and with the runtime rebuilt halfway.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine._database import Database
from engine._incidents import NotFound, TaskConflict, TaskForbidden
from engine._tables import Task
from tests.engine.fakes import Harness, ScriptedPlugin, department
from tests.engine.helpers import write

FLOW = """\
workflow: flow
title: Review
on: {submitted: concern}
steps:
  review:
    task:
      role: supervisor
      form: concern
      title: "Review the concern about {{ full_name }}"
      due: 4h
      on_overdue: chase
    decide:
      - {when: "review.offence == 'theft'", goto: refer}
      - {goto: done}
  refer:
    call: record
    with: {reviewer_says: "{{ review.full_name }}", seen: "{{ review.seen_on }}"}
    next: done
  chase:
    call: record
    with: {chase: "{{ full_name }}"}
    next: done
  done: {end: true}
"""
ANSWERS = {"full_name": "Sam Smith"}


@pytest.fixture
def plugin() -> ScriptedPlugin:
    return ScriptedPlugin()


@pytest.fixture
def h(db: Database, tmp_path: Path, plugin: ScriptedPlugin) -> Harness:
    harness = Harness(db.url, department(tmp_path / "ppu", {"flow": FLOW}), [plugin])
    harness.publish()
    harness.add_user("sgt-1", "ppu", "supervisor")
    harness.add_user("sgt-2", "ppu", "supervisor")
    harness.add_user("pc-1", "ppu", "officer")
    yield harness
    harness.close()


def inbox(h: Harness, *roles: str, states: tuple[str, ...] = ("open", "claimed")) -> list[Task]:
    return h.with_session(lambda s: h.rt.list_tasks(s, department="ppu", roles=list(roles), states=states))


def test_a_task_waits_in_its_roles_inbox(h: Harness) -> None:
    """A task step creates one open task for its role, titled from the answers, with its due time."""
    iid = h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    assert (task.instance_id, task.step, task.state, task.role) == (iid, "review", "open", "supervisor")
    assert task.title == "Review the concern about Sam Smith"
    assert task.due_at == h.clock.advance(hours=4)
    assert inbox(h, "officer") == []
    assert h.route(iid) == ["review"]


def test_claim_release_and_complete_with_the_result_used_later(h: Harness, plugin: ScriptedPlugin) -> None:
    """The completed task's answers are case data: a later decision and mapping read them."""
    iid = h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))  # claiming twice is harmless
    h.with_session(lambda s: h.rt.release_task(s, task.id, "sgt-1"))
    assert inbox(h, "supervisor")[0].state == "open"
    h.reload()
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-2"))
    [claimed] = inbox(h, "supervisor")
    assert (claimed.state, claimed.claimed_by) == ("claimed", "sgt-2")
    answers = {"full_name": "Reviewed by Sgt Two", "offence": "theft", "seen_on": "2025-05-01"}
    result = h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-2", answers))
    assert result.ok
    h.drain()
    assert h.route(iid) == ["review", "refer", "done"]
    assert plugin.calls[0].inputs == {"reviewer_says": "Reviewed by Sgt Two", "seen": "2025-05-01"}
    assert h.case(iid)["review"] == answers
    [done] = inbox(h, "supervisor", states=("completed",))
    assert (done.completed_by, done.result) == ("sgt-2", answers)
    assert h.instance(iid).state == "completed"
    kinds = [e.kind for e in h.events(iid) if e.kind.startswith("task_")]
    assert kinds == ["task_created", "task_claimed", "task_released", "task_claimed", "task_completed"]


def test_invalid_task_answers_change_nothing(h: Harness) -> None:
    """Answers the task form rejects come back as errors; the task stays claimed, the instance waits."""
    iid = h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    result = h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", {"offence": "arson"}))
    assert not result.ok
    assert {e.path[0] for e in result.blocking} == {"full_name", "offence"}
    assert inbox(h, "supervisor")[0].state == "claimed"
    assert h.drain() == 0
    assert h.route(iid) == ["review"]


def test_who_may_do_what_with_a_task(h: Harness) -> None:
    """Only a holder of the role claims; only the claimant completes or releases; unknown ids are 404s."""
    h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    with pytest.raises(TaskForbidden, match="supervisor"):
        h.with_session(lambda s: h.rt.claim_task(s, task.id, "pc-1"))
    with pytest.raises(TaskConflict, match="claim the task"):
        h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS))
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    with pytest.raises(TaskConflict, match="someone else"):
        h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-2"))
    with pytest.raises(TaskConflict, match="not claimed by user sgt-2"):
        h.with_session(lambda s: h.rt.release_task(s, task.id, "sgt-2"))
    with pytest.raises(TaskConflict):
        h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-2", ANSWERS))
    assert h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS)).ok
    with pytest.raises(TaskConflict, match="completed already"):
        h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS))
    with pytest.raises(TaskConflict, match="completed"):
        h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    with pytest.raises(NotFound):
        h.with_session(lambda s: h.rt.claim_task(s, "no-such-task", "sgt-1"))
    with pytest.raises(TypeError):
        h.with_session(lambda s: h.rt.list_tasks(s, department="ppu", roles="supervisor"))


def test_two_people_claiming_at_once_one_wins(h: Harness) -> None:
    """Two concurrent claims (two threads, two sessions): exactly one succeeds, the other is told."""
    h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    for _ in range(3):
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(
            user: str, barrier: threading.Barrier = barrier, outcomes: dict[str, str] = outcomes
        ) -> None:
            barrier.wait()
            try:
                h.with_session(lambda s: h.rt.claim_task(s, task.id, user))
                outcomes[user] = "won"
            except TaskConflict:
                outcomes[user] = "lost"

        threads = [threading.Thread(target=claim, args=(u,)) for u in ("sgt-1", "sgt-2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["lost", "won"]
        [winner] = [u for u, o in outcomes.items() if o == "won"]
        assert inbox(h, "supervisor")[0].claimed_by == winner
        h.with_session(lambda s, w=winner: h.rt.release_task(s, task.id, w))


def test_an_overdue_task_escalates_and_stays_open(h: Harness, plugin: ScriptedPlugin) -> None:
    """At the due time the on_overdue step runs (once); the task stays open and completes later."""
    iid = h.start(ANSWERS)
    h.drain()
    h.clock.advance(hours=3, minutes=59)
    h.drain()
    assert plugin.calls == []
    h.reload()
    h.clock.advance(minutes=1)
    h.drain()
    h.clock.advance(hours=10)
    h.drain()
    assert [c.step for c in plugin.calls] == ["chase"]
    assert plugin.calls[0].inputs == {"chase": "Sam Smith"}
    [task] = inbox(h, "supervisor")
    assert task.state == "open"
    assert task.escalated_at == task.due_at
    assert h.instance(iid).state == "running"  # the escalation path ended; the task still waits
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", {"full_name": "Late review"}))
    h.drain()
    assert h.route(iid) == ["review", "chase", "done", "done"]
    assert h.instance(iid).state == "completed"
    assert h.events(iid, "route")[0].detail["edge"] == "review#overdue"


def test_a_task_completed_in_time_never_escalates(h: Harness, plugin: ScriptedPlugin) -> None:
    """The due job of a completed task does nothing when it comes."""
    iid = h.start(ANSWERS)
    h.drain()
    [task] = inbox(h, "supervisor")
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS))
    h.drain()
    h.clock.advance(hours=5)
    h.drain()
    assert plugin.calls == []
    assert h.route(iid) == ["review", "done"]
    assert h.events(iid, "task_overdue") == []


def test_a_task_keeps_the_form_version_it_was_created_with(h: Harness) -> None:
    """After the form gains a required field, the open task is still completed against its old version."""
    h.start(ANSWERS)
    h.drain()
    form_file = h.folder / "forms" / "concern.yaml"
    write(
        form_file,
        form_file.read_text() + "      - {id: badge, type: text, label: Badge number, required: true}\n",
    )
    h.publish()
    h.reload()
    [task] = inbox(h, "supervisor")
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    assert h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS)).ok
    fresh = h.submit(ANSWERS)
    assert [e.path for e in fresh.validation.blocking] == [("badge",)]


PARALLEL_REVIEW = """\
workflow: flow
title: Review beside another branch
on: {submitted: concern}
steps:
  split: {parallel: [review, other]}
  review:
    task: {role: supervisor, form: concern, due: 1h, on_overdue: chase}
    next: merge
  chase: {call: record, with: {what: chase}, next: merge}
  other: {call: record, with: {what: other}, next: merge}
  merge: {join: split, next: after}
  after: {call: record, with: {what: after}, next: done}
  done: {end: true}
"""


def test_an_escalation_path_that_reaches_a_join_ends_there(db: Database, tmp_path: Path) -> None:
    """The overdue path is not a branch of the split: it ends at the join, and the join still waits
    for the task's branch, so the step after the join runs exactly once."""
    plugin = ScriptedPlugin()
    h = Harness(db.url, department(tmp_path / "ppu", {"flow": PARALLEL_REVIEW}), [plugin])
    h.publish()
    h.add_user("sgt-1", "ppu", "supervisor")
    iid = h.start(ANSWERS)
    h.drain()
    h.clock.advance(hours=1)
    h.drain()
    assert sorted(c.inputs["what"] for c in plugin.calls) == ["chase", "other"]
    reasons = [e.detail.get("reason") for e in h.events(iid, "ended")]
    assert reasons == ["not a branch of 'split'"]
    h.reload()
    [task] = inbox(h, "supervisor")
    h.with_session(lambda s: h.rt.claim_task(s, task.id, "sgt-1"))
    h.with_session(lambda s: h.rt.complete_task(s, task.id, "sgt-1", ANSWERS))
    h.drain()
    assert [c.inputs["what"] for c in plugin.calls].count("after") == 1
    assert h.instance(iid).state == "completed"
    h.close()
