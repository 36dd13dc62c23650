"""``waypost serve``: the web app for a force's definitions, with the in-process worker.

``register(subparsers)`` adds the command to the ``waypost`` parser (engine/cli.py); ``python -m
engine._cli_serve serve DIR`` runs it on its own. The database is migrated before the server
starts, so a wrong URL or an unreachable database is one clear line, not a traceback; the app's
lifespan then publishes the definitions and starts the worker (engine/_web.py).

The database URL comes from ``--database``, else ``$WAYPOST_DATABASE_URL``, else
``sqlite:///var/waypost.db`` (the ``var/`` folder is created). SIGTERM and Ctrl-C stop the
server gracefully: requests in flight finish, the worker gives unfinished jobs back, exit 0.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import yaml

from dsl import DefinitionError
from engine._database import Database, DatabaseURLError
from engine._demo import DEMO_USERS, demo_password
from engine._folder import find_departments
from engine._web import WebConfig, create_app
from renderers import TemplateFolderError

__all__ = ["DEFAULT_DATABASE", "main", "register", "run_serve"]

DEFAULT_DATABASE = "sqlite:///var/waypost.db"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_DESCRIPTION = """\
Serve the Waypost web app for the definitions in DIR (a force folder, or one department):
officers sign in, fill and submit forms; supervisors work their task inbox; API clients use
/api/v1. Authors preview definitions under /preview/ (each form's pages and fields with their
conditions, each workflow's diagram and steps), with errors shown in the page.

On start the database is migrated, every department of DIR is checked and published (a
department with errors is shown with its problems instead), and a worker runs workflow jobs in
the same process. Stop with Ctrl-C or SIGTERM: jobs in flight are given back to the queue.

The server listens on 127.0.0.1 (this computer only) unless --host says otherwise. Put it behind
a reverse proxy with TLS before other computers reach it (docs/operations.md)."""

_EPILOG = """\
examples:
  waypost serve examples/demo-force --reload          preview while editing the files
  waypost serve examples/demo-force --port 8080 --no-worker
  waypost serve examples/demo-force --templates my-force/templates"""


def database_url(given: str | None) -> str:
    """``given``, else $WAYPOST_DATABASE_URL, else the default SQLite file under var/."""
    return given or os.environ.get("WAYPOST_DATABASE_URL") or DEFAULT_DATABASE


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got '{text}'") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
    return value


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``waypost`` sub-command parsers."""
    serve = subparsers.add_parser(
        "serve",
        help="serve the web app and run workflow jobs",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("dir", metavar="DIR", help="a force folder or a department folder")
    serve.add_argument(
        "--database",
        metavar="URL",
        help=f"database URL (default: $WAYPOST_DATABASE_URL, else {DEFAULT_DATABASE})",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--reload",
        action="store_true",
        help="read the definitions again when a file under DIR changes (checked before each page)",
    )
    serve.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="do not run workflow jobs in this process (run `waypost worker` separately)",
    )
    serve.add_argument(
        "--templates",
        metavar="DIR",
        help="a folder of templates that replace the built-in ones of the same name",
    )
    serve.add_argument(
        "--demo-users",
        action="store_true",
        help="create the demo users (password: $WAYPOST_DEMO_PASSWORD, else 'waypost-demo'); "
        "for a demonstration on this computer only",
    )
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost serve DIR``: migrate, then serve until SIGTERM or Ctrl-C."""
    folder = Path(args.dir)
    try:
        departments = find_departments(folder)
    except (FileNotFoundError, NotADirectoryError) as exc:
        print(f"waypost serve: {exc}", file=err)
        return EXIT_USAGE
    except DefinitionError as exc:
        print(exc, file=err)
        return EXIT_FAILED
    templates = Path(args.templates) if args.templates else None
    if templates is not None and not templates.is_dir():
        print(f"waypost serve: the template folder does not exist: {templates}", file=err)
        return EXIT_USAGE
    problem = _cannot_listen(args.host, args.port)
    if problem is not None:
        print(f"waypost serve: {problem}", file=err)
        return EXIT_FAILED
    url = database_url(args.database)
    if url == DEFAULT_DATABASE:
        Path("var").mkdir(exist_ok=True)
    if not _migrate(url, err):
        return EXIT_FAILED
    _configure_logging(err)
    config = WebConfig(
        folder,
        database_url=url,
        worker=args.worker,
        reload=args.reload,
        templates=templates,
        demo_users=args.demo_users,
    )
    try:
        app = create_app(config)
    except TemplateFolderError as exc:
        print(f"waypost serve: {exc}", file=err)
        return EXIT_USAGE
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"waypost serve: {len(departments)} department(s) of {folder} on http://{shown}:{args.port}/"
        f" ({'worker on' if args.worker else 'no worker'}{', reloading' if args.reload else ''};"
        " Ctrl-C to stop)",
        file=out,
    )
    if args.demo_users:
        served = _department_ids(departments)
        names = ", ".join(u.username for u in DEMO_USERS if u.department in served)
        if names:
            print(
                f"waypost serve: sign in at http://{shown}:{args.port}/login as one of {names}"
                f" with the password '{demo_password()}'",
                file=out,
            )
        else:
            print(
                "waypost serve: the demo users belong to the demo force's departments, and none is"
                " served here: add people with `waypost user add`",
                file=out,
            )
        if not _is_loopback(args.host):
            print(
                f"waypost serve: warning: demo users with a known password, listening on {args.host}",
                file=err,
            )
    out.flush()
    return _serve(app, args.host, args.port, err)


def _department_ids(folders: list[Path]) -> set[str]:
    """The ids the department files of ``folders`` declare (unreadable ones are left out: the app
    reports their problems itself)."""
    ids: set[str] = set()
    for folder in folders:
        try:
            data = yaml.safe_load((folder / "department.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("department"), str):
            ids.add(data["department"])
    return ids


def _migrate(url: str, err: TextIO) -> bool:
    try:
        db = Database(url)
    except DatabaseURLError as exc:
        print(f"waypost serve: {exc}", file=err)
        return False
    try:
        db.upgrade()
    except Exception as exc:  # unreachable server, bad credentials, a file we cannot write
        print(f"waypost serve: cannot migrate the database {url}: {exc}", file=err)
        return False
    finally:
        db.dispose()
    return True


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, or None when it can (checked up front,
    so that a port in use is one line before anything is migrated or published)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server that just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            reason = "it is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            return f"cannot listen on {host} port {port}: {reason} (choose another with --port)"
    return None


def _configure_logging(err: TextIO) -> None:
    logging.basicConfig(
        stream=err, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # A line per HTTP request from the client library is noise beside the steps' own logs.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _serve(app: Any, host: str, port: int, err: TextIO) -> int:
    """Run uvicorn until it is told to stop; 0 after a graceful stop by SIGTERM or SIGINT."""
    import uvicorn  # imported here: only `serve` needs the server, and it is slow to import

    config = uvicorn.Config(app, host=host, port=port, lifespan="on", server_header=False, log_config=None)
    server = uvicorn.Server(config)
    # Uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again so that the
    # process ends "killed by signal". A stop asked for is a success here: these handlers (put
    # back afterwards) receive that repeated signal and let the command return 0.
    stopped: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind the port or start the app (it logged why)
        print(
            f"waypost serve: the server could not start on {host}:{port} (the reason is above)",
            file=err,
        )
        return EXIT_FAILED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started and not stopped:
        return EXIT_FAILED
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``serve`` on its own (``python -m engine._cli_serve serve DIR``)."""
    parser = argparse.ArgumentParser(prog="waypost")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    code: int = args.run(args, sys.stdout, sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
