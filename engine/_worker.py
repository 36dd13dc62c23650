"""The worker: claims jobs and runs them, many at a time, until told to stop.

A worker is an asyncio task, so it runs on its own (``waypost worker``, :meth:`Worker.run_forever`
with SIGTERM/SIGINT handlers) or inside another asyncio program (``waypost serve`` starts one in
the web process: ``asyncio.create_task(worker.run(stop))`` from the app's lifespan).

The loop: claim as many due jobs as there are free slots, run each as its own task, and when
there is nothing to claim wait for a wake-up (PostgreSQL NOTIFY, an in-process signal, or the
poll interval). Beside it a reaper returns jobs whose lease has expired (their worker died) to
the queue, and on SQLite the write-ahead log is checkpointed now and then.

Stopping (``stop`` set): no new claims; jobs in flight get ``grace`` seconds to finish; any still
running are cancelled, which gives them back to the queue (a call already made counts as an
attempt, see :mod:`engine._steps`). Nothing is lost either way: a job not finished is claimed
again, by this worker's successor or another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine._executor import Runtime
from engine._queue import ClaimedJob

__all__ = ["Worker"]

log = logging.getLogger("waypost.worker")


class Worker:
    """Runs the jobs of ``runtime``'s queue, ``concurrency`` at a time.

    ``owner`` names this worker in job leases (default: host, process id and a random suffix);
    ``reap_interval`` is how often expired leases are looked for, in seconds; ``grace`` is how
    long in-flight jobs may take to finish once the worker is told to stop.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        concurrency: int = 4,
        owner: str | None = None,
        reap_interval: float = 5.0,
        grace: float = 30.0,
        queues: Sequence[str] = ("default",),
        checkpoint_interval: float = 60.0,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
        self.runtime = runtime
        self.concurrency = concurrency
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.reap_interval = reap_interval
        self.grace = grace
        self.queues = tuple(queues)
        self.checkpoint_interval = checkpoint_interval
        self.jobs_run = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until ``stop`` is set, then shut down gracefully (see module doc)."""
        queue = self.runtime.queue
        inflight: set[asyncio.Future[None]] = set()
        housekeeping = asyncio.create_task(self._housekeeping(stop))
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        waiting: asyncio.Future[None] | None = None
        log.info("worker %s started (concurrency %d)", self.owner, self.concurrency)
        try:
            while not stop.is_set():
                free = self.concurrency - len(inflight)
                jobs: list[ClaimedJob] = []
                if free > 0:
                    jobs = await self._claim(free)
                for job in jobs:
                    task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                if jobs and len(inflight) < self.concurrency:
                    continue  # there may be more due: claim again before waiting
                wake: set[asyncio.Future[Any]] = {stopping, *inflight}
                if len(inflight) < self.concurrency:
                    if waiting is None or waiting.done():
                        waiting = asyncio.ensure_future(
                            asyncio.to_thread(queue.wait_for_work, queue.poll_interval)
                        )
                    wake.add(waiting)
                await asyncio.wait(wake, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            housekeeping.cancel()
            if waiting is not None:
                waiting.cancel()
            await self._drain(inflight)
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            log.info("worker %s stopped after %d jobs", self.owner, self.jobs_run)

    async def _claim(self, limit: int) -> list[ClaimedJob]:
        try:
            return await asyncio.to_thread(
                self.runtime.queue.claim, self.owner, limit=limit, queues=self.queues
            )
        except Exception:
            # The database may be restarting: wait a poll and try again, never crash the worker.
            log.exception("worker %s: claiming jobs failed", self.owner)
            await asyncio.sleep(self.runtime.queue.poll_interval)
            return []

    async def _run(self, job: ClaimedJob) -> None:
        await self.runtime.run_job(job)
        self.jobs_run += 1

    async def _drain(self, inflight: set[asyncio.Future[None]]) -> None:
        if not inflight:
            return
        log.info("worker %s: waiting up to %gs for %d jobs", self.owner, self.grace, len(inflight))
        _, pending = await asyncio.wait(set(inflight), timeout=self.grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.warning("worker %s: gave %d unfinished jobs back", self.owner, len(pending))

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        queue = self.runtime.queue
        db = self.runtime.db
        since_checkpoint = 0.0
        while not stop.is_set():
            try:
                reaped = await asyncio.to_thread(queue.reap_expired)
                if reaped:
                    log.warning(
                        "worker %s: %d jobs had expired leases and are queued again", self.owner, reaped
                    )
                since_checkpoint += self.reap_interval
                if db.is_sqlite and since_checkpoint >= self.checkpoint_interval:
                    since_checkpoint = 0.0
                    await asyncio.to_thread(db.checkpoint)
            except Exception:
                log.exception("worker %s: housekeeping failed", self.owner)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.reap_interval)

    def run_forever(self) -> None:
        """Run in this thread until SIGTERM or SIGINT, then stop gracefully."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            # Every job does its database work in a thread: give them enough.
            loop.set_default_executor(ThreadPoolExecutor(max_workers=self.concurrency * 2 + 4))
            stop = asyncio.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await self.run(stop)

        asyncio.run(main())
