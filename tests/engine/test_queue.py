"""The job queue's semantics on SQLite and PostgreSQL, with a fake clock (nothing sleeps for a timer).

Concurrency across threads and processes, and LISTEN/NOTIFY wake-ups, are in
test_queue_concurrency.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine._database import Database, LeaseLost
from engine._queue import ClaimedJob, JobQueue
from engine._tables import Definition, Department, Instance, Job
from tests.engine.conftest import FakeClock


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> Iterator[JobQueue]:
    """A queue on the test database with the fake clock and a 30-second lease."""
    q = JobQueue(db, clock=clock, lease_seconds=30)
    yield q
    q.close()


def _enqueue(db: Database, queue: JobQueue, count: int = 1, **kwargs: object) -> list[int]:
    with db.session() as session:
        return [queue.enqueue(session, "advance", **kwargs) for _ in range(count)]  # type: ignore[arg-type]


def _in_session(db: Database, work: Callable[[Session], bool], results: list[bool]) -> None:
    """Run ``work`` in a write session, recording its result before the commit is attempted."""
    with db.session() as session:
        results.append(work(session))


def _job(db: Database, job_id: int) -> Job:
    with db.session(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


# Enqueue ---------------------------------------------------------------------------------------


def test_enqueue_adds_a_ready_job_due_now(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """A new job is ready, due at the clock's now, with no attempts, lease or token yet."""
    (job_id,) = _enqueue(db, queue, payload={"step": "triage", "n": [1, 2]}, request_id="req-1")
    job = _job(db, job_id)
    assert (job.state, job.kind, job.queue, job.attempts, job.fencing_token) == (
        "ready",
        "advance",
        "default",
        0,
        0,
    )
    assert job.due_at == clock() == job.created_at
    assert job.lease_owner is None
    assert job.lease_expires_at is None
    assert job.payload == {"step": "triage", "n": [1, 2]}
    assert job.request_id == "req-1"


def test_enqueue_is_part_of_the_callers_transaction(db: Database, queue: JobQueue) -> None:
    """A job enqueued in a transaction that rolls back never exists; nothing can claim it."""

    def enqueue_then_fail() -> None:
        with db.session() as session:
            queue.enqueue(session, "advance")
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert queue.claim("w1") == []
    with db.session(write=False) as session:
        assert session.scalars(select(Job)).all() == []


def test_enqueue_sees_rows_added_earlier_in_the_same_transaction(db: Database, queue: JobQueue) -> None:
    """A job for an instance added (not yet flushed) in the same session satisfies its foreign key."""
    with db.session() as session:
        # _tables.py declares no relationship(), so the ORM does not order inserts of different
        # tables by their foreign keys: parents are flushed explicitly.
        session.add(Department(id="ppu", title="PPU"))
        session.flush()
        session.add(
            Definition(
                id=1,
                kind="workflow",
                department_id="ppu",
                name="w",
                version_label="1",
                content_hash="h",
                source="w",
            )
        )
        session.flush()
        instance_id = str(uuid.uuid4())
        session.add(Instance(id=instance_id, definition_id=1, department_id="ppu"))
        job_id = queue.enqueue(session, "advance", instance_id=instance_id)
    assert _job(db, job_id).instance_id == instance_id


def test_waiters_are_woken_at_the_outer_commit_only(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """An enqueue wakes this process's waiters when the whole transaction commits: not when a
    savepoint around it is released, never for a job due later, and not for a rollback."""
    before = db.work_generation
    with db.session() as session:
        with session.begin_nested():
            queue.enqueue(session, "advance")
        assert db.work_generation == before
    assert db.work_generation == before + 1
    with db.session() as session:
        queue.enqueue(session, "timer", due_at=clock() + timedelta(minutes=1))
    assert db.work_generation == before + 1
    with db.session() as session:
        queue.enqueue(session, "advance")
        session.rollback()
    assert db.work_generation == before + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": ""}, "kind must be a non-empty string"),
        ({"kind": "x" * 17}, "at most 16"),
        ({"kind": "advance", "queue": ""}, "queue must be"),
        ({"kind": "advance", "queue": "q" * 65}, "at most 64"),
        ({"kind": "advance", "due_at": datetime(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_enqueue_refuses_bad_arguments(
    db: Database, queue: JobQueue, kwargs: dict[str, object], message: str
) -> None:
    """Empty or over-long names and naive due times raise ValueError before touching the table."""
    with pytest.raises(ValueError, match=message), db.session() as session:
        queue.enqueue(session, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("lease", "poll"), [(0, 1.0), (-5, 1.0), (30, 0)])
def test_queue_refuses_non_positive_lease_or_poll(db: Database, lease: float, poll: float) -> None:
    """A lease or poll interval of zero or less is a ValueError."""
    with pytest.raises(ValueError, match="must be positive"):
        JobQueue(db, lease_seconds=lease, poll_interval=poll)


# Claim -----------------------------------------------------------------------------------------


def test_claim_leases_the_job_with_a_new_token(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """Claiming sets leased, the owner, expiry now+lease, token+1 and attempts+1, and says so."""
    (job_id,) = _enqueue(db, queue, payload={"a": 1})
    (claimed,) = queue.claim("worker-1")
    assert claimed == ClaimedJob(
        id=job_id,
        kind="advance",
        queue="default",
        instance_id=None,
        step_run_id=None,
        task_id=None,
        payload={"a": 1},
        fencing_token=1,
        attempts=1,
        request_id=None,
        due_at=clock(),
        owner="worker-1",
        lease_expires_at=clock() + timedelta(seconds=30),
    )
    job = _job(db, job_id)
    assert (job.state, job.lease_owner, job.fencing_token, job.attempts) == ("leased", "worker-1", 1, 1)
    assert job.lease_expires_at == clock() + timedelta(seconds=30)
    assert queue.claim("worker-2") == []


def test_claim_takes_the_oldest_due_first_and_skips_future_jobs(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """Jobs come out in due_at order (then id); a job due later is not claimable until its time."""
    now = clock()
    with db.session() as session:
        later = queue.enqueue(session, "timer", due_at=now + timedelta(hours=1))
        recent = queue.enqueue(session, "advance", due_at=now - timedelta(minutes=1))
        oldest = queue.enqueue(session, "advance", due_at=now - timedelta(hours=2))
        current = queue.enqueue(session, "advance")
    assert [j.id for j in queue.claim("w", limit=10)] == [oldest, recent, current]
    assert queue.claim("w") == []
    clock.advance(hours=1)
    assert [j.id for j in queue.claim("w")] == [later]


def test_claim_respects_the_limit(db: Database, queue: JobQueue) -> None:
    """At most ``limit`` jobs are leased per claim; the rest stay ready."""
    ids = _enqueue(db, queue, 5)
    assert [j.id for j in queue.claim("w", limit=3)] == ids[:3]
    assert [j.id for j in queue.claim("w", limit=3)] == ids[3:]


def test_claim_only_takes_the_named_queues(db: Database, queue: JobQueue) -> None:
    """A claim for some queues leaves the jobs of other queues alone."""
    with db.session() as session:
        mail = queue.enqueue(session, "run_step", queue="mail")
        http = queue.enqueue(session, "run_step", queue="http")
        default = queue.enqueue(session, "advance")
    assert [j.id for j in queue.claim("w", limit=10, queues=("mail",))] == [mail]
    assert [j.id for j in queue.claim("w", limit=10)] == [default]
    assert [(j.id, j.queue) for j in queue.claim("w", queues=["mail", "http"])] == [(http, "http")]


@pytest.mark.parametrize(
    ("owner", "kwargs", "message"),
    [
        ("", {}, "owner must be"),
        ("w", {"limit": 0}, "limit must be a positive"),
        ("w", {"queues": "default"}, "queues must be a non-empty sequence"),
        ("w", {"queues": ()}, "queues must be a non-empty sequence"),
    ],
)
def test_claim_refuses_bad_arguments(
    queue: JobQueue, owner: str, kwargs: dict[str, object], message: str
) -> None:
    """An empty owner, a limit below 1, or queues given as one string are ValueErrors."""
    with pytest.raises(ValueError, match=message):
        queue.claim(owner, **kwargs)  # type: ignore[arg-type]


# Completion and fencing ------------------------------------------------------------------------


def test_complete_marks_the_job_done_once(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """complete() returns True and the job is done; completing it again returns False."""
    _enqueue(db, queue)
    (job,) = queue.claim("w")
    clock.advance(5)
    with db.session() as session:
        assert queue.complete(session, job) is True
    stored = _job(db, job.id)
    assert (stored.state, stored.finished_at, stored.lease_expires_at) == ("done", clock(), None)
    results: list[bool] = []
    with pytest.raises(LeaseLost):
        _in_session(db, lambda session: queue.complete(session, job), results)
    assert results == [False]
    assert queue.claim("w") == []


def test_a_completion_after_the_lease_moved_on_is_discarded(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """Fencing: the lease expires, the reaper frees the job, a second owner claims it; the first
    owner's complete() returns False and its whole transaction is rolled back; the second wins."""
    _enqueue(db, queue)
    (first,) = queue.claim("worker-a")
    clock.advance(31)
    assert queue.reap_expired() == 1
    (second,) = queue.claim("worker-b")
    assert (second.id, second.fencing_token, second.attempts) == (first.id, 2, 2)

    def stale_run(session: Session) -> bool:
        session.add(Department(id="written-by-a", title="a side effect of the stale run"))
        return queue.complete(session, first)

    results: list[bool] = []
    with pytest.raises(LeaseLost, match=f"job {first.id}"):
        _in_session(db, stale_run, results)
    assert results == [False]
    with db.session(write=False) as session:
        assert session.get(Department, "written-by-a") is None
    assert _job(db, first.id).state == "leased"

    with db.session() as session:
        session.add(Department(id="written-by-b", title="the real run"))
        assert queue.complete(session, second) is True
    with db.session(write=False) as session:
        assert session.get(Department, "written-by-b") is not None
    job = _job(db, first.id)
    assert (job.state, job.lease_owner, job.fencing_token) == ("done", "worker-b", 2)


def test_a_rolled_back_lost_lease_leaves_the_session_usable(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """After a False, rolling back clears the refusal: the same session can commit new work."""
    _enqueue(db, queue)
    (stale,) = queue.claim("a")
    clock.advance(60)
    queue.reap_expired()
    queue.claim("b")
    with db.session() as session:
        assert queue.complete(session, stale) is False
        session.rollback()
        session.add(Department(id="after", title="unrelated work"))
    with db.session(write=False) as session:
        assert session.get(Department, "after") is not None


def test_a_lost_lease_inside_a_savepoint_still_refuses_the_commit(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """Hiding the failed completion in a savepoint does not make the outer transaction committable."""
    _enqueue(db, queue)
    (stale,) = queue.claim("a")
    clock.advance(31)
    queue.reap_expired()
    queue.claim("b")

    def nested(session: Session) -> bool:
        with session.begin_nested():
            return queue.complete(session, stale)

    results: list[bool] = []
    with pytest.raises(LeaseLost):
        _in_session(db, nested, results)
    assert results == [False]


def test_a_crashed_owners_job_is_reaped_and_claimed_again(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """A job whose owner vanished stays leased until the lease expires, then goes back to ready and
    is claimed again with a higher token; the reaper records whose lease ran out."""
    (job_id,) = _enqueue(db, queue)
    (lost,) = queue.claim("crashed-worker")
    clock.advance(29)
    assert queue.reap_expired() == 0
    assert queue.claim("other") == []
    clock.advance(1)
    assert queue.reap_expired() == 0  # expiry is exclusive: exactly at the expiry it still holds
    clock.advance(1)
    assert queue.reap_expired() == 1
    job = _job(db, job_id)
    assert (job.state, job.lease_owner, job.lease_expires_at) == ("ready", None, None)
    assert job.last_error == "lease expired; owner was crashed-worker"
    (again,) = queue.claim("other")
    assert again.id == job_id
    assert again.fencing_token > lost.fencing_token
    assert again.attempts == 2
    assert queue.reap_expired() == 0


def test_reap_only_touches_expired_leases(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """Ready, done, dead and unexpired leased jobs are left alone by the reaper."""
    _enqueue(db, queue, 4)
    done, dead, expired = queue.claim("w", limit=3)
    with db.session() as session:
        queue.complete(session, done)
        queue.kill(session, dead, error="bad")
    clock.advance(20)
    fresh = queue.claim("w")[0]
    clock.advance(15)  # `expired` is 35 s old, `fresh` 15 s
    assert queue.reap_expired() == 1
    states = {j: _job(db, j).state for j in (done.id, dead.id, expired.id, fresh.id)}
    assert states == {done.id: "done", dead.id: "dead", expired.id: "ready", fresh.id: "leased"}


def test_extend_lease_keeps_a_long_job(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """A heartbeat pushes the expiry out, so the reaper leaves the job; a lost lease cannot be extended."""
    _enqueue(db, queue)
    (job,) = queue.claim("w")
    clock.advance(25)
    assert queue.extend_lease(job) is True
    assert _job(db, job.id).lease_expires_at == clock() + timedelta(seconds=30)
    clock.advance(25)  # 50 s after the claim, 25 s after the heartbeat
    assert queue.reap_expired() == 0
    clock.advance(10)
    assert queue.reap_expired() == 1
    assert queue.extend_lease(job) is False
    queue.claim("other")
    assert queue.extend_lease(job) is False


# Retry, release, kill --------------------------------------------------------------------------


def test_retry_later_waits_for_its_due_time(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """retry_later puts the job back, due later, with the error; attempts keep counting."""
    _enqueue(db, queue)
    (job,) = queue.claim("w")
    with db.session() as session:
        assert queue.retry_later(session, job, due_at=clock() + timedelta(seconds=10), error="503 from MASH")
    stored = _job(db, job.id)
    assert (stored.state, stored.last_error, stored.lease_owner, stored.attempts) == (
        "ready",
        "503 from MASH",
        None,
        1,
    )
    assert queue.claim("w") == []
    clock.advance(10)
    (again,) = queue.claim("w")
    assert (again.attempts, again.fencing_token) == (2, 2)


def test_release_gives_the_job_back_without_counting_the_attempt(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """release() (graceful shutdown) makes the job ready now and takes back the attempt."""
    (job_id,) = _enqueue(db, queue, due_at=clock() - timedelta(hours=1))
    (job,) = queue.claim("w")
    clock.advance(3)
    with db.session() as session:
        assert queue.release(session, job) is True
    stored = _job(db, job_id)
    assert (stored.state, stored.attempts, stored.due_at, stored.lease_owner) == ("ready", 0, clock(), None)
    (again,) = queue.claim("next")
    assert (again.attempts, again.fencing_token) == (1, 2)


def test_kill_makes_the_job_dead_for_good(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """kill() marks the job dead with the error; it is never claimed or reaped again."""
    _enqueue(db, queue)
    (job,) = queue.claim("w")
    with db.session() as session:
        assert queue.kill(session, job, error="PermanentError: 400 bad request") is True
    stored = _job(db, job.id)
    assert (stored.state, stored.last_error, stored.finished_at) == (
        "dead",
        "PermanentError: 400 bad request",
        clock(),
    )
    clock.advance(days=1)
    assert queue.reap_expired() == 0
    assert queue.claim("w") == []


@pytest.mark.parametrize("transition", ["retry_later", "release", "kill"])
def test_every_transition_is_fenced(db: Database, queue: JobQueue, clock: FakeClock, transition: str) -> None:
    """retry_later, release and kill by a stale owner return False, refuse to commit, change nothing."""
    _enqueue(db, queue)
    (stale,) = queue.claim("a")
    clock.advance(31)
    queue.reap_expired()
    (current,) = queue.claim("b")
    transitions: dict[str, Callable[[Session], bool]] = {
        "retry_later": lambda session: queue.retry_later(session, stale, due_at=clock(), error="x"),
        "release": lambda session: queue.release(session, stale),
        "kill": lambda session: queue.kill(session, stale, error="x"),
    }
    results: list[bool] = []
    with pytest.raises(LeaseLost):
        _in_session(db, transitions[transition], results)
    assert results == [False]
    job = _job(db, current.id)
    assert (job.state, job.lease_owner, job.fencing_token, job.attempts) == ("leased", "b", 2, 2)


def test_retry_later_refuses_a_naive_due_time(db: Database, queue: JobQueue) -> None:
    """A naive due_at is a ValueError (it would be read as local time on one database and UTC on another)."""
    _enqueue(db, queue)
    (job,) = queue.claim("w")
    with pytest.raises(ValueError, match="timezone-aware"), db.session() as session:
        queue.retry_later(session, job, due_at=datetime(2025, 1, 1), error="x")


# Monitoring and housekeeping --------------------------------------------------------------------


def test_stats_counts_per_queue_and_ages_the_oldest_due_job(
    db: Database, queue: JobQueue, clock: FakeClock
) -> None:
    """stats() gives ready/due/leased/dead counts per queue and how long the oldest due job waited."""
    assert queue.stats() == {}
    now = clock()
    with db.session() as session:
        queue.enqueue(session, "advance", due_at=now - timedelta(seconds=90))
        queue.enqueue(session, "advance", due_at=now - timedelta(seconds=10))
        queue.enqueue(session, "timer", due_at=now + timedelta(hours=1))
        queue.enqueue(session, "run_step", queue="mail")
        queue.enqueue(session, "run_step", queue="mail")
    (leased,) = queue.claim("w", queues=("mail",))
    (to_kill,) = queue.claim("w", queues=("mail",))
    with db.session() as session:
        queue.kill(session, to_kill, error="x")
    stats = queue.stats()
    assert stats == {
        "default": {"ready": 3, "due": 2, "leased": 0, "dead": 0, "oldest_ready_age": 90.0},
        "mail": {"ready": 0, "due": 0, "leased": 1, "dead": 1, "oldest_ready_age": 0.0},
    }
    assert leased.queue == "mail"


def test_purge_done_deletes_only_old_finished_jobs(db: Database, queue: JobQueue, clock: FakeClock) -> None:
    """purge_done removes done jobs finished before the cutoff; dead, ready and recent ones stay."""
    ids = _enqueue(db, queue, 4)
    old_done, dead = queue.claim("w", limit=2)
    with db.session() as session:
        queue.complete(session, old_done)
        queue.kill(session, dead, error="x")
    clock.advance(days=8)
    (new_done,) = queue.claim("w")
    with db.session() as session:
        queue.complete(session, new_done)
    assert queue.purge_done(clock() - timedelta(days=7)) == 1
    with db.session(write=False) as session:
        remaining = set(session.scalars(select(Job.id)))
    assert remaining == set(ids) - {old_done.id}
    with pytest.raises(ValueError, match="timezone-aware"):
        queue.purge_done(datetime(2025, 1, 1))


def test_purge_keeps_the_newest_row_on_sqlite(sqlite_db: Database, clock: FakeClock) -> None:
    """On SQLite the job with the largest id is never purged, so its id cannot be handed out again."""
    queue = JobQueue(sqlite_db, clock=clock)
    ids = _enqueue(sqlite_db, queue, 2)
    for job in queue.claim("w", limit=2):
        with sqlite_db.session() as session:
            queue.complete(session, job)
    clock.advance(days=30)
    assert queue.purge_done(clock()) == 1
    (next_id,) = _enqueue(sqlite_db, queue)
    assert next_id > max(ids)
