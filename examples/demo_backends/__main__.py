"""``python -m examples.demo_backends [--state DIR]``: run the demo back-ends until Ctrl-C.

Prints where each one listens and the environment a ``waypost serve`` in another terminal needs
to reach them. Ports come from ``DEMO_CRIME_RECORDS_PORT``, ``DEMO_MASH_PORT``,
``DEMO_MAIL_PAGE_PORT`` and ``DEMO_SMTP_PORT``; tokens from ``CRIME_RECORDS_TOKEN`` and
``MASH_TOKEN`` (random when unset).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from examples.demo_backends._runner import BackendsError, DemoBackends, Settings

__all__ = ["main"]


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m examples.demo_backends``."""
    command = argparse.ArgumentParser(
        prog="python -m examples.demo_backends",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "--state",
        metavar="DIR",
        type=Path,
        help="keep crimes and referrals in JSON files in DIR (default: memory only)",
    )
    return command


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the back-ends until SIGINT or SIGTERM; 0 after a clean stop, 1 if they cannot start."""
    args = parser().parse_args(argv)
    try:
        backends = DemoBackends(Settings.from_environment(state_dir=args.state)).start()
    except (BackendsError, RuntimeError) as exc:
        print(f"demo back-ends: {exc}", file=err)
        return 1
    stop = threading.Event()

    def note(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        backends.describe(out)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in backends.environment().items())
        print(f"demo back-ends: for a server in another terminal: export {exports}", file=out)
        print("demo back-ends: Ctrl-C to stop", file=out)
        out.flush()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        backends.stop()
    print("demo back-ends: stopped", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
