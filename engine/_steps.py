"""Running a call step: one plugin attempt, then its outcome in one transaction.

1. Read what the attempt needs (a short read-only transaction): the step run with its inputs,
   fixed when the step was entered, and its idempotency key ``instance:step:visit``; the pinned
   workflow's call; the pinned department's connection settings.
2. Call the plugin outside any transaction, through :func:`engine.plugins.arun_step` (schemas
   checked, ``${env:NAME}`` resolved, the deadline enforced), extending the job's lease while a
   long call runs.
3. One transaction under the instance lock records the outcome:

   * success: the job completes (fenced), the step run keeps the outputs, the ``out`` mapping
     writes case data, and the token moves on (:meth:`Runtime.advance`);
   * a retryable failure with attempts left: the job waits ``RetryPolicy.delay`` (exponential
     backoff with jitter; at least the back-end's ``retry_after``);
   * a permanent failure, or no attempts left: the step run fails, the job dies and an
     :class:`~engine._tables.Incident` waits for an operator. The instance stays running.

The attempt number is the job's claim count. A claim whose predecessor never recorded an outcome
(the worker died mid-call) means the back-end may or may not have acted: an idempotent plugin
simply runs again with the same key; a plugin that is not idempotent raises an incident instead,
so a person decides whether the effect happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine._advance import call_payload, event
from engine._casedata import set_value
from engine._jobs import Discarded
from engine._queue import ClaimedJob
from engine._step_errors import PermanentError, RetryableError
from engine._tables import Incident, Instance, StepRun
from engine.plugins import StepPlugin, arun_step
from workflows import PluginSpec, RetryPolicy

if TYPE_CHECKING:
    from engine._executor import AdvanceFailed, Runtime

__all__ = ["run_step"]

log = logging.getLogger("waypost.executor")


@dataclass(frozen=True, slots=True)
class _Call:
    run_id: int
    instance_id: str
    step: str
    key: str
    inputs: dict[str, Any]
    plugin: StepPlugin
    spec: PluginSpec
    config: dict[str, Any]
    timeout: float
    retry: RetryPolicy
    unknown_outcome: bool


@dataclass(frozen=True, slots=True)
class _Outcome:
    outputs: dict[str, Any] | None = None
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


async def run_step(rt: Runtime, job: ClaimedJob) -> None:
    """Run one attempt of the call step of ``job`` and record the outcome."""
    called = False
    try:
        call = await asyncio.to_thread(_prepare, rt, job)
        if isinstance(call, str):
            await asyncio.to_thread(_finish, rt, job, call)
            return
        if call.unknown_outcome and not call.spec.idempotent:
            outcome = _Outcome(
                error=f"an earlier attempt of this step stopped without a result (the worker was lost), "
                f"and plugin '{call.spec.name}' is not idempotent: check whether it took effect, "
                "then retry or resolve this incident",
                permanent=True,
            )
        else:
            called = True
            outcome = await _attempt(rt, job, call)
        await asyncio.to_thread(_record, rt, job, call, outcome)
    except asyncio.CancelledError:
        # Graceful shutdown ran out of time: give the job back (or count the attempt if the
        # plugin had been called, since its effect may have happened).
        await asyncio.shield(asyncio.to_thread(_interrupted, rt, job, called))
        raise


async def _attempt(rt: Runtime, job: ClaimedJob, call: _Call) -> _Outcome:
    heartbeat = asyncio.create_task(_heartbeat(rt, job))
    try:
        outputs = await arun_step(
            call.plugin,
            call.inputs,
            config=call.config,
            idempotency_key=call.key,
            timeout=call.timeout,
            environ=rt.environ,
            attempt=job.attempts,
            instance_id=call.instance_id,
            step=call.step,
            spec=call.spec,
        )
    except PermanentError as exc:
        return _Outcome(error=_text(exc), permanent=True)
    except RetryableError as exc:
        return _Outcome(error=_text(exc), retry_after=exc.retry_after)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # anything else a plugin raises counts as retryable
        return _Outcome(error=_text(exc))
    finally:
        heartbeat.cancel()
    return _Outcome(outputs=outputs)


async def _heartbeat(rt: Runtime, job: ClaimedJob) -> None:
    interval = max(rt.queue.lease_seconds / 3, 0.05)
    while True:
        await asyncio.sleep(interval)
        if not await asyncio.to_thread(rt.queue.extend_lease, job):
            log.warning("job %s: lease lost during the call; its result will be discarded", job.id)
            return


def _prepare(rt: Runtime, job: ClaimedJob) -> _Call | str:
    given = job.payload if isinstance(job.payload, dict) else {}
    if job.attempts == 1 and {"run", "instance", "step", "key", "inputs", "definition"} <= given.keys():
        # A first attempt: what the attempt needs came with the job, so there is nothing to read.
        # (A step run that finished meanwhile, or an instance that stopped, is caught when the
        # outcome is recorded, under the instance lock.)
        return _call(rt, job, given, 0)
    run: StepRun | None = None
    instance: Instance | None = None
    if job.step_run_id is not None:
        with rt.db.session(write=False) as session:
            row = session.execute(
                select(StepRun, Instance)
                .join(Instance, Instance.id == StepRun.instance_id)
                .where(StepRun.id == job.step_run_id)
            ).first()
        if row is not None:
            run, instance = row
    if run is None or instance is None:
        return "the step run no longer exists"
    if run.state in ("succeeded", "failed"):
        return f"the step run has {run.state} already"
    if instance.state != "running":
        return f"the instance is {instance.state}"
    return _call(rt, job, call_payload(run, instance.definition_id), run.attempt)


def _call(rt: Runtime, job: ClaimedJob, given: Mapping[str, Any], recorded: int) -> _Call:
    definition = int(given["definition"])
    flow = rt.store.workflow(definition)
    step = flow.steps[str(given["step"])]
    if step.call is None:
        raise ValueError(f"step '{step.id}' of workflow '{flow.id}' is not a call step")
    config: dict[str, Any] = {}
    if step.call.connection is not None:
        settings: Mapping[str, Any] = rt.store.department(definition).connections.get(
            step.call.connection, {}
        )
        config = {key: value for key, value in settings.items() if key != "plugin"}
    return _Call(
        run_id=int(given["run"]),
        instance_id=str(given["instance"]),
        step=step.id,
        key=str(given["key"]),
        inputs=dict(given["inputs"] or {}),
        plugin=rt.plugins.get(step.call.plugin),
        spec=rt.plugins.spec(step.call.plugin),
        config=config,
        timeout=step.call.timeout,
        retry=step.call.retry,
        unknown_outcome=job.attempts > recorded + 1,
    )


def _finish(rt: Runtime, job: ClaimedJob, reason: str) -> None:
    log.info("job %s: nothing to run (%s)", job.id, reason)
    with rt.db.session() as session:
        if not rt.queue.complete(session, job):
            raise Discarded


def _record(rt: Runtime, job: ClaimedJob, call: _Call, outcome: _Outcome) -> None:
    rt.transact(lambda session, failure: _record_in(rt, session, failure, job, call, outcome))


def _record_in(
    rt: Runtime,
    session: Session,
    failure: AdvanceFailed | None,
    job: ClaimedJob,
    call: _Call,
    outcome: _Outcome,
) -> None:
    row = session.execute(
        select(Instance, StepRun)
        .join(StepRun, StepRun.instance_id == Instance.id)
        .where(StepRun.id == call.run_id)
        .with_for_update(of=Instance, key_share=True)
    ).first()
    if row is None:  # pragma: no cover - step runs are never deleted while an instance lives
        raise ValueError(f"step run {call.run_id} disappeared")
    instance, run = row
    now = rt.clock()
    if run.state in ("succeeded", "failed"):
        # A duplicate job for a step run that already has its outcome: nothing more to record.
        if not rt.queue.complete(session, job):
            raise Discarded
        return
    if outcome.outputs is not None:
        if not rt.queue.complete(session, job):
            raise Discarded
        flow, case = rt.case(session, instance)
        run.attempt = job.attempts
        mapping = flow.steps[run.step].call
        try:
            values = (
                mapping.outputs.evaluate(case.with_result(outcome.outputs, now))
                if mapping is not None and mapping.outputs is not None
                else {}
            )
        except Exception as exc:
            run.outputs = outcome.outputs
            _incident(session, instance, run, f"the 'out' mapping failed: {_text(exc)}", now)
            return
        run.state = "succeeded"
        run.outputs = outcome.outputs
        run.error = None
        run.finished_at = now
        for name, value in values.items():
            set_value(
                session, case, instance.id, name, value, loaded=True, step_run_id=run.id, updated_at=now
            )
            case.case[name] = value
        event(session, instance.id, "step_completed", now, run.step, step_run=run.id, attempt=job.attempts)
        if instance.state == "running":
            rt.advance(session, instance, flow, case, finished=run, failure=failure)
        return
    if not outcome.permanent and job.attempts < call.retry.attempts:
        delay = call.retry.delay(job.attempts, rt.rand)
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        due = now + timedelta(seconds=delay)
        if not rt.queue.retry_later(session, job, due_at=due, error=outcome.error):
            raise Discarded
        run.attempt = job.attempts
        run.state = "pending"
        run.error = outcome.error
        event(
            session,
            instance.id,
            "step_retry",
            now,
            run.step,
            attempt=job.attempts,
            delay=round(delay, 3),
            error=outcome.error[:500],
        )
        return
    if not rt.queue.kill(session, job, error=outcome.error):
        raise Discarded
    run.attempt = job.attempts
    _incident(session, instance, run, outcome.error, now)


def _incident(session: Session, instance: Instance, run: StepRun, error: str, now: datetime) -> None:
    run.state = "failed"
    run.error = error
    run.finished_at = now
    session.add(
        Incident(instance_id=instance.id, step_run_id=run.id, step=run.step, error=error, created_at=now)
    )
    event(session, instance.id, "incident", now, run.step, step_run=run.id, error=error[:500])


def _interrupted(rt: Runtime, job: ClaimedJob, called: bool) -> None:
    try:
        with rt.db.session() as session:
            if not called:
                rt.queue.release(session, job)
                return
            # The call may have taken effect: the attempt counts, and its outcome stays unknown,
            # so the next claim re-runs an idempotent plugin and stops a non-idempotent one.
            rt.queue.retry_later(session, job, due_at=rt.clock(), error="the worker stopped during the call")
    except Exception:
        log.exception("job %s: could not give the job back; its lease will expire", job.id)


def _text(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return message[:4000]
