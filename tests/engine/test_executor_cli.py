"""The operator commands: `waypost incidents list|retry` and the start-up checks of `waypost worker`.

Run in-process through ``engine._cli_runtime.main`` against the test databases (SQLite and
PostgreSQL); the worker's own run is covered by tests/engine/test_worker_processes.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine._cli_runtime import main
from engine._database import Database
from engine._tables import Incident, Job
from tests.engine.fakes import Harness, ScriptedPlugin, department, permanent

FLOW = """\
workflow: flow
title: One call
on: {submitted: concern}
steps:
  send: {call: record, with: {n: 1}, next: done}
  done: {end: true}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def stuck(db: Database, tmp_path: Path) -> tuple[Harness, str]:
    """An instance whose only step failed permanently: one open incident."""
    plugin = ScriptedPlugin()
    plugin.script("send", permanent("422: the back-end refused the referral"))
    h = Harness(db.url, department(tmp_path / "ppu", {"flow": FLOW}), [plugin])
    h.publish()
    iid = h.start({"full_name": "Sam"})
    h.drain()
    yield h, iid
    h.close()


def test_incidents_list_shows_the_open_ones(
    stuck: tuple[Harness, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The list names each incident's id, instance, step and error."""
    h, iid = stuck
    code, out, _ = run(capsys, "incidents", "list", "--database", h.url)
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "RAISED", "(UTC)", "INSTANCE", "STEP", "ERROR"]
    assert row.split()[0] == "1"
    assert iid in row
    assert " send " in row
    assert row.endswith("422: the back-end refused the referral")


def test_incidents_retry_queues_the_step_again(
    stuck: tuple[Harness, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`retry ID` resolves the incident and queues the step with a fresh series of attempts."""
    h, iid = stuck
    code, out, _ = run(capsys, "incidents", "retry", "1", "--database", h.url, "--by", "ops-desk")
    assert code == 0
    assert "incident 1 retried by ops-desk" in out
    with h.rt.db.session(write=False) as session:
        incident = session.get(Incident, 1)
        assert incident is not None
        assert (incident.resolved_by, incident.resolution) == ("ops-desk", "retried")
        jobs = session.scalars(select(Job.state).where(Job.kind == "run_step").order_by(Job.id)).all()
    assert list(jobs) == ["dead", "ready"]
    h.clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the command queued it on the real clock
    h.drain()
    assert h.instance(iid).state == "completed"
    code, out, _ = run(capsys, "incidents", "list", "--database", h.url)
    assert (code, out.strip()) == (0, "no open incidents")
    code, out, _ = run(capsys, "incidents", "list", "--all", "--database", h.url)
    assert "[retried by ops-desk]" in out
    code, _, err = run(capsys, "incidents", "retry", "1", "--database", h.url)
    assert code == 1
    assert "was resolved by ops-desk" in err
    code, _, err = run(capsys, "incidents", "retry", "42", "--database", h.url)
    assert code == 1
    assert "no incident with id 42" in err


def test_the_database_url_comes_from_the_environment(
    stuck: tuple[Harness, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --database, WAYPOST_DATABASE_URL is used."""
    h, _ = stuck
    monkeypatch.setenv("WAYPOST_DATABASE_URL", h.url)
    code, out, _ = run(capsys, "incidents", "list")
    assert code == 0
    assert "send" in out


def test_commands_refuse_a_database_that_is_not_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty database, a bad URL or a missing folder: a message and a non-zero exit, no traceback."""
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = run(capsys, "incidents", "list", "--database", empty)
    assert code == 1
    assert "waypost db upgrade" in err
    code, _, err = run(capsys, "incidents", "list", "--database", "mysql://nowhere/x")
    assert code == 1
    assert "unsupported database" in err
    folder = department(tmp_path / "ppu", {"flow": FLOW})
    code, _, err = run(capsys, "worker", str(folder), "--database", empty)
    assert code == 1
    assert "waypost db upgrade" in err
    code, _, err = run(capsys, "worker", str(tmp_path / "nowhere"), "--database", empty)
    assert code == 2
    assert "no such folder" in err


def test_the_worker_refuses_broken_definitions(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workflow that does not load stops the worker before it runs anything."""
    folder = department(tmp_path / "ppu", {"flow": FLOW.replace("call: record", "call: recrod")})
    code, _, err = run(capsys, "worker", str(folder), "--database", db.url)
    assert code == 1
    assert "plugin 'recrod' is not installed" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worker", "x", "--concurrency", "0"], "expected 1 or more"),
        (["worker", "x", "--lease", "soon"], "expected a number of seconds"),
        (["incidents", "retry", "abc"], "expected a whole number"),
        (["incidents"], "required"),
        (["test", "x", "--fail-under", "120"], "up to 100"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad options exit 2 with argparse's message."""
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
