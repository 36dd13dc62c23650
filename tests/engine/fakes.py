"""Test doubles for the executor tests: a loopback back-end, a scripted plugin, and a harness.

* :class:`FakeBackend`: a real HTTP server on 127.0.0.1 in a thread. It honours the
  ``Idempotency-Key`` header as a careful back-end does: the first request with a key applies
  its side effect and stores the reply; a repeat gets the stored reply and changes nothing. It
  can fail the next N requests (503) or be slow for some paths, and it records everything.
* :class:`ScriptedPlugin`: an in-process step plugin whose replies and failures a test scripts
  per step, recording every call (inputs, key, attempt).
* :class:`Harness`: the runtime over a database URL and a department folder, with a fake clock.
  :meth:`Harness.reload` throws every object away and builds new ones over a new database
  connection, so a test can check that an instance carries on from the database alone.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine._database import Database
from engine._definitions import DefinitionStore
from engine._executor import Runtime
from engine._queue import JobQueue
from engine._registry import PluginRegistry
from engine._tables import Department, Instance, InstanceEvent, StepRun, User, UserRole
from engine.plugins import PermanentError, RetryableError, RetryPolicy, StepContext
from tests.engine.helpers import make_department, write

# Loopback back-end -------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        backend = self.server.backend
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = self.headers.get("Idempotency-Key") or ""
        status, reply = backend.handle(self.path, key, body)
        data = json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client went away (a killed worker): the effect stays applied

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: FakeBackend


class FakeBackend:
    """A back-end on 127.0.0.1 that applies each idempotency key's side effect once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: Counter[str] = Counter()  # requests per key
        self.applied: Counter[str] = Counter()  # side effects per key (must stay 1)
        self.replies: dict[str, Any] = {}
        self.fail_next = 0
        self.slow: dict[str, float] = {}  # path -> seconds to wait after applying the effect
        self.requests: list[tuple[str, str, Any]] = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.backend = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, path: str, key: str, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.seen[key] += 1
            self.requests.append((path, key, json.loads(body) if body else None))
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, {"error": "try again"}
            first = key not in self.replies
            if first:
                self.applied[key] += 1
                self.replies[key] = {"reference": f"REF-{len(self.replies) + 1}", "path": path}
            reply = self.replies[key]
            delay = self.slow.get(path, 0.0) if first else 0.0
        if delay:
            self.stopping.wait(delay)
        return 201, reply

    def __enter__(self) -> FakeBackend:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


# Scripted plugin ---------------------------------------------------------------------------------


@dataclass
class Call:
    """One call a ScriptedPlugin received."""

    step: str
    key: str
    attempt: int
    inputs: dict[str, Any]
    config: dict[str, Any]


@dataclass
class ScriptedPlugin:
    """A step plugin whose behaviour per step is a list of actions, taken one per call.

    An action is a dict (the outputs), an exception instance (raised), or a callable taking the
    context and inputs. When a step's script runs out, ``default`` is returned.
    """

    name: str = "record"
    idempotent: bool = True
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3, initial=10.0, max_delay=60.0))
    config_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {"reference": {"type": "string"}}}
    )
    default: dict[str, Any] = field(default_factory=lambda: {"reference": "R-1"})
    scripts: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    calls: list[Call] = field(default_factory=list)

    def script(self, step: str, *actions: Any) -> None:
        """Queue what the next calls of ``step`` do (outputs, an exception, or a callable)."""
        self.scripts[step].extend(actions)

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(Call(ctx.step, ctx.idempotency_key, ctx.attempt, dict(inputs), dict(ctx.config)))
        queue = self.scripts.get(ctx.step)
        action: Any = queue.pop(0) if queue else self.default
        if isinstance(action, BaseException):
            raise action
        if callable(action):
            result = action(ctx, inputs)
            if asyncio.iscoroutine(result):
                result = await result
            return dict(result)
        return dict(action)

    def steps_called(self) -> list[str]:
        """The step of every call, in order."""
        return [c.step for c in self.calls]


def retryable(message: str = "back-end unavailable", after: float | None = None) -> RetryableError:
    """A retryable failure to script."""
    return RetryableError(message, retry_after=after)


def permanent(message: str = "rejected") -> PermanentError:
    """A permanent failure to script."""
    return PermanentError(message)


# Department folders ------------------------------------------------------------------------------

DEPARTMENT_WITH_BACKEND = """\
department: ppu
title: Public Protection Unit
roles:
  officer: {title: Police officer}
  supervisor: {title: Sergeant or above}
connections:
  backend: {plugin: http, base_url: "${env:BACKEND_URL}"}
"""


def department(folder: Path, flows: Mapping[str, str], *, department_yaml: str | None = None) -> Path:
    """A department folder (tests.engine.helpers: form ``concern``) with workflow files ``flows``."""
    make_department(folder)
    if department_yaml is not None:
        write(folder / "department.yaml", department_yaml)
    for name, text in flows.items():
        write(folder / "workflows" / f"{name}.yaml", textwrap.dedent(text).lstrip("\n"))
    return folder


# Clock and harness -------------------------------------------------------------------------------


class Clock:
    """A fake clock: call it for the time; ``advance`` moves it."""

    def __init__(self, start: datetime = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **units: float) -> datetime:
        self.now += timedelta(seconds=seconds, **units)
        return self.now


class Harness:
    """A Runtime over ``url`` and ``folder`` with ``plugins``, a fake clock and fixed jitter."""

    def __init__(
        self,
        url: str,
        folder: Path,
        plugins: list[Any],
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        lease_seconds: float = 30.0,
        rand: Callable[[], float] = lambda: 0.5,
    ) -> None:
        self.url = url
        self.folder = folder
        self.plugin_objects = plugins
        self.clock = clock or Clock()
        self.environ = dict(environ or {})
        self.lease_seconds = lease_seconds
        self.rand = rand
        self.rt = self._build()
        self.generation = 1

    def _build(self) -> Runtime:
        registry = PluginRegistry()
        for plugin in self.plugin_objects:
            registry.register(plugin)
        db = Database(self.url)
        queue = JobQueue(db, clock=self.clock, lease_seconds=self.lease_seconds, poll_interval=0.05)
        store = DefinitionStore(db, registry.specs(), clock=self.clock)
        return Runtime(db, queue, store, registry, clock=self.clock, rand=self.rand, environ=self.environ)

    def publish(self, folder: Path | None = None) -> Any:
        with self.rt.db.session() as session:
            return self.rt.store.publish(session, folder or self.folder)

    def reload(self) -> Runtime:
        """Forget every object (caches included) and carry on from the database alone."""
        self.close()
        self.rt = self._build()
        self.generation += 1
        return self.rt

    def close(self) -> None:
        self.rt.queue.close()
        self.rt.db.dispose()

    def submit(self, answers: Mapping[str, Any], form: str = "concern", dept: str = "ppu", **kw: Any) -> Any:
        with self.rt.db.session() as session:
            return self.rt.submit(session, dept, form, answers, **kw)

    def start(self, answers: Mapping[str, Any], **kw: Any) -> str:
        result = self.submit(answers, **kw)
        assert result.ok, result.validation.errors
        assert len(result.instance_ids) == 1
        return str(result.instance_ids[0])

    def drain(self) -> int:
        """Run every due job (none of them waits on the real clock)."""
        return asyncio.run(self.rt.run_until_idle())

    def instance(self, instance_id: str) -> Instance:
        with self.rt.db.session(write=False) as session:
            found = session.get(Instance, instance_id)
            assert found is not None
            return found

    def route(self, instance_id: str) -> list[str]:
        """The steps the instance entered, in order."""
        with self.rt.db.session(write=False) as session:
            rows = session.scalars(
                select(InstanceEvent.step)
                .where(InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "entered")
                .order_by(InstanceEvent.id)
            )
            return [str(s) for s in rows]

    def events(self, instance_id: str, kind: str | None = None) -> list[InstanceEvent]:
        with self.rt.db.session(write=False) as session:
            query = select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
            if kind is not None:
                query = query.where(InstanceEvent.kind == kind)
            return list(session.scalars(query.order_by(InstanceEvent.id)))

    def step_runs(self, instance_id: str) -> list[StepRun]:
        with self.rt.db.session(write=False) as session:
            query = select(StepRun).where(StepRun.instance_id == instance_id).order_by(StepRun.id)
            return list(session.scalars(query))

    def case(self, instance_id: str) -> dict[str, Any]:
        with self.rt.db.session(write=False) as session:
            instance = session.get(Instance, instance_id)
            assert instance is not None
            _, data = self.rt.case(session, instance)
            return data.raw

    def add_user(self, user_id: str, department: str = "ppu", *roles: str) -> str:
        with self.rt.db.session() as session:
            if session.get(Department, department) is None:
                session.add(Department(id=department, title=department))
            session.add(User(id=user_id, username=user_id, display_name=user_id, department_id=department))
            session.flush()
            for role in roles:
                session.add(UserRole(user_id=user_id, department_id=department, role=role))
        return user_id

    def with_session(self, work: Callable[[Any], Any]) -> Any:
        with self.rt.db.session() as session:
            return work(session)
