"""The queue under real concurrency (processes on PostgreSQL, threads on SQLite) and its wake-ups.

These tests use real time (they measure waits and race real workers) but never wait for a
timer: lease expiry is simulated with a clock that runs ahead.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from engine._database import Database
from engine._queue import JobQueue
from engine._queue_listen import PostgresListener
from engine._tables import Job, utcnow
from tests.engine.conftest import FakeClock, SchemaPool, admin_conninfo, schema_url

JOBS = 2_000
WORKERS = 4


def _make_log(db: Database) -> None:
    with db.begin() as connection:
        connection.execute(
            text("CREATE TABLE claim_log (job_id BIGINT NOT NULL, owner TEXT NOT NULL, token INT)")
        )


def _drain(url_or_db: str | Database, owner: str, start: Any) -> int:
    """Claim and complete jobs until none is left; log each completion in its own transaction."""
    db = Database(url_or_db) if isinstance(url_or_db, str) else url_or_db
    queue = JobQueue(db, lease_seconds=300)
    done = 0
    try:
        start.wait(timeout=60)
        while jobs := queue.claim(owner, limit=5):
            for job in jobs:
                with db.session() as session:
                    if not queue.complete(session, job):
                        raise AssertionError(f"{owner} lost the lease of job {job.id}")
                    session.execute(
                        text("INSERT INTO claim_log (job_id, owner, token) VALUES (:j, :o, :t)"),
                        {"j": job.id, "o": owner, "t": job.fencing_token},
                    )
                done += 1
    finally:
        queue.close()
        if isinstance(url_or_db, str):
            db.dispose()
    return done


def _process_worker(url: str, owner: str, start: Any) -> None:
    _drain(url, owner, start)


def _no_fsync(url: str) -> str:
    """``url`` with synchronous_commit off: commits do not wait for the disk (a slow CI disk would
    make the test measure fsync, not the queue); locking and visibility are unchanged."""
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} -csynchronous_commit=off".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _check_every_job_ran_once(db: Database) -> set[str]:
    """Assert every job is done, claimed once, logged once; return the owners that did work."""
    with db.session(write=False) as session:
        jobs = session.execute(select(Job.id, Job.state, Job.fencing_token, Job.attempts)).all()
        log = session.execute(text("SELECT job_id, owner, token FROM claim_log")).all()
    assert len(jobs) == JOBS
    assert {state for _, state, _, _ in jobs} == {"done"}, "a job was left behind"
    assert {(token, attempts) for _, _, token, attempts in jobs} == {(1, 1)}, "a job was claimed twice"
    assert len(log) == JOBS
    assert len({job_id for job_id, _, _ in log}) == JOBS, "a job was completed twice"
    assert {job_id for job_id, _, _ in log} == {job_id for job_id, _, _, _ in jobs}
    return {owner for _, owner, _ in log}


def _fill(db: Database) -> None:
    queue = JobQueue(db)
    with db.session() as session:
        for i in range(JOBS):
            queue.enqueue(session, "advance", payload={"i": i})
    queue.close()


@pytest.mark.slow
def test_four_processes_claim_every_job_exactly_once_on_postgres(pg_db: Database) -> None:
    """4 OS processes (spawned, each with its own Database) drain 2,000 jobs at once: every job is
    claimed and completed exactly once, by (job, owner, token) logged in the completing
    transaction, and none is left behind."""
    _make_log(pg_db)
    _fill(pg_db)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [
        context.Process(target=_process_worker, args=(_no_fsync(pg_db.url), f"proc-{i}", start))
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    started = time.monotonic()
    start.set()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    owners = _check_every_job_ran_once(pg_db)
    assert len(owners) >= 2, "the processes did not actually overlap"
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_four_threads_claim_every_job_exactly_once_on_sqlite(sqlite_db: Database) -> None:
    """4 threads sharing one SQLite database drain 2,000 jobs: BEGIN IMMEDIATE serialises the
    claims, so every job is claimed and completed exactly once and none is left."""
    _make_log(sqlite_db)
    _fill(sqlite_db)
    start = threading.Event()
    results: dict[str, int | BaseException] = {}

    def work(owner: str) -> None:
        try:
            results[owner] = _drain(sqlite_db, owner, start)
        except BaseException as exc:
            results[owner] = exc

    threads = [threading.Thread(target=work, args=(f"thread-{i}",)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(n, int) for n in results.values()), results
    assert sum(n for n in results.values() if isinstance(n, int)) == JOBS
    assert len(_check_every_job_ran_once(sqlite_db)) >= 2


def _claim_and_vanish(url: str) -> None:
    """Claim one job and die without completing it or releasing anything (a crash)."""
    queue = JobQueue(Database(url), lease_seconds=30)
    (job,) = queue.claim("doomed")
    os._exit(0 if job.fencing_token == 1 else 3)


def test_a_killed_process_leaves_its_job_to_the_reaper(db: Database) -> None:
    """A process that claims a job and dies: the job stays leased, then, once the lease has run out
    (a clock 31 s ahead stands in for waiting), is reaped and claimed again with a higher token."""
    with db.session() as session:
        job_id = JobQueue(db).enqueue(session, "run_step")
    child = multiprocessing.get_context("spawn").Process(target=_claim_and_vanish, args=(db.url,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    survivor = JobQueue(db, lease_seconds=30)
    assert survivor.claim("survivor") == []
    assert survivor.reap_expired() == 0
    later = JobQueue(db, clock=lambda: utcnow() + timedelta(seconds=31))
    assert later.reap_expired() == 1
    (job,) = survivor.claim("survivor")
    assert (job.id, job.fencing_token, job.attempts) == (job_id, 2, 2)
    survivor.close()
    later.close()


# Wake-ups -----------------------------------------------------------------------------------------


def _waiter(queue: JobQueue, timeout: float) -> tuple[threading.Thread, list[float]]:
    """Start a thread blocked in wait_for_work(timeout); the list gets its return time."""
    returned: list[float] = []
    ready = threading.Event()

    def run() -> None:
        ready.set()
        queue.wait_for_work(timeout)
        returned.append(time.monotonic())

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait()
    time.sleep(0.3)  # let the thread block inside wait_for_work (real concurrency, not a timer)
    return thread, returned


def test_listen_notify_wakes_a_waiter_when_another_connection_enqueues(pg_db: Database) -> None:
    """On PostgreSQL a waiter in wait_for_work(timeout=10) returns within a second or so of an
    enqueue committed by a different Database (another connection, as another process would)."""
    queue = JobQueue(pg_db, poll_interval=30)
    assert queue.claim("w") == []  # a claim starts LISTEN before it looks at the table
    thread, returned = _waiter(queue, 10)
    other = Database(pg_db.url)
    with other.session() as session:
        JobQueue(other).enqueue(session, "advance")
    committed = time.monotonic()
    thread.join(timeout=15)
    other.dispose()
    assert returned, "the waiter never returned"
    assert returned[0] - committed < 5
    assert [j.kind for j in queue.claim("w")] == ["advance"]
    queue.close()


def test_an_enqueue_that_rolls_back_wakes_nobody(db: Database) -> None:
    """No wake-up is sent for a job whose transaction rolled back: the waiter sleeps its full timeout."""
    queue = JobQueue(db, poll_interval=30)
    queue.claim("w")
    thread, returned = _waiter(queue, 1.0)
    began = time.monotonic() - 0.3

    def enqueue_then_fail() -> None:
        with db.session() as session:
            queue.enqueue(session, "advance")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    thread.join(timeout=10)
    assert returned[0] - began >= 0.9
    queue.close()


def test_notifications_stay_within_their_schema(pg_db: Database, schema_pool: SchemaPool) -> None:
    """Two installations in different schemas of one PostgreSQL database have separate channels:
    work enqueued in one does not wake the other's waiters."""
    schema = schema_pool.acquire()
    other = Database(schema_url(schema))
    try:
        assert pg_db.notify_channel != other.notify_channel
        assert pg_db.notify_channel.startswith("waypost_jobs.")
        queue = JobQueue(pg_db, poll_interval=30)
        queue.claim("w")
        began = time.monotonic()
        thread, returned = _waiter(queue, 1.0)
        with other.session() as session:
            JobQueue(other).enqueue(session, "advance")
        thread.join(timeout=10)
        assert returned[0] - began >= 0.9
        queue.close()
    finally:
        other.dispose()
        schema_pool.release(schema)


def test_an_enqueue_in_this_process_wakes_the_waiter(db: Database) -> None:
    """A commit that enqueued work wakes a waiter of the same process at once (both databases)."""
    queue = JobQueue(db, poll_interval=30)
    queue.claim("w")
    thread, returned = _waiter(queue, 10)
    with db.session() as session:
        queue.enqueue(session, "advance")
    committed = time.monotonic()
    thread.join(timeout=15)
    assert returned, "the waiter never returned"
    assert returned[0] - committed < 5
    queue.close()


def test_work_enqueued_between_claim_and_wait_is_not_missed(db: Database) -> None:
    """A job committed (here by another Database, like another process) after a claim found nothing
    but before the wait makes the wait return at once: on PostgreSQL the claim started LISTEN
    first; on SQLite the same-process signal is remembered. Polling is set to 30 s, so only the
    wake-up can explain a fast return."""
    queue = JobQueue(db, poll_interval=30)
    assert queue.claim("w") == []
    enqueuer = db if db.is_sqlite else Database(db.url)
    with enqueuer.session() as session:
        JobQueue(enqueuer).enqueue(session, "advance")
    began = time.monotonic()
    queue.wait_for_work(10)
    assert time.monotonic() - began < 5
    assert len(queue.claim("w")) == 1
    if enqueuer is not db:
        enqueuer.dispose()
    queue.close()


def test_polling_finds_work_that_became_due_without_a_notification(db: Database, clock: FakeClock) -> None:
    """A job due later sends no notification; the waiter still wakes every poll_interval, and once
    the (fake) clock reaches the due time the next claim finds it."""
    queue = JobQueue(db, clock=clock, poll_interval=0.2)
    with db.session() as session:
        job_id = queue.enqueue(session, "timer", due_at=clock() + timedelta(minutes=5))
    assert queue.claim("w") == []
    began = time.monotonic()
    queue.wait_for_work(10)
    waited = time.monotonic() - began
    assert 0.1 <= waited < 5
    clock.advance(minutes=5)
    assert [j.id for j in queue.claim("w")] == [job_id]
    queue.close()


def test_wait_for_work_with_no_time_returns_at_once(db: Database) -> None:
    """A timeout of zero or less does not block."""
    queue = JobQueue(db, poll_interval=30)
    began = time.monotonic()
    queue.wait_for_work(0)
    queue.wait_for_work(-1)
    assert time.monotonic() - began < 0.5
    queue.close()


def test_a_dropped_listener_connection_is_survived(pg_db: Database) -> None:
    """If the server ends the LISTEN connection, waiting degrades to polling without raising, and
    the next wait listens again: a later enqueue wakes the waiter as before."""
    queue = JobQueue(pg_db, poll_interval=30)
    queue.claim("w")  # starts listening
    admin = psycopg.connect(admin_conninfo(), autocommit=True)
    killed = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE query LIKE 'LISTEN%%' AND application_name = %s",
        (pg_db.engine.url.query["application_name"],),
    ).fetchall()
    admin.close()
    assert killed == [(True,)]
    began = time.monotonic()
    queue.wait_for_work(0.5)  # the broken connection is noticed: it polls out the rest of the wait
    assert time.monotonic() - began < 5
    assert queue.claim("w") == []  # listens again before looking
    thread, returned = _waiter(queue, 10)
    with pg_db.session() as session:
        queue.enqueue(session, "advance")
    committed = time.monotonic()
    thread.join(timeout=15)
    assert returned, "the waiter never returned"
    assert returned[0] - committed < 5
    queue.close()


def test_a_server_that_refuses_listen_is_polled_and_not_asked_on_every_claim(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If LISTEN cannot be set up (say, behind a transaction-pooling proxy), claims still work,
    waits become polls, and the listener is not retried before its back-off has passed."""
    attempts: list[float] = []

    def refuse(self: PostgresListener) -> None:
        attempts.append(time.monotonic())
        raise psycopg.OperationalError("LISTEN is not supported here")

    monkeypatch.setattr(PostgresListener, "_connect", refuse)
    queue = JobQueue(pg_db, poll_interval=0.2)
    with pg_db.session() as session:
        queue.enqueue(session, "advance")
    assert len(queue.claim("w")) == 1
    assert queue.claim("w") == []
    began = time.monotonic()
    queue.wait_for_work(10)
    assert 0.1 <= time.monotonic() - began < 5
    assert len(attempts) == 1
