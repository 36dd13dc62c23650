"""Idempotent submission under concurrent retries, on PostgreSQL, through a real server.

The app runs under uvicorn in a background thread on a free loopback port, over a fresh
PostgreSQL schema; 20 threads send the same submission with the same Idempotency-Key at once.
Exactly one submission is stored and every client is told its id.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from engine._database import Database
from engine._tables import Instance, Submission, User
from engine._users import create_api_token
from engine._web import WebConfig, create_app
from tests.engine.conftest import SchemaPool, schema_url
from tests.web.support import ensure_user
from tests.web.test_api import write_force

CLIENTS = 20


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema of its own; dropped afterwards."""
    pool = SchemaPool()
    try:
        yield schema_url(pool.acquire())
    finally:
        pool.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, pg_url: str) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1; yields its base URL."""
    config = WebConfig(write_force(tmp_path), database_url=pg_url, worker=False, attachments=tmp_path / "att")
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


def test_twenty_parallel_identical_requests_store_one_submission(server: str, pg_url: str) -> None:
    db = Database(pg_url)
    try:
        ensure_user(db, "pc.retry", "ppu")
        with db.session() as session:
            user = session.scalars(select(User).where(User.username == "pc.retry")).one()
            token = create_api_token(session, user, "tablet")
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "outbox-7f3a"}
        body = {
            "department": "ppu",
            "form": "concern",
            "answers": {"full_name": "Ana Diaz", "offence": "assault"},
        }
        start = threading.Barrier(CLIENTS)
        replies: list[httpx.Response] = []
        lock = threading.Lock()

        def send() -> None:
            with httpx.Client(base_url=server, timeout=60) as client:
                start.wait()  # all twenty leave together
                reply = client.post("/api/v1/submissions", json=body, headers=headers)
            with lock:
                replies.append(reply)

        threads = [threading.Thread(target=send) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(replies) == CLIENTS
        assert sorted(r.status_code for r in replies) == [200] * (CLIENTS - 1) + [201], [
            r.text for r in replies
        ]
        assert len({r.json()["id"] for r in replies}) == 1
        assert len({r.json()["reference"] for r in replies}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in replies) == CLIENTS - 1
        with db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 1
            assert session.scalar(select(func.count()).select_from(Instance)) == 1  # one workflow started
        # A different body with the same key, even now, is a conflict.
        changed = {**body, "answers": {"full_name": "Someone Else"}}
        conflict = httpx.post(f"{server}/api/v1/submissions", json=changed, headers=headers, timeout=30)
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "idempotency_conflict"
    finally:
        db.dispose()
