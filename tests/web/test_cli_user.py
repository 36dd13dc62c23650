"""``waypost user ...`` and ``waypost token ...``, run in-process on a real SQLite database.

A database migrated with the demo force published is made once per module and copied for each
test. Passwords come from standard input (``--password-stdin``) or from the two prompts, which
read the terminal through ``getpass``: the tests answer those prompts.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import cli
from engine._database import Database
from engine._definitions import DefinitionStore
from engine._folder import find_departments
from engine._registry import PluginRegistry
from engine._tables import ApiToken, LoginAttempt, User, UserRole, WebSession
from engine._users import check_password, hash_secret, open_session

FORCE = Path("examples/demo-force")
GOOD = "a long enough password"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database file with the demo force's departments published."""
    path = tmp_path_factory.mktemp("cli-user") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    store = DefinitionStore(db, PluginRegistry.from_entry_points().specs())
    for folder in find_departments(FORCE):
        with db.session() as session:
            store.publish(session, folder)
    db.checkpoint()
    db.dispose()
    return path


@pytest.fixture
def url(published: Path, tmp_path: Path) -> str:
    copy = tmp_path / "waypost.db"
    shutil.copyfile(published, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    database = Database(url)
    yield database
    database.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    """``waypost ARGV`` in this process: (exit code, stdout, stderr)."""
    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = cli.main(list(argv))
    finally:
        sys.stdin = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add(capsys: pytest.CaptureFixture[str], url: str, username: str = "pc.smith", *extra: str):
    return run(
        capsys,
        "user",
        "add",
        username,
        "--department",
        "response",
        "--role",
        "officer",
        "--name",
        "PC Sam Smith",
        "--password-stdin",
        "--database",
        url,
        *extra,
        stdin=GOOD + "\n",
    )


def user_named(db: Database, username: str) -> User | None:
    with db.session() as session:
        return session.scalars(select(User).where(User.username == username)).first()


def test_user_add_stores_an_argon2id_hash_and_the_roles(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    code, out, err = run(
        capsys,
        "user",
        "add",
        "sgt.jones",
        "--department",
        "response",
        "--role",
        "officer",
        "--role",
        "supervisor",
        "--name",
        "Sergeant Alex Jones",
        "--password-stdin",
        "--database",
        url,
        stdin=GOOD + "\n",
    )
    assert (code, err) == (0, "")
    assert out == "added sgt.jones (Sergeant Alex Jones), response: officer, supervisor\n"
    with db.session() as session:
        user = check_password(session, "sgt.jones", GOOD)
        assert user is not None
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert GOOD not in user.password_hash
        roles = session.execute(select(UserRole.department_id, UserRole.role)).all()
        assert check_password(session, "sgt.jones", GOOD + "x") is None
    assert sorted(roles) == [("response", "officer"), ("response", "supervisor")]


def test_user_add_asks_twice_and_refuses_different_or_short_passwords(
    capsys: pytest.CaptureFixture[str], url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": answers.pop(0))
    base = ("user", "add", "pc.evans", "--department", "response", "--role", "officer", "--name", "PC Evans")
    answers[:] = [GOOD, GOOD + "!"]
    code, out, err = run(capsys, *base, "--database", url)
    assert (code, out) == (1, "")
    assert err == "waypost: error: the two passwords are different; nothing was changed\n"
    answers[:] = ["short", "short"]
    code, _, err = run(capsys, *base, "--database", url)
    assert code == 1
    assert "at least 10 characters" in err
    assert user_named(db, "pc.evans") is None
    answers[:] = [GOOD, GOOD]
    assert run(capsys, *base, "--database", url)[0] == 0
    assert answers == []  # both prompts were answered
    assert user_named(db, "pc.evans") is not None


def test_user_add_explains_an_unknown_department_and_a_taken_name(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(
        capsys, "user", "add", "x", "--department", "traffic", "--role", "officer", "--name", "X",
        "--password-stdin", "--database", url, stdin=GOOD + "\n",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith("waypost: error: there is no department 'traffic' (the published ones are ")
    assert "investigations, public_protection, response" in err
    assert err.count("\n") == 1
    assert add(capsys, url)[0] == 0
    code, _, err = add(capsys, url)
    assert code == 1
    assert err == "waypost: error: the user name 'pc.smith' is taken\n"
    code, _, err = add(capsys, url, "two words")
    assert code == 1
    assert "no spaces" in err


def test_user_add_refuses_a_role_with_spaces_and_needs_its_options(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _, err = run(
        capsys, "user", "add", "x", "--department", "response", "--role", "night shift", "--name", "X",
        "--password-stdin", "--database", url, stdin=GOOD + "\n",
    )  # fmt: skip
    assert code == 1
    assert "a role is 1 to 64 characters with no spaces, not 'night shift'" in err
    code, _, err = run(capsys, "user", "add", "x", "--role", "officer", "--name", "X", "--database", url)
    assert code == 2
    assert "--department" in err


def test_user_add_can_publish_the_definitions_of_a_new_installation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fresh = f"sqlite:///{tmp_path}/new.db"
    code, _, err = add(capsys, fresh)
    assert code == 1
    hint = f"create it with `waypost db upgrade --database {fresh}`"
    assert err == f"waypost: error: no database at {tmp_path}/new.db: {hint}\n"
    assert not (tmp_path / "new.db").exists()  # not created by asking
    assert run(capsys, "db", "upgrade", "--database", fresh)[0] == 0
    code, _, err = add(capsys, fresh)
    assert code == 1
    assert "none is published yet" in err
    code, _, err = add(capsys, fresh, "pc.smith", "--definitions", str(tmp_path / "missing"))
    assert code == 1
    assert "cannot publish" in err
    code, out, err = add(capsys, fresh, "pc.smith", "--definitions", str(FORCE))
    assert (code, err) == (0, "")
    assert out.startswith("added pc.smith")


def test_user_list_shows_status_and_roles(capsys: pytest.CaptureFixture[str], url: str, db: Database) -> None:
    assert run(capsys, "user", "list", "--database", url)[1] == "no users\n"
    add(capsys, url)
    with db.session() as session:
        user = session.scalars(select(User)).one()
        session.add(UserRole(user_id=user.id, department_id="investigations", role="supervisor"))
    code, out, _ = run(capsys, "user", "list", "--database", url)
    assert code == 0
    header, line = out.splitlines()
    assert header.split() == ["USER", "DEPARTMENT", "STATUS", "ROLES", "NAME"]
    assert line.split(None, 3)[:3] == ["pc.smith", "response", "active"]
    assert "officer, investigations:supervisor" in line
    assert line.endswith("PC Sam Smith")
    assert run(capsys, "user", "list", "--department", "investigations", "--database", url)[1] == "no users\n"


def test_disable_ends_sessions_and_stops_sign_in_until_enabled(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    add(capsys, url)
    with db.session() as session:
        user = session.scalars(select(User)).one()
        open_session(session, user)
    code, out, _ = run(capsys, "user", "disable", "pc.smith", "--database", url)
    assert code == 0
    assert out.startswith("disabled pc.smith")
    with db.session() as session:
        assert session.scalars(select(WebSession)).all() == []
        assert check_password(session, "pc.smith", GOOD) is None
    assert "disabled" in run(capsys, "user", "list", "--database", url)[1]
    assert run(capsys, "user", "enable", "pc.smith", "--database", url)[0] == 0
    with db.session() as session:
        assert check_password(session, "pc.smith", GOOD) is not None
    code, _, err = run(capsys, "user", "disable", "nobody", "--database", url)
    assert code == 1
    assert err == "waypost: error: there is no user 'nobody' (see `waypost user list`)\n"


def test_passwd_changes_the_password_and_ends_sessions(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    add(capsys, url)
    with db.session() as session:
        open_session(session, session.scalars(select(User)).one())
    new = "another long password"
    code, _, err = run(
        capsys, "user", "passwd", "pc.smith", "--password-stdin", "--database", url, stdin="short\n"
    )
    assert code == 1
    assert "at least 10" in err
    code, out, _ = run(
        capsys, "user", "passwd", "pc.smith", "--password-stdin", "--database", url, stdin=new + "\n"
    )
    assert code == 0
    assert "sessions have ended" in out
    with db.session() as session:
        assert check_password(session, "pc.smith", GOOD) is None
        assert check_password(session, "pc.smith", new) is not None
        assert session.scalars(select(WebSession)).all() == []
    code, _, err = run(
        capsys, "user", "passwd", "nobody", "--password-stdin", "--database", url, stdin=new + "\n"
    )
    assert code == 1
    assert "there is no user 'nobody'" in err


def test_unlock_forgets_failures_but_keeps_successes(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    add(capsys, url)
    with db.session() as session:
        session.add_all(LoginAttempt(username="pc.smith", ip="10.0.0.1", succeeded=False) for _ in range(6))
        session.add(LoginAttempt(username="pc.smith", ip="10.0.0.1", succeeded=True))
        session.add(LoginAttempt(username="sgt.jones", ip="10.0.0.1", succeeded=False))
    code, out, _ = run(capsys, "user", "unlock", "pc.smith", "--database", url)
    assert (code, out) == (0, "unlocked pc.smith: 6 failed attempt(s) forgotten\n")
    with db.session() as session:
        left = session.execute(select(LoginAttempt.username, LoginAttempt.succeeded)).all()
    assert sorted(left) == [("pc.smith", True), ("sgt.jones", False)]


def test_tokens_are_printed_once_stored_hashed_listed_and_revoked(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    add(capsys, url)
    code, out, err = run(capsys, "token", "add", "pc.smith", "--name", "outbox sync", "--database", url)
    assert code == 0
    token = out.strip()
    assert token.startswith("wpt_")
    assert out.count("\n") == 1
    assert "not shown again" in err
    with db.session() as session:
        stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hash_secret(token)
    assert stored.name == "outbox sync"
    code, out, err = run(capsys, "token", "list", "--database", url)
    assert code == 0, err
    assert token not in out
    assert out.splitlines()[1].split()[:2] == [str(stored.id), "pc.smith"]
    assert "active" in out
    code, out, _ = run(capsys, "token", "revoke", str(stored.id), "--database", url)
    assert (code, out) == (0, f"token {stored.id} revoked\n")
    with db.session() as session:
        assert session.scalars(select(ApiToken.revoked_at)).one() is not None
    assert "revoked" in run(capsys, "token", "list", "pc.smith", "--database", url)[1]
    assert (
        run(capsys, "token", "revoke", str(stored.id), "--database", url)[1]
        == f"token {stored.id} was already revoked\n"
    )
    code, _, err = run(capsys, "token", "revoke", "999", "--database", url)
    assert (code, err) == (1, "waypost: error: there is no token 999 (see `waypost token list`)\n")
    code, _, err = run(capsys, "token", "add", "nobody", "--name", "x", "--database", url)
    assert code == 1
    assert "there is no user 'nobody'" in err


def test_a_disabled_user_gets_no_token_and_an_api_only_user_has_no_password(
    capsys: pytest.CaptureFixture[str], url: str, db: Database
) -> None:
    code, out, _ = run(
        capsys, "user", "add", "records.sync", "--department", "investigations", "--role", "integration",
        "--name", "Records sync", "--no-password", "--database", url,
    )  # fmt: skip
    assert code == 0
    assert out.endswith("no password: API tokens only\n")
    user = user_named(db, "records.sync")
    assert user is not None
    assert user.password_hash is None
    assert "api-only" in run(capsys, "user", "list", "--database", url)[1]
    run(capsys, "user", "disable", "records.sync", "--database", url)
    code, out, err = run(capsys, "token", "add", "records.sync", "--name", "x", "--database", url)
    assert (code, out) == (1, "")
    assert "is disabled" in err


def test_a_database_that_needs_migrating_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, _, err = run(capsys, "user", "list", "--database", f"sqlite:///{empty}")
    assert code == 1
    assert err == "waypost: error: the database is not up to date (at nothing): `waypost db upgrade`\n"
    code, _, err = run(capsys, "user", "list", "--database", "mysql://nowhere/x")
    assert code == 1
    assert err.count("\n") == 1
