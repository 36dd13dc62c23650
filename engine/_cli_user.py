"""The account commands of the CLI: ``waypost user add|list|disable|enable|passwd|unlock`` and
``waypost token add|list|revoke``. Each is a function ``(args, out, err) -> exit code``; errors
are one line on stderr and exit status 1 (2 for a wrong command line).

The database is ``waypost serve``'s (``--database``, ``$WAYPOST_DATABASE_URL``, else
``sqlite:///var/waypost.db``); it must exist and be migrated, it is never created by mistake.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# The database stack is imported inside the commands: every `waypost` run builds this parser.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine._database import Database
    from engine._tables import User

__all__ = ["MIN_PASSWORD", "register"]

EXIT_OK, EXIT_FAILED = 0, 1
MIN_PASSWORD = 10
_NAME = re.compile(r"\S{1,120}")
_ROLE = re.compile(r"\S{1,64}")
_DATABASE_HELP = "database URL (default: $WAYPOST_DATABASE_URL, else sqlite:///var/waypost.db)"

_USER_DESCRIPTION = """\
Manage the people who sign in to the web app. A user belongs to one department and holds roles
in it (officer, supervisor, ... as the department's workflows name them). Passwords are hashed
with Argon2id; at least 10 characters. See docs/users.md.

examples:
  waypost user add pc.smith --department response --role officer --name "PC Sam Smith"
  printf '%s\\n' "$PASSWORD" | waypost user add sgt.jones --department response \\
      --role officer --role supervisor --name "Sgt Alex Jones" --password-stdin
  waypost user unlock pc.smith          after too many wrong passwords"""

_BEARER_DESCRIPTION = """\
API tokens let a program use /api/v1 as a user (`Authorization: Bearer wpt_...`). A token is
printed once and only its hash is stored: keep it in a secret store, revoke it when lost.

examples:
  waypost token add pc.smith --name "outbox sync"
  waypost token revoke 3                  (its number, from `waypost token list`)"""


def register(subparsers: Any) -> None:
    """Add the ``user`` and ``token`` command groups to the ``waypost`` sub-command parsers."""
    formatter = argparse.RawDescriptionHelpFormatter
    user = subparsers.add_parser(
        "user",
        help="create and manage users (add, list, disable, enable, passwd, unlock)",
        description=_USER_DESCRIPTION,
        formatter_class=formatter,
    )
    actions = user.add_subparsers(title="actions", dest="user_action", metavar="ACTION", required=True)
    add = _action(actions, "add", "create a user", run_user_add, user=False)
    add.add_argument("username", metavar="USERNAME", help="what they type to sign in (no spaces)")
    add.add_argument("--department", required=True, metavar="D", help="their department's id")
    add.add_argument(
        "--role", dest="roles", action="append", required=True, metavar="R", help="a role in it (repeat)"
    )
    add.add_argument("--name", required=True, metavar="NAME", help='the name shown, e.g. "PC Sam Smith"')
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    how.add_argument("--no-password", action="store_true", help="no web sign-in: API tokens only")
    add.add_argument("--definitions", metavar="DIR", help="publish this force or department folder first")
    listing = _action(actions, "list", "list the users", run_user_list, user=False)
    listing.add_argument("--department", metavar="D", help="only this department's users")
    _action(actions, "disable", "stop a user signing in (ends their sessions)", run_user_active, active=False)
    _action(actions, "enable", "let a disabled user sign in again", run_user_active, active=True)
    passwd = _action(actions, "passwd", "set a user's password (ends their sessions)", run_user_passwd)
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _action(actions, "unlock", "forget a user's failed sign-in attempts", run_user_unlock)

    token = subparsers.add_parser("token", help="API tokens", description=_BEARER_DESCRIPTION)
    token.formatter_class = formatter
    tokens = token.add_subparsers(title="actions", dest="token_action", metavar="ACTION", required=True)
    token_add = _action(tokens, "add", "make a token for a user and print it once", run_token_add)
    token_add.add_argument("--name", required=True, metavar="NAME", help="what the token is for")
    token_list = _action(tokens, "list", "list tokens (not their secret)", run_token_list, user=False)
    token_list.add_argument("username", nargs="?", metavar="USERNAME", help="only this user's tokens")
    revoke = _action(tokens, "revoke", "revoke a token at once", run_token_revoke, user=False)
    revoke.add_argument("id", type=int, metavar="ID", help="the token's number (from `token list`)")


def _action(actions: Any, name: str, help_text: str, run: Any, *, user: bool = True, **defaults: Any) -> Any:
    parser = actions.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
    if user:
        parser.add_argument("username", metavar="USERNAME", help="the user's sign-in name")
    parser.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    parser.set_defaults(run=run, **defaults)
    return parser


# Opening the database -----------------------------------------------------------------------------


class _Refused(Exception):
    """A command cannot do what it was asked: the message is printed, the exit status is 1."""


def _fail(err: TextIO, message: str) -> int:
    print(f"waypost: error: {message}", file=err)
    return EXIT_FAILED


def _open(args: argparse.Namespace) -> Database:
    """The migrated database of ``args``; :class:`_Refused` saying why it cannot be used."""
    from sqlalchemy.engine import make_url

    from engine._cli_serve import database_url
    from engine._database import Database, DatabaseURLError

    url = database_url(args.database)
    try:
        parsed = make_url(url)
        path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if path and path != ":memory:" and not Path(path).exists():  # opening it would create it
            raise _Refused(f"no database at {path}: create it with `waypost db upgrade --database {url}`")
        db = Database(url)
    except (DatabaseURLError, ValueError) as exc:  # sqlalchemy's ArgumentError is a ValueError
        raise _Refused(str(exc)) from None
    try:
        current, head = db.current_revision(), db.head_revision()
    except Exception as exc:  # unreachable server, bad credentials, not a database
        db.dispose()
        raise _Refused(f"cannot open the database: {(str(exc).strip().splitlines() or ['?'])[0]}") from None
    if current != head:
        db.dispose()
        raise _Refused(f"the database is not up to date (at {current or 'nothing'}): `waypost db upgrade`")
    return db


_Run = Callable[["Database", argparse.Namespace, TextIO, TextIO], int]


def _with_db(run: _Run) -> Callable[[argparse.Namespace, TextIO, TextIO], int]:
    """A command ``(args, out, err)`` running ``run`` with the opened database, closed after.

    :class:`_Refused` becomes one line on ``err`` and exit status 1; raised inside a
    ``db.session()`` block, it also rolls the transaction back, so nothing is half done.
    """

    @functools.wraps(run)
    def command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        try:
            db = _open(args)
            try:
                return run(db, args, out, err)
            finally:
                db.dispose()
        except _Refused as exc:
            return _fail(err, str(exc))

    return command


def _find(session: Session, username: str) -> User | None:
    from sqlalchemy import select

    from engine._tables import User

    return session.scalars(select(User).where(User.username == username.strip())).first()


def _user(session: Session, username: str) -> User:
    """The user named ``username``; :class:`_Refused` when there is none."""
    user = _find(session, username)
    if user is None:
        raise _Refused(f"there is no user '{username}' (see `waypost user list`)")
    return user


def _read_password(args: argparse.Namespace) -> str:
    """A new password, from stdin or typed twice; :class:`_Refused` when it cannot be used."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Same password again: ") != password:
            raise _Refused("the two passwords are different; nothing was changed")
    if len(password) < MIN_PASSWORD:
        raise _Refused(f"a password must be at least {MIN_PASSWORD} characters long; nothing was changed")
    return password


# user ----------------------------------------------------------------------------------------------


@_with_db
def run_user_add(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost user add USERNAME --department D --role R --name NAME``."""
    from sqlalchemy import select

    from engine._tables import Department
    from engine._users import UserError, create_user

    if args.definitions:
        _publish(db, Path(args.definitions), err)
    with db.session(write=False) as session:
        known = sorted(session.scalars(select(Department.id)))
        taken = _find(session, args.username) is not None
    # Everything that can be checked is checked before a password is typed in vain.
    if taken:
        raise _Refused(f"the user name '{args.username.strip()}' is taken")
    if not _NAME.fullmatch(args.username.strip()):
        raise _Refused("a user name is 1 to 120 characters with no spaces")
    if args.department not in known:
        hint = f"the published ones are {', '.join(known)}" if known else "none is published yet"
        raise _Refused(
            f"there is no department '{args.department}' ({hint}); publish its definitions with "
            "--definitions DIR or by starting `waypost serve DIR`"
        )
    bad = [role for role in args.roles if not _ROLE.fullmatch(role)]
    if bad:
        raise _Refused(f"a role is 1 to 64 characters with no spaces, not '{bad[0]}'")
    password = None if args.no_password else _read_password(args)
    try:
        with db.session() as session:
            user = create_user(
                session,
                args.username,
                display_name=args.name,
                department=args.department,
                roles=args.roles,
                password=password,
            )
    except UserError as exc:
        raise _Refused(str(exc)) from None
    roles = ", ".join(sorted(set(args.roles)))
    api_only = "; no password: API tokens only" if args.no_password else ""
    print(f"added {user.username} ({user.display_name}), {args.department}: {roles}{api_only}", file=out)
    return EXIT_OK


def _publish(db: Database, folder: Path, err: TextIO) -> None:
    from dsl import DefinitionError
    from engine._definitions import DefinitionStore
    from engine._folder import find_departments
    from engine._registry import PluginRegistry

    try:
        store = DefinitionStore(db, PluginRegistry.from_entry_points().specs())
        for department in find_departments(folder):
            with db.session() as session:
                store.publish(session, department)
    except (FileNotFoundError, NotADirectoryError, DefinitionError) as exc:
        print(exc, file=err)  # a definition error is several lines, with positions
        raise _Refused(
            f"cannot publish {folder} (`waypost check {folder}` shows why); no user was added"
        ) from None


@_with_db
def run_user_list(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost user list [--department D]``."""
    from sqlalchemy import select

    from engine._tables import User, UserRole

    with db.session(write=False) as session:
        query = select(User).order_by(User.department_id, User.username)
        if args.department:
            query = query.where(User.department_id == args.department)
        users = list(session.scalars(query))
        roles: dict[str, list[tuple[str, str]]] = {}
        held = select(UserRole.user_id, UserRole.department_id, UserRole.role).order_by(UserRole.role)
        for user_id, department, role in session.execute(held):
            roles.setdefault(user_id, []).append((department, role))
    if not users:
        print("no users", file=out)
        return EXIT_OK
    print(f"{'USER':<24}  {'DEPARTMENT':<20}  {'STATUS':<8}  {'ROLES':<30}  NAME", file=out)
    for user in users:
        # A role held in another department than the user's own is shown as department:role.
        shown = ", ".join(r if d == user.department_id else f"{d}:{r}" for d, r in roles.get(user.id, []))
        status = ("active" if user.password_hash else "api-only") if user.active else "disabled"
        line = f"{user.username:<24}  {user.department_id:<20}  {status:<8}  {shown:<30}  {user.display_name}"
        print(line, file=out)
    return EXIT_OK


def _end_sessions(session: Session, user: User) -> None:
    """End every browser session of ``user`` (running servers notice within seconds)."""
    from sqlalchemy import delete

    from engine._tables import WebSession

    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


@_with_db
def run_user_active(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost user disable|enable USERNAME``: disabling ends their sessions, tokens stop working."""
    with db.session() as session:
        user = _user(session, args.username)
        user.active = args.active
        if not args.active:
            _end_sessions(session, user)
    done = "they can sign in again" if args.active else "their sessions ended, their API tokens stop working"
    print(f"{'enabled' if args.active else 'disabled'} {args.username}: {done}", file=out)
    return EXIT_OK


@_with_db
def run_user_passwd(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost user passwd USERNAME``: a new password; every session of the user ends."""
    from engine._users import hash_password

    with db.session(write=False) as session:
        _user(session, args.username)  # said before a password is typed in vain
    password = _read_password(args)
    with db.session() as session:
        user = _user(session, args.username)
        user.password_hash = hash_password(password)
        _end_sessions(session, user)
    print(f"changed the password of {args.username}; their sessions have ended", file=out)
    return EXIT_OK


@_with_db
def run_user_unlock(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost user unlock USERNAME``: forget their failed attempts (the 15-minute lock ends)."""
    from sqlalchemy import delete, func, select

    from engine._tables import LoginAttempt

    with db.session() as session:
        _user(session, args.username)
        failed = (LoginAttempt.username == args.username.strip(), LoginAttempt.succeeded.is_(False))
        forgotten = session.scalar(select(func.count()).select_from(LoginAttempt).where(*failed)) or 0
        session.execute(delete(LoginAttempt).where(*failed))
    print(f"unlocked {args.username}: {forgotten} failed attempt(s) forgotten", file=out)
    return EXIT_OK


# token ---------------------------------------------------------------------------------------------


@_with_db
def run_token_add(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost token add USERNAME --name NAME``: the token alone on stdout, once."""
    from engine._users import create_api_token

    with db.session() as session:
        user = _user(session, args.username)
        if not user.active:
            return _fail(err, f"{args.username} is disabled: `waypost user enable {args.username}` first")
        token = create_api_token(session, user, args.name.strip() or "token")
    print(token, file=out)
    print(f"waypost: this token acts as {args.username} and is not shown again: keep it secret", file=err)
    return EXIT_OK


@_with_db
def run_token_list(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost token list [USERNAME]``."""
    from sqlalchemy import select

    from engine._tables import ApiToken, User

    with db.session(write=False) as session:
        query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        if args.username:
            query = query.where(User.username == args.username)
        rows = list(session.execute(query.order_by(ApiToken.id)))
    if not rows:
        print("no tokens", file=out)
        return EXIT_OK
    print(f"{'ID':>5}  {'USER':<24}  {'CREATED (UTC)':<16}  {'LAST USED':<16}  {'STATE':<8}  NAME", file=out)
    for token, username in rows:
        created = f"{token.created_at:%Y-%m-%d %H:%M}"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        state = "revoked" if token.revoked_at else "active"
        print(f"{token.id:>5}  {username:<24}  {created}  {used:<16}  {state:<8}  {token.name}", file=out)
    return EXIT_OK


@_with_db
def run_token_revoke(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost token revoke ID``: the token stops working (within seconds in running servers)."""
    from engine._tables import ApiToken, utcnow

    with db.session() as session:
        token = session.get(ApiToken, args.id)
        if token is None:
            return _fail(err, f"there is no token {args.id} (see `waypost token list`)")
        already = token.revoked_at is not None
        token.revoked_at = token.revoked_at or utcnow()
    print(f"token {args.id} {'was already revoked' if already else 'revoked'}", file=out)
    return EXIT_OK
