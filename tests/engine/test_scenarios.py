"""`waypost test`: scenario tests of workflows, with the real executor, mock plugins, a fake clock.

Each test writes a department (the helpers' form ``concern``, a workflow calling the built-in
``http`` and ``email`` plugins) and scenario files into a temporary folder, then runs the command
in-process and checks its verdicts and its coverage report.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine._cli_runtime import main
from tests.engine.fakes import department
from tests.engine.helpers import write

DEPARTMENT = """\
department: ppu
title: Public Protection Unit
roles:
  officer: {title: Police officer}
  supervisor: {title: Sergeant or above}
connections:
  backend: {plugin: http, base_url: "${env:BACKEND_URL}"}
  mail: {plugin: email, host: "${env:SMTP_HOST}", from_address: "waypost@ppu.example"}
"""

FLOW = """\
workflow: concern_flow
title: Concern
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "offence == 'assault'", goto: notify}
      - {goto: review}
  notify:
    call: http
    connection: backend
    with: {method: POST, path: /alerts, body: {name: "{{ full_name }}", seen: "{{ seen_on }}"}}
    out: {alert_ref: "{{ result.body.reference }}"}
    next: review
  review:
    task: {role: supervisor, form: concern, due: 4h, on_overdue: chase}
    decide:
      - {when: "review.offence == 'theft'", goto: refer}
      - {goto: done}
  refer:
    call: http
    connection: backend
    with: {method: POST, path: /referrals, body: {name: "{{ review.full_name }}"}}
    next: done
  chase:
    call: email
    connection: mail
    with: {to: duty@ppu.example, subject: "Overdue review for {{ full_name }}", body: Please review.}
    next: done
  done: {end: true}
"""

ASSAULT = """\
title: An assault alerts the back-end, then the supervisor refers it
answers: {full_name: Sam Smith, offence: assault, seen_on: 2025-05-30}
now: 2025-06-02T09:00:00Z
steps:
  notify:
    fail: 2
    reply: {status: 201, headers: {}, body: {reference: ALERT-1}}
tasks:
  review: {full_name: Sam Smith, offence: theft}
expect:
  route: [triage, notify, review, refer, done]
  inputs:
    notify: {method: POST, path: /alerts, body: {name: Sam Smith, seen: 2025-05-30}}
    refer: {body: {name: Sam Smith}}
  case: {alert_ref: ALERT-1, review: {offence: theft}}
  state: completed
"""

OVERDUE = """\
title: An overdue review chases the duty inspector
answers: {full_name: Jo Bloggs, offence: theft}
actions:
  - advance: 3h59m
  - advance: 1m
  - complete: review
    answers: {full_name: Jo Bloggs}
expect:
  route: [triage, review, chase, done, done]
  inputs:
    chase: {to: duty@ppu.example, subject: Overdue review for Jo Bloggs}
  state: completed
"""


def folder_with(tmp_path: Path, **tests: str) -> Path:
    folder = department(tmp_path / "ppu", {"concern_flow": FLOW}, department_yaml=DEPARTMENT)
    for name, text in tests.items():
        write(folder / "tests" / f"{name}.yaml", textwrap.dedent(text))
    return folder


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["test", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_passing_scenarios_and_full_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Retries, scripted replies, task answers, clock advances: all pass and every route is covered."""
    folder = folder_with(tmp_path, assault=ASSAULT, overdue=OVERDUE)
    code, out = run(str(folder), capsys=capsys)
    assert code == 0, out
    assert "PASS" in out
    assert "FAIL" not in out
    assert "coverage of ppu/concern_flow: 8 of 8 routes taken (100%)" in out
    assert out.strip().endswith("2 scenarios: 2 passed, 0 failed")


def test_failed_expectations_are_each_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong route, inputs, case value and state each get a line; the command exits 1."""
    folder = folder_with(
        tmp_path,
        wrong="""\
        title: Wrong on every count
        answers: {full_name: Sam Smith, offence: assault}
        steps:
          notify: {reply: {status: 201, headers: {}, body: {reference: R-9}}}
        expect:
          route: [triage, review]
          inputs:
            notify: {path: /wrong, body: {name: Sam Smith}}
          case: {alert_ref: R-1, missing: 1}
          state: completed
          open_tasks: []
        """,
    )
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert "FAIL" in out
    assert "expected: triage -> review" in out
    assert "got:      triage -> notify -> review" in out
    assert "inputs of 'notify': path: expected '/wrong', got '/alerts'" in out
    assert "case data: alert_ref: expected 'R-1', got 'R-9'" in out
    assert "case data has no 'missing'" in out
    assert "state: expected completed, got running" in out
    assert "open tasks: expected none, got review" in out
    assert "1 scenario: 0 passed, 1 failed" in out


def test_uncovered_routes_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Routes no scenario took are named with their condition; --fail-under turns that into a failure."""
    folder = folder_with(tmp_path, assault=ASSAULT)
    code, out = run(str(folder), capsys=capsys)
    assert code == 0
    assert "4 of 8 routes taken (50%)" in out
    assert "not taken: review#2: review -> done (default)" in out
    assert "not taken: chase#next: chase -> done" in out
    assert "not taken: triage#2: triage -> review (default)" in out
    assert "not taken: review#overdue: review -> chase (task overdue)" in out
    code, out = run(str(folder), "--fail-under", "90", capsys=capsys)
    assert code == 1
    assert "coverage of ppu/concern_flow is below 90%" in out


def test_incidents_can_be_expected_and_retried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A permanent failure is an incident; `retry` runs the step again and the instance carries on."""
    folder = folder_with(
        tmp_path,
        stuck="""\
        title: The back-end is down for good
        answers: {full_name: Sam Smith, offence: assault}
        steps:
          notify: {fail: always, error: MASH is down}
        expect:
          route: [triage, notify]
          incidents: [notify]
          state: running
        """,
        retried="""\
        title: An operator retries the rejected call
        answers: {full_name: Sam Smith, offence: assault}
        steps:
          notify:
            fail: permanent
            error: 422 rejected
            reply: {status: 201, headers: {}, body: {reference: R-2}}
        tasks:
          review: {full_name: Sam Smith}
        actions:
          - retry: notify
        expect:
          route: [triage, notify, review, done]
          case: {alert_ref: R-2}
          incidents: []
        """,
        surprise="""\
        title: Nobody expected this incident
        answers: {full_name: Sam Smith, offence: assault}
        steps:
          notify: {fail: permanent, error: 422 rejected}
        expect:
          route: [triage, notify]
        """,
    )
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert "PASS  " + str(folder / "tests" / "stuck.yaml") in out
    assert "PASS  " + str(folder / "tests" / "retried.yaml") in out
    assert "unexpected incident at step 'notify': 422 rejected" in out


def test_mock_replies_are_checked_against_the_plugin_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scripted reply that breaks the plugin's output schema fails like a real one would."""
    folder = folder_with(
        tmp_path,
        bad_reply="""\
        answers: {full_name: Sam Smith, offence: assault}
        steps:
          notify: {reply: {status: created}}
        expect:
          route: [triage, notify, review]
        """,
    )
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert "unexpected incident at step 'notify'" in out
    assert "outputs" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("answers: {}\nexepct: {state: running}\n", "unknown key 'exepct' in a scenario test"),
        ("answers: {}\n", "a scenario test needs 'expect:'"),
        ("answers: {}\nactions: [{advance: soon}]\nexpect: {state: running}\n", "advance"),
        ("answers: {}\nactions: [{jump: 1}]\nexpect: {state: running}\n", "unknown key 'jump' in an action"),
        ("answers: {}\nsteps: {notify: {fail: twice}}\nexpect: {state: running}\n", "'fail' must be"),
        ("answers: {}\nnow: yesterday\nexpect: {state: running}\n", "'now' must be a date and time"),
        ("answers: {}\nexpect: {state: finished}\n", "'state' is 'running' or 'completed'"),
        ("- a list\n", "a scenario test must be a mapping"),
    ],
)
def test_malformed_scenario_files_are_reported_with_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    """Mistakes in a scenario file are positioned errors; the file is not run and the command fails."""
    folder = folder_with(tmp_path, broken=text)
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert f"ERROR {folder / 'tests' / 'broken.yaml'}" in out
    assert message in out
    assert "broken.yaml:" in out  # path:line:col


def test_names_the_workflow_lacks_and_bad_answers_fail_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown steps get a did-you-mean; answers the form rejects are reported with their field."""
    folder = folder_with(
        tmp_path,
        names="""\
        answers: {full_name: Sam}
        steps: {notfy: {reply: {}}}
        expect: {route: [triage, reveiw]}
        """,
        answers="""\
        answers: {offence: arson}
        expect: {state: running}
        """,
        workflow="""\
        workflow: concern_flw
        answers: {full_name: Sam}
        expect: {state: running}
        """,
    )
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert "steps: workflow 'concern_flow' has no step 'notfy' (did you mean 'notify'?)" in out
    assert "expect.route: workflow 'concern_flow' has no step 'reveiw'" in out
    assert "the answers do not pass the form's validation: full_name:" in out
    assert "unknown workflow 'concern_flw'" in out


def test_a_wait_is_fast_forwarded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`advance` moves the fake clock: a day's wait passes without sleeping."""
    folder = department(
        tmp_path / "ppu",
        {
            "cooling": """\
            workflow: cooling
            title: Cool off
            on: {submitted: concern}
            steps:
              cool: {wait: {for: 1d}, next: done}
              done: {end: true}
            """
        },
    )
    write(
        folder / "tests" / "early.yaml",
        "answers: {full_name: Sam}\nactions: [{advance: 23h}]\nexpect: {route: [cool], state: running}\n",
    )
    write(
        folder / "tests" / "late.yaml",
        "answers: {full_name: Sam}\nactions: [{advance: 1d}]\n"
        "expect: {route: [cool, done], state: completed}\n",
    )
    code, out = run(str(folder), capsys=capsys)
    assert code == 0, out
    assert "2 scenarios: 2 passed, 0 failed" in out


def test_definition_errors_and_missing_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken workflow is reported (exit 1); a missing folder is a usage error (exit 2)."""
    folder = folder_with(tmp_path, assault=ASSAULT)
    write(folder / "workflows" / "concern_flow.yaml", FLOW.replace("goto: review}", "goto: reviw}"))
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert "the definitions have errors" in out
    assert "reviw" in out
    code, out = run(str(tmp_path / "nowhere"), capsys=capsys)
    assert code == 2
    assert "no such folder" in out


def test_a_department_without_tests_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No tests/ folder: the command says how to add one, and reports zero coverage."""
    folder = folder_with(tmp_path)
    code, out = run(str(folder), capsys=capsys)
    assert code == 0
    assert "no scenario tests (add tests/<name>.yaml)" in out
    assert "0 of 8 routes taken (0%)" in out


def test_a_scenario_that_breaks_the_runner_fails_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error inside one scenario fails that scenario; the run goes on and reports."""
    from engine import _scenario

    def broken(self: object) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_scenario._Run, "_submit", broken)
    folder = folder_with(tmp_path, assault=ASSAULT, overdue=OVERDUE)
    code, out = run(str(folder), capsys=capsys)
    assert code == 1
    assert out.count("the scenario could not run: RuntimeError: disk full") == 2
    assert "2 scenarios: 0 passed, 2 failed" in out
