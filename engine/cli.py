"""The ``waypost`` command line: the entry point and its argument parser.

Each command group lives in its own private module (``_cli_check`` for the author commands) and
is a function ``(args, out, err) -> exit code``; this module only parses arguments and turns
failures into messages. Exit codes:

* 0: success;
* 1: the definitions have errors (they are printed);
* 2: usage error or a path that does not exist (argparse's convention);
* 3: an internal error (a bug in Waypost; ``WAYPOST_DEBUG=1`` shows the traceback).

``main(argv)`` returns the exit code instead of exiting, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import TextIO

from engine import _cli_audit, _cli_db, _cli_diagram, _cli_runtime, _cli_serve, _cli_user
from engine._cli_check import EXIT_INVALID, EXIT_USAGE, run_check, run_schema

EXIT_INTERNAL = 3

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]

_DESCRIPTION = """\
Waypost: forms and workflows for public services, written in YAML.

Authors use `check` to find every problem in a department's definitions, `schema` to see the
JSON Schema of a form's submissions, `diagram` to draw a workflow, `test` to run a department's
scenario tests and `serve --reload` to preview a force in the browser. Operators use `db`,
`worker`, `incidents`, and `user` and `token` for people and API clients."""

_EPILOG = """\
examples:
  waypost check examples/demo-force          check every department of a force
  waypost check examples/demo-force/response check one department
  waypost schema examples/demo-force/response/forms/crime_report.yaml

Run `waypost COMMAND --help` for the options of a command."""

_CHECK_DESCRIPTION = """\
Check department folders: department.yaml, every list in lists/ and every form in forms/.
Every problem in every file is reported in one run, as

  path:line:col: error: message
      the line of the file
      ^^^^ (under the part that is wrong)
    hint: how to fix it

followed by a one-line summary. DIR is a department folder (it holds department.yaml) or a
force folder (one sub-folder per department)."""

_CHECK_EPILOG = """\
exit status: 0 when there is no error (warnings allowed), 1 when a definition has an error,
2 when a path does not exist.

examples:
  waypost check examples/demo-force
  waypost check examples/demo-force/response examples/demo-force/investigations"""

_SCHEMA_DESCRIPTION = """\
Print the JSON Schema (draft 2020-12) of the answers a form accepts: the data submitted to the
JSON API and stored for each submission. Shared lists are read from the department's lists/
folder (the folder next to the form's forms/ folder). Problems in the form go to stderr."""

_SCHEMA_EPILOG = """\
examples:
  waypost schema examples/demo-force/response/forms/crime_report.yaml
  waypost schema --indent 0 examples/demo-force/public-protection/forms/child_concern.yaml"""


def _version() -> str:
    try:
        return metadata.version("waypost")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown (not installed: run `pip install -e .`)"


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``waypost`` with all its sub-commands."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="waypost", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=f"waypost {_version()}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        help="check department folders and report every problem",
        description=_CHECK_DESCRIPTION,
        epilog=_CHECK_EPILOG,
        formatter_class=formatter,
    )
    check.add_argument("dirs", nargs="+", metavar="DIR", help="a department folder or a force folder")
    check.set_defaults(run=run_check)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a form's submissions",
        description=_SCHEMA_DESCRIPTION,
        epilog=_SCHEMA_EPILOG,
        formatter_class=formatter,
    )
    schema.add_argument("form", metavar="FORM.yaml", help="a form file, usually <department>/forms/<id>.yaml")
    schema.add_argument(
        "--indent",
        type=_non_negative,
        default=2,
        metavar="N",
        help="spaces per indentation level (default 2; 0 prints the schema on one line)",
    )
    schema.set_defaults(run=run_schema)
    _cli_diagram.register(commands)
    _cli_db.register(commands)
    _cli_serve.register(commands)
    _cli_runtime.register(commands)
    _cli_user.register(commands)
    _cli_audit.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``waypost`` with ``argv`` (default: the process arguments) and return the exit code."""
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command: Command = args.run
    try:
        return command(args, out, err)
    except KeyboardInterrupt:
        print("waypost: interrupted", file=err)
        return 130
    except BrokenPipeError:
        # The reader went away (`waypost schema f.yaml | head`): stop quietly.
        _silence_stdout()
        return EXIT_INVALID
    except Exception as exc:
        if os.environ.get("WAYPOST_DEBUG"):
            raise
        print(
            f"waypost: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in Waypost, not in your files. Please report it with the file that caused "
            "it; set WAYPOST_DEBUG=1 to see the traceback.",
            file=err,
        )
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


if __name__ == "__main__":
    sys.exit(main())
