"""Run the three demo back-ends together: one asyncio loop in one background thread.

:class:`DemoBackends` binds every port first (so "port in use" is one clear error before anything
runs), then serves the crime records system, the safeguarding hub and the mail page with uvicorn
and the SMTP sink with aiosmtpd, all on one event loop in a daemon thread. ``stop()`` (or leaving
the ``with`` block) stops them. :meth:`DemoBackends.environment` gives the variables the demo
force's connections read (``CRIME_RECORDS_URL`` and so on).
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import uvicorn
from aiosmtpd.smtp import SMTP

from examples.demo_backends.crime_records import CrimeRecords, crime_records_app
from examples.demo_backends.mail import MailSink, mail_app
from examples.demo_backends.mash import Mash, mash_app

__all__ = ["BackendsError", "DemoBackends", "Settings"]

HOST = "127.0.0.1"


class BackendsError(RuntimeError):
    """The back-ends could not start (a port in use, a bad setting); the message says why."""


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise BackendsError(f"{name} must be a port number from 0 to 65535, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    """Ports (0: any free port), tokens and the state folder of the demo back-ends."""

    crime_records_port: int = 8101
    mash_port: int = 8102
    mail_page_port: int = 8103
    smtp_port: int = 1025
    crime_records_token: str = ""
    mash_token: str = ""
    state_dir: Path | None = None

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, state_dir: Path | None = None
    ) -> Settings:
        """Ports from ``DEMO_*_PORT``, tokens from ``*_TOKEN`` (a random one when unset)."""
        return cls(
            crime_records_port=_port(environ, "DEMO_CRIME_RECORDS_PORT", 8101),
            mash_port=_port(environ, "DEMO_MASH_PORT", 8102),
            mail_page_port=_port(environ, "DEMO_MAIL_PAGE_PORT", 8103),
            smtp_port=_port(environ, "DEMO_SMTP_PORT", 1025),
            crime_records_token=environ.get("CRIME_RECORDS_TOKEN") or secrets.token_urlsafe(24),
            mash_token=environ.get("MASH_TOKEN") or secrets.token_urlsafe(24),
            state_dir=state_dir,
        )


def _bind(port: int, what: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        reason = (
            "it is in use (is `make run` already running?)" if exc.errno == errno.EADDRINUSE else exc.strerror
        )
        raise BackendsError(f"the {what} cannot listen on {HOST} port {port}: {reason}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class DemoBackends:
    """The crime records system, the safeguarding hub and the SMTP sink with its page."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_environment()
        token_crime = self.settings.crime_records_token or secrets.token_urlsafe(24)
        token_mash = self.settings.mash_token or secrets.token_urlsafe(24)
        state = self.settings.state_dir
        self.crime_records = CrimeRecords(token_crime, state / "crime-records.json" if state else None)
        self.mash = Mash(token_mash, state / "mash.json" if state else None)
        self.mail = MailSink()
        self.tokens = {"crime_records": token_crime, "mash": token_mash}
        self._sockets: dict[str, socket.socket] = {}
        self._servers: list[tuple[uvicorn.Server, socket.socket]] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # --- Addresses --------------------------------------------------------------------------

    def port(self, name: str) -> int:
        """The port ``name`` (crime_records, mash, mail_page, smtp) listens on, once started."""
        port: int = self._sockets[name].getsockname()[1]
        return port

    def url(self, name: str) -> str:
        """``http://127.0.0.1:PORT`` of one HTTP back-end (crime_records, mash, mail_page)."""
        return f"http://{HOST}:{self.port(name)}"

    def environment(self) -> dict[str, str]:
        """The environment variables the demo force's connections read."""
        return {
            "CRIME_RECORDS_URL": self.url("crime_records"),
            "CRIME_RECORDS_TOKEN": self.tokens["crime_records"],
            "MASH_URL": self.url("mash"),
            "MASH_TOKEN": self.tokens["mash"],
        }

    def describe(self, out: TextIO) -> None:
        """Print where the back-ends listen: the pages to look at while trying the demo."""
        print(f"demo back-ends: crime records system  {self.url('crime_records')}/", file=out)
        print(f"demo back-ends: safeguarding hub      {self.url('mash')}/", file=out)
        print(
            f"demo back-ends: emails sent (SMTP sink on {HOST}:{self.port('smtp')})"
            f"  {self.url('mail_page')}/",
            file=out,
        )
        out.flush()

    # --- Life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> DemoBackends:
        """Bind every port, then serve in a background thread; raises BackendsError on failure."""
        wanted = {
            "crime_records": (self.settings.crime_records_port, "crime records system"),
            "mash": (self.settings.mash_port, "safeguarding hub"),
            "mail_page": (self.settings.mail_page_port, "mail page"),
            "smtp": (self.settings.smtp_port, "SMTP sink"),
        }
        try:
            for name, (port, what) in wanted.items():
                self._sockets[name] = _bind(port, what)
        except BackendsError:
            self._close_sockets()
            raise
        apps = {
            "crime_records": crime_records_app(self.crime_records, self.url("crime_records")),
            "mash": mash_app(self.mash, self.url("mash")),
            "mail_page": mail_app(self.mail, self.url("mail_page")),
        }
        for name, app in apps.items():
            config = uvicorn.Config(
                app, lifespan="off", log_level="warning", log_config=None, server_header=False
            )
            server = uvicorn.Server(config)
            self._servers.append((server, self._sockets[name]))
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="demo-backends", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._failure is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise BackendsError(f"the demo back-ends did not start: {self._failure or 'timed out'}")
        return self

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        smtp: asyncio.Server | None = None
        try:
            smtp = await loop.create_server(
                lambda: SMTP(self.mail, hostname="demo-smtp-sink", ident="Waypost demo SMTP sink"),
                sock=self._sockets["smtp"],
            )
            tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in self._servers]
            while not all(server.started for server, _ in self._servers):
                if any(t.done() for t in tasks):
                    raise BackendsError("a demo back-end's server stopped while starting")
                await asyncio.sleep(0.01)
            self._ready.set()
            await asyncio.gather(*tasks)
        except BaseException as exc:  # reported to start(), which is waiting in another thread
            self._failure = exc
            raise
        finally:
            if smtp is not None:
                smtp.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close every port (safe to call twice)."""
        for server, _ in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_sockets()

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            sock.close()

    def __enter__(self) -> DemoBackends:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
