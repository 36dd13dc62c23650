"""Waking job waiters: PostgreSQL LISTEN/NOTIFY and an in-process signal, with polling behind both.

A notification is only ever a hint that work may be there. Every waiter also wakes at least every
``poll_interval`` seconds, so a lost notification (a listener that reconnected, a job that became
due without anyone enqueuing it, a job enqueued through another process on SQLite) delays work by
one poll at most and never strands it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref

import psycopg
from psycopg import sql
from sqlalchemy.exc import SQLAlchemyError

from engine._database import Database

__all__ = ["PostgresListener", "WorkWaiter"]

log = logging.getLogger("waypost.queue")

# After a failure to listen, wait this long before trying again (polling covers the gap), so a
# server that refuses LISTEN (a transaction-pooling proxy) is not asked on every claim.
RETRY_SECONDS = 30.0


class PostgresListener:
    """A dedicated autocommit psycopg connection listening on the database's job channel.

    The payload of a notification is the queue name; a waiter wakes for any queue.

    It is opened before the first look at the table (:meth:`ensure`, called by each claim), so a
    job committed after that look always notifies it, and reopened after a failure. One thread
    waits on it at a time; another asking at the same time waits for the lock, up to its timeout.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._engine = db.engine
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def _listening(self) -> bool:
        return self._connection is not None and not self._connection.closed

    def _open(self) -> bool:
        """Connect and LISTEN unless a recent attempt failed; True if now listening."""
        if time.monotonic() < self._retry_at:
            return False
        try:
            self._connection = self._connect()
        except (psycopg.Error, SQLAlchemyError) as exc:
            log.warning("cannot listen for jobs (%s); polling, next try in %.0f s", exc, RETRY_SECONDS)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return False
        return True

    def ensure(self) -> None:
        """Start listening if not yet (or no longer) listening; never blocks on a waiting thread."""
        if self._listening() or time.monotonic() < self._retry_at:
            return
        if not self._lock.acquire(blocking=False):
            return  # another thread is waiting on the connection, so it is open
        try:
            if not self._listening():
                self._open()
        finally:
            self._lock.release()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when a notification arrived (or listening just began).

        Returning True on (re)connecting matters: a job enqueued while nobody listened sent its
        notification to nobody, so the caller must look at the table once more before sleeping.
        """
        started = time.monotonic()
        if not self._lock.acquire(timeout=timeout):
            return False
        try:
            connection = self._connection
            if connection is None or connection.closed:
                if self._open():
                    return True
            else:
                remaining = max(0.0, timeout - (time.monotonic() - started))
                for _notify in connection.notifies(timeout=remaining, stop_after=1):
                    return True
                return False
        except psycopg.Error as exc:
            # The server restarted or the network dropped: reconnect at the next claim or wait.
            log.warning("job notifications interrupted (%s); listening again", exc)
            self._close()
        finally:
            self._lock.release()
        # Not listening: sleep out the wait, which makes it a poll.
        time.sleep(max(0.0, timeout - (time.monotonic() - started)))
        return False

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        args, params = self._engine.dialect.create_connect_args(self._engine.url)
        params.pop("context", None)  # SQLAlchemy's adapter map; this connection needs no adaptation
        connection = psycopg.connect(*args, **params, autocommit=True)
        try:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._db.notify_channel)))
        except BaseException:
            _close_quietly(connection)
            raise
        # A queue dropped without close() still closes its connection (quietly) when collected.
        weakref.finalize(self, _close_quietly, connection)
        return connection

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):  # already broken: nothing more to release
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Stop listening and close the connection (it reopens on the next wait)."""
        with self._lock:
            self._close()


def _close_quietly(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    with contextlib.suppress(psycopg.Error):
        connection.close()


class WorkWaiter:
    """What :meth:`JobQueue.wait_for_work` waits on: notifications on PostgreSQL, the signal on SQLite.

    ``seen`` is the in-process work generation at the waiter's last look at the table; a commit
    that enqueued work since then makes the next wait return at once, so a wake-up sent between
    a claim that found nothing and the wait is never lost.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listener = PostgresListener(db) if db.is_postgres else None
        self.seen = db.work_generation

    def looked(self) -> None:
        """Record that the caller is about to look at the table (called at the start of a claim).

        On PostgreSQL this also makes sure ``LISTEN`` is in place before the look, so nothing
        committed after it can go unnoticed.
        """
        self.seen = self._db.work_generation
        if self._listener is not None:
            self._listener.ensure()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for a wake-up; True if one came."""
        if timeout <= 0:
            return False
        woken = False
        if self._listener is not None:
            woken = self._listener.wait(timeout)
        else:
            signal = self._db.work_signal
            with signal:
                woken = signal.wait_for(lambda: self._db.work_generation != self.seen, timeout=timeout)
        self.looked()
        return woken

    def close(self) -> None:
        """Release the listening connection, if any."""
        if self._listener is not None:
            self._listener.close()
