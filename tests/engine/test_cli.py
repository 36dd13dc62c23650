"""The `waypost` command line, run in-process through engine.cli.main (and once as the real script)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import engine._cli_check
from engine.cli import main
from tests.engine.helpers import FORM, make_department, write

SUMMARY_OK = re.compile(
    r"^checked (\d+) departments?: (\d+) forms?, (\d+) workflows?, (\d+) lists?, (.+) \(\d+\.\d\d s\)$"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_check_clean_department(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid department: exit 0, no diagnostics, one summary line with counts and time."""
    folder = make_department(tmp_path / "ppu")
    code, out, err = _run(capsys, "check", str(folder))
    assert code == 0
    assert err == ""
    assert out.count("\n") == 1
    match = SUMMARY_OK.match(out.strip())
    assert match is not None, out
    assert match.groups() == ("1", "1", "0", "1", "no problems")


def test_check_force_folder_with_two_departments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A force folder checks each department and sums the counts."""
    make_department(tmp_path / "force" / "response", "response", "stop_search")
    make_department(tmp_path / "force" / "ppu", "ppu", "concern")
    code, out, _ = _run(capsys, "check", str(tmp_path / "force"))
    assert code == 0
    assert out.startswith("checked 2 departments: 2 forms, 0 workflows, 2 lists, no problems (")


def test_check_the_same_department_twice_counts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A department named directly and through its force folder is checked once."""
    make_department(tmp_path / "force" / "ppu")
    code, out, _ = _run(capsys, "check", str(tmp_path / "force"), str(tmp_path / "force" / "ppu"))
    assert code == 0
    assert out.startswith("checked 1 department: 1 form, 0 workflows, 1 list")


def test_check_reports_errors_of_every_file_sorted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors in several files are printed in one run, sorted, with paths relative to the cwd; exit 1."""
    monkeypatch.chdir(tmp_path)
    folder = make_department(tmp_path / "force" / "ppu")
    make_department(tmp_path / "force" / "roads", "roads", "collision")
    write(folder / "lists" / "places.csv", b"value,label\ncaf\xe9,Cafe\n")
    write(folder / "forms" / "concern.yaml", FORM.format(id="concern_v2"))
    write(
        tmp_path / "force" / "roads" / "department.yaml", "department: roads\ntitle: Roads\nroles:\n  x: [\n"
    )
    code, out, err = _run(capsys, "check", str(tmp_path / "force"))
    assert code == 1
    assert err == ""
    heads = [line for line in out.splitlines() if ": error: " in line]
    assert [h.split(":")[0] for h in heads] == [
        "force/ppu/forms/concern.yaml",
        "force/ppu/lists/places.csv",
        "force/roads/department.yaml",
    ]
    assert heads[0].startswith("force/ppu/forms/concern.yaml:1:7: error: form id 'concern_v2'")
    assert heads[1].startswith("force/ppu/lists/places.csv:2:4: error: the file is not valid UTF-8")
    assert "\n  hint: " in out
    assert _last_line(out).startswith("found 3 errors in 3 files (")


def test_check_error_shows_source_line_and_caret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each error is followed by the offending source line and a caret under the problem."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "concern.yaml", FORM.format(id="other"))
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 1
    lines = out.splitlines()
    assert lines[1] == "    form: other"
    assert lines[2] == "          ^^^^^"
    assert _last_line(out).startswith("found 1 error in 1 file (")


def test_check_warnings_do_not_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stray file is printed as a warning; the check still passes and the summary counts it."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "notes.txt", "x\n")
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 0
    assert f"{folder / 'forms' / 'notes.txt'}:1:1: warning: ignored file in forms/" in out
    match = SUMMARY_OK.match(_last_line(out))
    assert match is not None
    assert match.group(5) == "1 warning"


def test_check_no_department_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without any department is an error at the folder, with a hint; exit 1."""
    (tmp_path / "nothing").mkdir()
    code, out, _ = _run(capsys, "check", str(tmp_path / "nothing"))
    assert code == 1
    assert "error: no department found" in out
    assert "hint: a department folder holds department.yaml" in out


def test_check_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is a usage error (exit 2) on stderr, without a traceback."""
    make_department(tmp_path / "ppu")
    code, out, err = _run(capsys, "check", str(tmp_path / "ppu"), str(tmp_path / "nope"))
    assert code == 2
    assert out == ""
    assert err == f"waypost check: error: no such folder: {tmp_path / 'nope'}\n"


def test_check_a_file_instead_of_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Giving a file to check is a usage error that says what to give instead."""
    folder = make_department(tmp_path / "ppu")
    code, _, err = _run(capsys, "check", str(folder / "department.yaml"))
    assert code == 2
    assert "not a folder" in err
    assert "Traceback" not in err


def test_check_non_utf8_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not UTF-8 is reported at the bad byte with a hint, not a crash."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "department.yaml", b"department: ppu\ntitle: Uned Amddiffyn \xff\n")
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 1
    assert f"{folder / 'department.yaml'}:2:23: error: the file is not valid UTF-8 (byte 0xff)" in out
    assert "hint: save the file with UTF-8 encoding" in out


def test_check_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`waypost check .` inside a department names files relative to it."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "concern.yaml", FORM.format(id="x"))
    monkeypatch.chdir(folder)
    code, out, _ = _run(capsys, "check", ".")
    assert code == 1
    assert out.startswith("forms/concern.yaml:1:7: error: form id 'x'")


def test_check_paths_outside_cwd_stay_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path outside the current directory is shown as given (absolute)."""
    folder = make_department(tmp_path / "defs" / "ppu")
    write(folder / "forms" / "concern.yaml", FORM.format(id="x"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    _, out, _ = _run(capsys, "check", str(folder))
    assert out.startswith(f"{folder / 'forms' / 'concern.yaml'}:1:7: error:")


def test_schema_prints_a_valid_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`schema` prints a draft 2020-12 JSON Schema that accepts the form's answers."""
    folder = make_department(tmp_path / "ppu")
    code, out, err = _run(capsys, "schema", str(folder / "forms" / "concern.yaml"))
    assert code == 0
    assert err == ""
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"full_name": "Ann Smith", "offence": "theft", "seen_on": "2024-03-01"})
    assert not validator.is_valid({"full_name": 42})
    assert out.startswith("{\n  ")


def test_schema_indent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--indent 0 prints the schema on one line; --indent 4 indents by four spaces."""
    form = make_department(tmp_path / "ppu") / "forms" / "concern.yaml"
    code, out, _ = _run(capsys, "schema", "--indent", "0", str(form))
    assert code == 0
    assert out.count("\n") == 1
    code, out, _ = _run(capsys, "schema", str(form), "--indent", "4")
    assert code == 0
    assert out.startswith("{\n    ")
    assert json.loads(out) == json.loads(_run(capsys, "schema", str(form))[1])


def test_schema_bad_indent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A negative or non-numeric --indent is a usage error."""
    form = make_department(tmp_path / "ppu") / "forms" / "concern.yaml"
    for value in ("-1", "two"):
        code, out, err = _run(capsys, "schema", "--indent", value, str(form))
        assert code == 2
        assert out == ""
        assert "--indent" in err


def test_schema_of_a_broken_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A form with errors prints diagnostics to stderr, nothing to stdout, and exits 1."""
    form = make_department(tmp_path / "ppu") / "forms" / "concern.yaml"
    write(form, FORM.format(id="concern").replace("pages:", "pages: 3\nextra:"))
    code, out, err = _run(capsys, "schema", str(form))
    assert code == 1
    assert out == ""
    assert f"{form}:" in err
    assert ": error: " in err
    assert re.search(r"^found \d+ errors? in 1 file$", err, re.MULTILINE)


def test_schema_ignores_lists_the_form_does_not_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken list that the form does not use does not stop `schema` (check reports it)."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "lists" / "places.csv", b"value,label\ncaf\xe9,Cafe\n")
    code, out, err = _run(capsys, "schema", str(folder / "forms" / "concern.yaml"))
    assert code == 0
    assert err == ""
    assert json.loads(out)["type"] == "object"


def test_schema_shows_the_broken_list_a_form_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """When the form fails because its list is broken, the list's own problem is shown too."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "lists" / "offences.csv", b"value,label\ncaf\xe9,Cafe\n")
    code, out, err = _run(capsys, "schema", str(folder / "forms" / "concern.yaml"))
    assert code == 1
    assert out == ""
    assert f"{folder / 'lists' / 'offences.csv'}:2:4: error: the file is not valid UTF-8" in err
    assert f"{folder / 'forms' / 'concern.yaml'}:" in err


def test_schema_missing_or_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing form file or a folder is a usage error on stderr (exit 2)."""
    code, _, err = _run(capsys, "schema", str(tmp_path / "missing.yaml"))
    assert code == 2
    assert err == f"waypost schema: error: no such file: {tmp_path / 'missing.yaml'}\n"
    code, _, err = _run(capsys, "schema", str(tmp_path))
    assert code == 2
    assert "is a folder" in err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`waypost --help` names every command and shows examples."""
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    assert "check" in out
    assert "schema" in out
    assert "examples:" in out


@pytest.mark.parametrize(("command", "expected"), [("check", "DIR"), ("schema", "--indent")])
def test_command_help(command: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each command's --help describes it, its arguments and shows examples."""
    code, out, _ = _run(capsys, command, "--help")
    assert code == 0
    assert f"usage: waypost {command}" in out
    assert expected in out
    assert "examples:" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`waypost --version` prints the installed distribution's version."""
    code, out, _ = _run(capsys, "--version")
    assert code == 0
    assert re.fullmatch(r"waypost \d+\.\d+\.\d+\S*\n", out)


@pytest.mark.parametrize("argv", [["serve-all"], [], ["check"], ["check", "--bogus", "x"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command, a missing command or missing arguments is a usage error (exit 2)."""
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("usage: waypost")


def test_internal_error_has_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside Waypost is reported in one paragraph with exit 3, not a traceback."""

    def broken(path: Path) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(engine._cli_check, "load_department_folder", broken)
    monkeypatch.delenv("WAYPOST_DEBUG", raising=False)
    code, _, err = _run(capsys, "check", str(make_department(tmp_path / "ppu")))
    assert code == 3
    assert "internal error: KeyError: 'boom'" in err
    assert "Traceback" not in err


def test_installed_console_script() -> None:
    """The `waypost` console script is installed next to the interpreter and runs."""
    script = Path(sys.executable).parent / "waypost"
    if not script.exists():
        pytest.fail(f"{script} is not installed: run `{sys.executable} -m pip install -e '.[test,dev]'`")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("waypost ")


CHECK_WORKFLOW = """\
workflow: concern
version: "1"
title: Concern for a person
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "offence == 'assault'", goto: reveiw}
      - {goto: done}
  review:
    task: {role: supervisor, form: concern, title: Review, due: 4h}
    next: done
  done: {end: true}
"""


def test_check_loads_workflows_and_reports_their_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Workflows are checked with their department: a good one is counted, a bad target is an
    error at its line with a did-you-mean, alongside the other files' problems."""
    folder = make_department(tmp_path / "ppu")
    flow = write(folder / "workflows" / "concern.yaml", CHECK_WORKFLOW.replace("reveiw", "review"))
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 0, out
    match = SUMMARY_OK.match(out.strip())
    assert match is not None, out
    assert match.group(3) == "1"

    flow.write_text(CHECK_WORKFLOW, encoding="utf-8")
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 1
    assert f"{flow}:8:" in out
    assert "'reveiw'" in out
    assert "did you mean 'review'?" in out


def test_check_workflow_id_must_match_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A workflow whose id differs from its file name is an error naming both."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "workflows" / "other.yaml", CHECK_WORKFLOW.replace("reveiw", "review"))
    code, out, _ = _run(capsys, "check", str(folder))
    assert code == 1
    assert "other.yaml:1:11: error: the workflow id" in out
    assert "rename the file to 'concern.yaml'" in out
