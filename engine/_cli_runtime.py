"""The runtime commands: ``waypost worker``, ``waypost incidents list|retry`` and ``waypost test``.

``register(subparsers)`` adds them to the ``waypost`` parser (engine/cli.py); each command is a
function ``(args, out, err) -> exit code``, like the author commands. ``python -m
engine._cli_runtime ...`` runs them on their own (the tests start workers that way).

The database URL comes from ``--database``, else the environment variable
``WAYPOST_DATABASE_URL``, else ``sqlite:///var/waypost.db`` (shared with ``waypost db``). The runtime
is imported only when one of these commands runs, so ``waypost check`` stays quick to start.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine._cli_db import add_database_option, database_url

if TYPE_CHECKING:
    from engine._database import Database

__all__ = ["main", "register"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_WORKER_DESCRIPTION = """\
Run workflow jobs: claim due jobs from the database and run them, CONCURRENCY at a time, until
stopped with SIGTERM or Ctrl-C (jobs in flight get a grace period, then go back to the queue).
DIR (a department or force folder) is published first, so its current definitions are stored;
instances keep the versions they started on. Start as many workers as you like on PostgreSQL;
on SQLite run one."""

_INCIDENTS_DESCRIPTION = """\
Incidents are steps whose attempts ran out (or failed permanently); the instance waits for an
operator. `list` shows the open ones; `retry ID` runs the step again with the same idempotency
key, so a back-end that saw an earlier attempt does not act twice."""

_TEST_DESCRIPTION = """\
Run the scenario tests (tests/*.yaml) of department folders with the real executor, mocked
plugins and a fake clock, then report which routes of each workflow no test took. The format is
in docs/workflows.md ("Testing workflows")."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text}")
    return value


def _percent(text: str) -> float:
    value = _seconds(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"expected a percentage up to 100, got {text}")
    return value


def register(subparsers: Any) -> None:
    """Add ``worker``, ``incidents`` and ``test`` to the ``waypost`` sub-command parsers."""
    formatter = argparse.RawDescriptionHelpFormatter
    worker = subparsers.add_parser(
        "worker", help="run workflow jobs", description=_WORKER_DESCRIPTION, formatter_class=formatter
    )
    worker.add_argument("dir", metavar="DIR", help="a department folder or a force folder")
    add_database_option(worker)
    worker.add_argument("--concurrency", type=_positive, default=4, metavar="N", help="jobs at a time (4)")
    worker.add_argument(
        "--lease",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="how long a claimed job is held before another worker may take it over (30)",
    )
    worker.add_argument(
        "--grace", type=_seconds, default=30.0, metavar="SECONDS", help="time for jobs to finish on stop (30)"
    )
    worker.set_defaults(run=run_worker)

    incidents = subparsers.add_parser(
        "incidents",
        help="list or retry incidents",
        description=_INCIDENTS_DESCRIPTION,
        formatter_class=formatter,
    )
    actions = incidents.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show open incidents")
    add_database_option(listing)
    listing.add_argument("--all", action="store_true", help="include resolved incidents")
    listing.set_defaults(run=run_incidents_list)
    retry = actions.add_parser("retry", help="run an incident's step again")
    retry.add_argument("id", type=_positive, metavar="ID", help="the incident's number (from `list`)")
    add_database_option(retry)
    retry.add_argument("--by", metavar="NAME", help="who is retrying, for the record (default: your login)")
    retry.set_defaults(run=run_incidents_retry)

    test = subparsers.add_parser(
        "test", help="run workflow scenario tests", description=_TEST_DESCRIPTION, formatter_class=formatter
    )
    test.add_argument("dirs", nargs="+", metavar="DIR", help="a department folder or a force folder")
    test.add_argument(
        "--fail-under",
        type=_percent,
        metavar="PERCENT",
        help="fail when a workflow's route coverage is lower",
    )
    test.set_defaults(run=run_test)


def _open(args: argparse.Namespace, err: TextIO) -> Database | None:
    from engine._database import Database, DatabaseURLError

    try:
        db = Database(database_url(args))
    except DatabaseURLError as exc:
        print(f"waypost: {exc}", file=err)
        return None
    try:
        current, head = db.current_revision(), db.head_revision()
    except Exception as exc:
        print(f"waypost: cannot open the database: {exc}", file=err)
        db.dispose()
        return None
    if current != head:
        print(
            f"waypost: the database is not up to date (at {current or 'nothing'}, needs {head}): "
            f"run `waypost db upgrade --database URL` first",
            file=err,
        )
        db.dispose()
        return None
    return db


def run_worker(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost worker DIR``: publish DIR's definitions, then run jobs until stopped."""
    import logging

    from dsl import DefinitionError
    from engine._definitions import DefinitionStore
    from engine._executor import Runtime
    from engine._folder import find_departments
    from engine._queue import JobQueue
    from engine._registry import PluginRegistry
    from engine._worker import Worker

    try:
        folders = find_departments(Path(args.dir))
    except (FileNotFoundError, NotADirectoryError) as exc:
        print(f"waypost: {exc}", file=err)
        return EXIT_USAGE
    except DefinitionError as exc:
        print(exc, file=err)
        return EXIT_FAILED
    db = _open(args, err)
    if db is None:
        return EXIT_FAILED
    logging.basicConfig(
        stream=err, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # A line per HTTP request from the client library is noise beside the steps' own logs.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    registry = PluginRegistry.from_entry_points()
    for problem in registry.errors:
        print(f"waypost: warning: {problem}", file=err)
    store = DefinitionStore(db, registry.specs())
    queue = JobQueue(db, lease_seconds=args.lease)
    try:
        for folder in folders:
            with db.session() as session:
                store.publish(session, folder)
        worker = Worker(Runtime(db, queue, store, registry), concurrency=args.concurrency, grace=args.grace)
        print(
            f"waypost worker {worker.owner}: {len(folders)} department(s), concurrency {args.concurrency}",
            file=out,
        )
        out.flush()
        worker.run_forever()
    except DefinitionError as exc:
        print(exc, file=err)
        return EXIT_FAILED
    finally:
        queue.close()
        db.dispose()
    return EXIT_OK


def run_incidents_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost incidents list``: the open incidents, newest first."""
    from engine._incidents import list_incidents

    db = _open(args, err)
    if db is None:
        return EXIT_FAILED
    try:
        with db.session(write=False) as session:
            found = list_incidents(session, open_only=not args.all)
    finally:
        db.dispose()
    if not found:
        print("no open incidents" if not args.all else "no incidents", file=out)
        return EXIT_OK
    print(f"{'ID':>6}  {'RAISED (UTC)':<19}  {'INSTANCE':<36}  {'STEP':<24}  ERROR", file=out)
    for incident in found:
        error = " ".join(incident.error.split())
        if len(error) > 100:
            error = error[:97] + "..."
        status = f" [{incident.resolution} by {incident.resolved_by}]" if incident.resolved_at else ""
        raised = f"{incident.created_at:%Y-%m-%d %H:%M:%S}"
        print(
            f"{incident.id:>6}  {raised}  {incident.instance_id:<36}  {incident.step:<24}  {error}{status}",
            file=out,
        )
    return EXIT_OK


def run_incidents_retry(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost incidents retry ID``: run the step again with the same idempotency key."""
    from engine._incidents import RuntimeFault, retry_incident
    from engine._queue import JobQueue
    from engine._tables import utcnow

    db = _open(args, err)
    if db is None:
        return EXIT_FAILED
    queue = JobQueue(db)
    by = args.by or _login()
    try:
        with db.session() as session:
            retry_incident(session, queue, args.id, by=by, now=utcnow())
    except RuntimeFault as exc:
        print(f"waypost: {exc}", file=err)
        return EXIT_FAILED
    finally:
        queue.close()
        db.dispose()
    print(f"incident {args.id} retried by {by}: a worker will run the step again", file=out)
    return EXIT_OK


def run_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost test DIR``: run the scenario tests and print results and route coverage."""
    import asyncio

    from dsl import DefinitionError
    from engine._folder import find_departments
    from engine._registry import PluginRegistry
    from engine._scenario_report import run_tests

    folders: list[Path] = []
    for given in args.dirs:
        try:
            folders.extend(find_departments(Path(given)))
        except (FileNotFoundError, NotADirectoryError) as exc:
            print(f"waypost: {exc}", file=err)
            return EXIT_USAGE
        except DefinitionError as exc:
            print(exc, file=err)
            return EXIT_FAILED
    registry = PluginRegistry.from_entry_points()
    for problem in registry.errors:
        print(f"waypost: warning: {problem}", file=err)
    summary = asyncio.run(run_tests(folders, registry.specs(), out, fail_under=args.fail_under))
    return EXIT_OK if summary.ok else EXIT_FAILED


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a container
        return "cli"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one runtime command on its own (``python -m engine._cli_runtime worker ...``)."""
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
