"""The ``web`` suite's pieces: a 30-field department, server processes, and the ``wrk`` driver.

Each server under load is a process of its own, started as ``python -m bench._web_support
app FOLDER DATABASE_URL ATTACHMENTS`` (the whole Waypost app, as ``waypost serve --no-worker``
builds it) or ``python -m bench._web_support bare BODY_FILE`` (bare Starlette returning the bytes
of a file). Both run uvicorn with the same settings (:data:`UVICORN`), bind a free loopback
port and print ``port N`` once they listen.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench._report import BenchError
from bench._validation_data import FORM_YAML

DEPARTMENT = "department: bench\ntitle: Benchmark\nroles:\n  officer: {title: Police officer}\n"
FORM = "stop_search"
WORKFLOW = """\
workflow: record
title: Record a stop and search
on: {submitted: stop_search}
steps:
  triage:
    decide:
      - {when: "age < 18", goto: done}
      - {goto: done}
  done: {end: true}
"""
#: The same for both servers; the access log is off, as a deployment's reverse proxy keeps it.
UVICORN: dict[str, Any] = {
    "host": "127.0.0.1",
    "lifespan": "on",
    "loop": "asyncio",
    "http": "h11",
    "log_config": None,
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
}


def write_department(folder: Path) -> Path:
    """A department ``bench`` whose form ``stop_search`` has the validation suite's 30 fields on
    ONE page, and a workflow started by each submission."""
    form = yaml.safe_load(FORM_YAML)
    fields = [field for page in form["pages"] for field in page["fields"]]
    form["pages"] = [{"id": "record", "title": "Stop and search", "fields": fields}]
    for sub in ("forms", "workflows"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "department.yaml").write_text(DEPARTMENT, encoding="utf-8")
    (folder / "forms" / f"{FORM}.yaml").write_text(yaml.safe_dump(form, sort_keys=False), encoding="utf-8")
    (folder / "workflows" / "record.yaml").write_text(WORKFLOW, encoding="utf-8")
    return folder


def count_fields(form_yaml: str) -> int:
    """Fields of a form, repeats' own fields included (a check on :func:`write_department`)."""

    def count(items: list[dict[str, Any]]) -> int:
        return sum(1 + count(item.get("fields", [])) for item in items)

    return sum(count(page["fields"]) for page in yaml.safe_load(form_yaml)["pages"])


# Server processes ----------------------------------------------------------------------------


class Server:
    """A server process of this module; ``url`` once it listens. Use as a context manager."""

    def __init__(self, args: Sequence[str], log: Path) -> None:
        self.args = list(args)
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        with self.log.open("w", encoding="utf-8") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench._web_support", *self.args],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("port "):
            self.__exit__()
            raise BenchError(f"a server did not start: {self.args[0]}\n{self.tail()}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        deadline = time.monotonic() + 60
        while True:  # the port is bound before the app's lifespan has run: wait for a reply
            try:
                httpx.get(self.url + "/healthz", timeout=5)
                return self
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise BenchError(f"a server did not answer: {self.args[0]}\n{self.tail()}") from None
                time.sleep(0.05)

    def tail(self) -> str:
        """The end of the server's log (its stderr)."""
        return self.log.read_text(encoding="utf-8")[-2000:] if self.log.exists() else ""

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# wrk ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """What one ``wrk`` run measured."""

    requests: int
    seconds: float
    per_second: float
    bad: int  # responses that were not 2xx or 3xx, plus socket errors


def wrk_path() -> str | None:
    """The ``wrk`` executable, or None (Debian package ``wrk``; ``make bench`` installs it)."""
    return shutil.which("wrk")


_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_TOTAL = re.compile(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)\b")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(output: str) -> Load:
    """The figures of ``wrk``'s report; BenchError when it has none."""
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None:
        raise BenchError(f"wrk gave no figures:\n{output[-1000:]}")
    bad = sum(int(n) for n in _NON_2XX.findall(output))
    socket_errors = _SOCKET.search(output)
    if socket_errors:
        bad += sum(int(n) for n in socket_errors.groups())
    seconds = float(total.group(2)) * _UNITS[total.group(3)]
    return Load(int(total.group(1)), seconds, float(rate.group(1)), bad)


def run_wrk(
    url: str, seconds: float, connections: int, headers: Sequence[str] = (), script: Path | None = None
) -> Load:
    """Load ``url`` with one wrk thread and ``connections`` connections for ``seconds``."""
    exe = wrk_path()
    if exe is None:
        raise BenchError("wrk is not installed")
    command = [exe, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr[-1000:]}")
    return parse_wrk(done.stdout)


def post_script(path: Path, body: str, headers: dict[str, str]) -> Path:
    """A wrk Lua script POSTing ``body`` with ``headers`` and a new ``Idempotency-Key`` each time."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    lines += [
        "local n = 0",
        f"local prefix = {_lua_string(f'bench-{os.getpid()}-{time.time_ns()}-')}",
        "request = function()",
        "  n = n + 1",
        '  wrk.headers["Idempotency-Key"] = prefix .. n',
        "  return wrk.format()",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lua_string(text: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in " -_./:{}[],@" else f"\\{ord(c):03d}" for c in text) + '"'


# The server processes' entry point ------------------------------------------------------------


def _bare_app(body: bytes) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def page(request: Any) -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    return Starlette(routes=[Route("/{path:path}", page)])


def _full_app(folder: str, url: str, attachments: str) -> Any:
    from engine._web import WebConfig, create_app

    config = WebConfig(Path(folder), database_url=url, worker=False, attachments=Path(attachments))
    return create_app(config)


def main(argv: Sequence[str]) -> int:
    """``app FOLDER URL ATTACHMENTS`` or ``bare BODY_FILE``: serve until SIGTERM."""
    import uvicorn

    if argv[:1] == ["app"] and len(argv) == 4:
        app = _full_app(*argv[1:])
    elif argv[:1] == ["bare"] and len(argv) == 2:
        app = _bare_app(Path(argv[1]).read_bytes())
    else:
        print(
            "usage: python -m bench._web_support app FOLDER URL ATTACHMENTS | bare BODY_FILE", file=sys.stderr
        )
        return 2
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle's algorithm).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"port {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, **UVICORN)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
