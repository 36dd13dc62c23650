"""Failures: retries with backoff and jitter, incidents and their retry, fencing, lost workers.

On SQLite and PostgreSQL, with a fake clock (nothing sleeps), and with the runtime rebuilt from
the database halfway through each workflow.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import _advance
from engine._database import Database
from engine._incidents import IncidentConflict, NotFound
from engine._tables import CaseValue, Incident, Job, StepRun
from tests.engine.fakes import Harness, ScriptedPlugin, department, permanent, retryable

FLOW = """\
workflow: flow
title: One call
on: {submitted: concern}
steps:
  send:
    call: record
    with: {name: "{{ full_name }}"}
    out: {ref: "{{ result.reference }}"}
    next: done
  done: {end: true}
"""
ANSWERS = {"full_name": "Sam Smith"}


def build(db: Database, tmp_path: Path, plugin: ScriptedPlugin, flow: str = FLOW, **kw: object) -> Harness:
    h = Harness(db.url, department(tmp_path / "ppu", {"flow": flow}), [plugin], **kw)  # type: ignore[arg-type]
    h.publish()
    return h


def jobs(h: Harness, kind: str = "run_step") -> list[Job]:
    with h.rt.db.session(write=False) as session:
        return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def run_one(h: Harness) -> None:
    [job] = h.rt.queue.claim("test")
    asyncio.run(h.rt.run_job(job))


def incidents(h: Harness) -> list[Incident]:
    with h.rt.db.session(write=False) as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_retries_back_off_exponentially_with_the_same_key(db: Database, tmp_path: Path) -> None:
    """Two failures wait 10s then 20s (the policy's backoff); every attempt sends the same key."""
    plugin = ScriptedPlugin()
    plugin.script("send", retryable("503"), retryable("503"), {"reference": "R-7"})
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    h.drain()
    [job] = jobs(h)
    assert (job.state, job.due_at, job.last_error) == ("ready", h.clock() + _s(10), "503")
    h.clock.advance(9.9)
    h.drain()
    assert len(plugin.calls) == 1
    h.reload()
    h.clock.advance(0.1)
    h.drain()
    assert len(plugin.calls) == 2
    assert jobs(h)[0].due_at == h.clock() + _s(20)
    h.clock.advance(20)
    h.drain()
    assert [(c.key, c.attempt) for c in plugin.calls] == [(f"{iid}:send:1", n) for n in (1, 2, 3)]
    assert h.case(iid) == {"ref": "R-7"}
    assert h.instance(iid).state == "completed"
    assert [e.detail["delay"] for e in h.events(iid, "step_retry")] == [10.0, 20.0]
    h.close()


def test_jitter_spreads_the_delay(db: Database, tmp_path: Path) -> None:
    """With rand() at its top the delay is the policy's 20% jitter above the base."""
    plugin = ScriptedPlugin()
    plugin.script("send", retryable())
    h = build(db, tmp_path, plugin, rand=lambda: 1.0)
    h.start(ANSWERS)
    h.drain()
    assert jobs(h)[0].due_at == h.clock() + _s(12)
    h.close()


def test_retry_after_from_the_back_end_is_honoured(db: Database, tmp_path: Path) -> None:
    """A Retry-After longer than the backoff wins."""
    plugin = ScriptedPlugin()
    plugin.script("send", retryable("429", after=300))
    h = build(db, tmp_path, plugin)
    h.start(ANSWERS)
    h.drain()
    assert jobs(h)[0].due_at == h.clock() + _s(300)
    h.close()


def test_exhausted_attempts_raise_an_incident_that_an_operator_retries(db: Database, tmp_path: Path) -> None:
    """After 3 failed attempts: an incident, a dead job, a running instance; retry runs with the same key."""
    plugin = ScriptedPlugin()
    plugin.script("send", retryable("down"), retryable("down"), retryable("still down"))
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    h.drain()
    h.clock.advance(10)
    h.drain()
    h.clock.advance(20)
    h.drain()
    [incident] = incidents(h)
    assert (incident.step, incident.error, incident.resolved_at) == ("send", "still down", None)
    assert [j.state for j in jobs(h)] == ["dead"]
    assert h.instance(iid).state == "running"
    with h.rt.db.session(write=False) as session:
        assert session.get(StepRun, incident.step_run_id).state == "failed"  # type: ignore[union-attr]
    h.reload()
    h.with_session(lambda s: h.rt.retry_incident(s, incident.id, by="ops"))
    h.drain()
    assert [(c.key, c.attempt) for c in plugin.calls][-1] == (f"{iid}:send:1", 1)
    assert h.instance(iid).state == "completed"
    [resolved] = incidents(h)
    assert (resolved.resolved_by, resolved.resolution) == ("ops", "retried")
    with pytest.raises(IncidentConflict, match="resolved by ops"):
        h.with_session(lambda s: h.rt.retry_incident(s, incident.id, by="someone else"))
    with pytest.raises(NotFound):
        h.with_session(lambda s: h.rt.retry_incident(s, 9999, by="ops"))
    h.close()


def test_a_permanent_error_raises_an_incident_at_once(db: Database, tmp_path: Path) -> None:
    """PermanentError is not retried."""
    plugin = ScriptedPlugin()
    plugin.script("send", permanent("422 rejected"))
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    h.drain()
    assert len(plugin.calls) == 1
    assert [(i.step, i.error) for i in incidents(h)] == [("send", "422 rejected")]
    assert [e.kind for e in h.events(iid)][-1] == "incident"
    h.close()


def test_inputs_that_break_the_plugin_schema_raise_an_incident(db: Database, tmp_path: Path) -> None:
    """A mapping that gives a value the plugin's input schema rejects fails before the plugin runs."""
    plugin = ScriptedPlugin(input_schema={"type": "object", "properties": {"name": {"type": "string"}}})
    h = build(db, tmp_path, plugin, flow=FLOW.replace('"{{ full_name }}"', '"{{ seen_on }}"'))
    h.start(ANSWERS)  # seen_on is not answered: null is not a string
    h.drain()
    assert plugin.calls == []
    [incident] = incidents(h)
    assert "inputs" in incident.error
    assert "name" in incident.error
    h.close()


CHAIN = """\
workflow: flow
title: A chain of decisions
on: {submitted: concern}
steps:
  first:
    decide:
      - {when: "full_name != ''", goto: second}
      - {goto: done}
  second:
    decide:
      - {goto: third}
  third:
    decide:
      - {goto: done}
  done: {end: true}
"""


def test_an_instance_that_cannot_move_on_raises_an_incident(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while moving on is undone with its events; an incident names the step; retry resumes.

    (Loops of decisions are rejected when the workflow loads, so the runtime guard against an
    instance that never waits is tripped here by lowering it.)
    """
    monkeypatch.setattr(_advance, "MAX_MOVES", 3)
    h = build(db, tmp_path, ScriptedPlugin(), flow=CHAIN)
    iid = h.start(ANSWERS)
    h.drain()
    [incident] = incidents(h)
    assert (incident.step, incident.step_run_id) == ("third", None)
    assert "WorkflowLoop" in incident.error
    assert h.route(iid) == []  # the moves were rolled back with their events
    assert [j.state for j in jobs(h, "advance")] == ["done"]
    assert h.instance(iid).state == "running"
    monkeypatch.setattr(_advance, "MAX_MOVES", 100)
    h.reload()
    h.with_session(lambda s: h.rt.retry_incident(s, incident.id, by="ops"))
    h.drain()
    assert h.route(iid) == ["first", "second", "third", "done"]
    assert h.instance(iid).state == "completed"
    h.close()


def test_a_result_from_a_lost_lease_is_discarded(db: Database, tmp_path: Path) -> None:
    """A worker whose lease expired cannot commit: the step's outputs are applied once, by the new owner."""
    plugin = ScriptedPlugin()
    plugin.script("send", {"reference": "from-A"}, {"reference": "from-B"})
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    run_one(h)  # the advance job; the run_step job it enqueued stays
    [stale] = h.rt.queue.claim("worker-a")
    h.clock.advance(31)
    assert h.rt.queue.reap_expired() == 1
    [fresh] = h.rt.queue.claim("worker-b")
    asyncio.run(h.rt.run_job(stale))
    assert h.case(iid) == {}
    assert h.instance(iid).state == "running"
    asyncio.run(h.rt.run_job(fresh))
    assert [c.key for c in plugin.calls] == [f"{iid}:send:1"] * 2
    assert h.case(iid) == {"ref": "from-B"}
    with h.rt.db.session(write=False) as session:
        rows = session.scalars(select(CaseValue).where(CaseValue.instance_id == iid)).all()
    assert len(rows) == 1
    assert h.instance(iid).state == "completed"
    h.close()


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_lost_worker_reruns_only_idempotent_steps(db: Database, tmp_path: Path, idempotent: bool) -> None:
    """After a worker vanished mid-call, an idempotent step runs again with its key; another stops."""
    plugin = ScriptedPlugin(idempotent=idempotent)
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    run_one(h)
    assert h.rt.queue.claim("doomed")  # claimed, then the worker is gone: no outcome is recorded
    h.reload()
    h.clock.advance(31)
    h.rt.queue.reap_expired()
    h.drain()
    if idempotent:
        assert [(c.key, c.attempt) for c in plugin.calls] == [(f"{iid}:send:1", 2)]
        assert h.instance(iid).state == "completed"
    else:
        assert plugin.calls == []
        [incident] = incidents(h)
        assert "not idempotent" in incident.error
        h.with_session(lambda s: h.rt.retry_incident(s, incident.id, by="ops"))
        h.drain()
        assert [(c.key, c.attempt) for c in plugin.calls] == [(f"{iid}:send:1", 1)]
        assert h.instance(iid).state == "completed"
    h.close()


def test_any_other_exception_counts_as_retryable(db: Database, tmp_path: Path) -> None:
    """A plugin crashing with a plain exception is retried like a RetryableError."""
    plugin = ScriptedPlugin()
    plugin.script("send", KeyError("oops"))
    h = build(db, tmp_path, plugin)
    iid = h.start(ANSWERS)
    h.drain()
    assert jobs(h)[0].state == "ready"
    h.clock.advance(10)
    h.drain()
    assert h.instance(iid).state == "completed"
    h.close()


def test_an_unknown_job_kind_is_killed(db: Database, tmp_path: Path) -> None:
    """A job the executor does not know is marked dead with a reason, not retried for ever."""
    h = build(db, tmp_path, ScriptedPlugin())
    h.with_session(lambda s: h.rt.queue.enqueue(s, "mystery"))
    h.drain()
    [job] = jobs(h, "mystery")
    assert (job.state, job.last_error) == ("dead", "unknown job kind 'mystery'")
    h.close()


def _s(seconds: float) -> object:
    from datetime import timedelta

    return timedelta(seconds=seconds)


def test_a_job_failing_for_an_unexpected_reason_ends_as_an_incident(db: Database, tmp_path: Path) -> None:
    """A worker that cannot run a step at all (its plugin was uninstalled) retries the job with
    backoff, then gives up with an incident instead of looping for ever."""
    h = build(db, tmp_path, ScriptedPlugin())
    iid = h.start(ANSWERS)
    run_one(h)  # the advance job, with the plugin installed
    h.plugin_objects = []  # the next runtime has no `record` plugin
    h.reload()
    for _ in range(8):
        h.drain()
        h.clock.advance(400)
    [job] = jobs(h)
    assert (job.state, job.attempts) == ("dead", 8)
    [incident] = incidents(h)
    assert incident.step == "send"
    assert incident.error.startswith("run_step job failed 8 times: DefinitionError")
    assert h.instance(iid).state == "running"
    h.close()
