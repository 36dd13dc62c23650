"""``python -m examples.demo_backends.run [--state DIR] -- COMMAND ...``: a command with the back-ends.

``make run`` uses it to start ``waypost serve`` with the demo back-ends: the back-ends start first
(a port in use stops everything before the server starts), ``COMMAND`` then runs as a child
process with ``CRIME_RECORDS_URL``, ``CRIME_RECORDS_TOKEN``, ``MASH_URL`` and ``MASH_TOKEN`` set,
and when it ends, however it ends, the back-ends stop. The exit status is the command's.

The child runs in a process group of its own, so that Ctrl-C in the terminal reaches only the
launcher, which passes SIGINT (and SIGTERM) on exactly once: a server that got Ctrl-C twice (once
from the terminal, once from the launcher) would give up its graceful stop. A second Ctrl-C is
passed on too, to force the stop as it does without the launcher.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from examples.demo_backends._runner import BackendsError, DemoBackends, Settings

__all__ = ["main"]

_GRACE = 15.0


def parser() -> argparse.ArgumentParser:
    """The command line of the launcher."""
    command = argparse.ArgumentParser(
        prog="python -m examples.demo_backends.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "--state",
        metavar="DIR",
        type=Path,
        help="keep crimes and referrals in JSON files in DIR (default: memory only)",
    )
    command.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    return command


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Start the back-ends, run the command with their environment, stop them; its exit status."""
    args = parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("demo back-ends: give the command to run after --, e.g. -- waypost serve DIR", file=err)
        return 2
    try:
        backends = DemoBackends(Settings.from_environment(state_dir=args.state)).start()
    except (BackendsError, RuntimeError) as exc:
        print(f"demo back-ends: {exc}", file=err)
        return 1
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        backends.describe(out)
        environment = {**os.environ, **backends.environment()}
        try:
            # The command is the one the user (or the Makefile) wrote on its own command line.
            child = subprocess.Popen(command, env=environment, process_group=0)  # noqa: S603
        except OSError as exc:
            print(f"demo back-ends: cannot run {command[0]}: {exc}", file=err)
            return 127
        code = child.wait()
    finally:
        if child is not None and child.poll() is None:  # the launcher itself failed: do not orphan it
            child.terminate()
            try:
                child.wait(_GRACE)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        backends.stop()
    print("demo back-ends: stopped", file=out)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
