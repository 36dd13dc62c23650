"""Reading department folders from disk: engine.load_department_folder and find_departments."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl import DefinitionError, Severity
from engine import LoadedDepartment, find_departments, load_department_folder
from tests.engine.helpers import FORM, make_department, write


def _errors(exc: pytest.ExceptionInfo[DefinitionError]) -> list[tuple[str, int, int, str]]:
    return [
        (d.position.path, d.position.line, d.position.column, d.code)
        for d in exc.value.diagnostics
        if d.position is not None and d.severity is Severity.ERROR
    ]


def test_clean_department_loads(tmp_path: Path) -> None:
    """A valid folder gives its department, forms by id and lists by file name, with no warnings."""
    folder = make_department(tmp_path / "ppu")
    loaded = load_department_folder(folder)
    assert isinstance(loaded, LoadedDepartment)
    assert loaded.department.id == "ppu"
    assert set(loaded.forms) == {"concern"}
    assert loaded.forms["concern"].id == "concern"
    assert set(loaded.lists) == {"offences"}
    assert loaded.path == folder
    assert loaded.warnings == ()


def test_forms_get_the_departments_lists(tmp_path: Path) -> None:
    """A form can name a list of its department; without the list file it is an error in the form."""
    folder = make_department(tmp_path / "ppu")
    load_department_folder(folder)  # `choices: offences` resolves
    (folder / "lists" / "offences.csv").unlink()
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    assert {path for path, *_ in _errors(exc)} == {str(folder / "forms" / "concern.yaml")}


def test_lists_in_yaml_and_yml(tmp_path: Path) -> None:
    """Lists may be .csv, .yaml or .yml files, each named after its file."""
    folder = make_department(tmp_path / "ppu")
    write(
        folder / "lists" / "gender.yaml", "- {value: female, label: Female}\n- {value: male, label: Male}\n"
    )
    write(folder / "lists" / "yes_no.yml", "- {value: y, label: Yes}\n- {value: n, label: No}\n")
    assert set(load_department_folder(folder).lists) == {"gender", "offences", "yes_no"}


def test_every_file_reported_in_one_error_sorted(tmp_path: Path) -> None:
    """Problems in several files are all raised together, sorted by file, line and column."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "department.yaml", "department: ppu\ntitle: PPU\nroles:\n\tofficer: {title: Officer}\n")
    write(folder / "forms" / "b_form.yaml", FORM.format(id="other"))
    write(
        folder / "forms" / "a_form.yaml",
        FORM.format(id="a_form").replace("title: The person", "title: A\n    title: B"),
    )
    write(folder / "lists" / "places.csv", b"value,label\ncaf\xe9,Caf\xe9\n")
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    errors = _errors(exc)
    assert [e[0] for e in errors] == sorted(e[0] for e in errors)
    assert {e[0] for e in errors} == {
        str(folder / "department.yaml"),
        str(folder / "forms" / "a_form.yaml"),
        str(folder / "forms" / "b_form.yaml"),
        str(folder / "lists" / "places.csv"),
    }
    assert (str(folder / "lists" / "places.csv"), 2, 4, "encoding") in errors
    assert (str(folder / "forms" / "a_form.yaml"), 7, 5, "duplicate-key") in errors
    assert (str(folder / "forms" / "b_form.yaml"), 1, 7, "form-id-mismatch") in errors
    assert "department.yaml:4:" in str(exc.value)


def test_missing_department_yaml_is_positioned_at_the_folder(tmp_path: Path) -> None:
    """A folder without department.yaml is an error at the folder; its forms are still checked."""
    folder = make_department(tmp_path / "ppu")
    (folder / "department.yaml").unlink()
    write(folder / "forms" / "wrong.yaml", FORM.format(id="right"))
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    errors = _errors(exc)
    assert (f"{folder}/", 1, 1, "no-department") in errors
    assert (str(folder / "forms" / "wrong.yaml"), 1, 7, "form-id-mismatch") in errors
    hint = next(d.hint for d in exc.value.diagnostics if d.code == "no-department")
    assert hint is not None
    assert "create department.yaml" in hint


def test_misnamed_department_yaml_hints_the_rename(tmp_path: Path) -> None:
    """A department.yml next to the forms is named in the hint."""
    folder = make_department(tmp_path / "ppu")
    (folder / "department.yaml").rename(folder / "department.yml")
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    assert "rename 'department.yml' to 'department.yaml'" in str(exc.value)


def test_form_id_must_match_file_name(tmp_path: Path) -> None:
    """`form: other` in forms/concern.yaml is an error at the id, with a hint naming both fixes."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "concern.yaml", "# a comment\n" + FORM.format(id="concern_v2"))
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    (diag,) = exc.value.diagnostics
    assert diag.code == "form-id-mismatch"
    assert diag.position is not None
    assert (diag.position.line, diag.position.column) == (2, 7)
    assert "'concern_v2'" in diag.message
    assert diag.hint is not None
    assert "concern_v2.yaml" in diag.hint


def test_list_name_collision(tmp_path: Path) -> None:
    """offences.csv and offences.yaml both define the list 'offences': an error naming both files."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "lists" / "offences.yaml", "- {value: theft, label: Theft}\n")
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    (diag,) = exc.value.diagnostics
    assert diag.code == "duplicate-name"
    assert "'offences.csv'" in diag.message
    assert "'offences.yaml'" in diag.message


def test_form_name_collision(tmp_path: Path) -> None:
    """forms/concern.yaml and forms/concern.yml are the same form twice."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "concern.yml", FORM.format(id="concern"))
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    assert [d.code for d in exc.value.diagnostics] == ["duplicate-name"]


def test_non_utf8_file_is_positioned(tmp_path: Path) -> None:
    """A Latin-1 byte is reported at its line and column, with the UTF-8 hint; no crash."""
    folder = make_department(tmp_path / "ppu")
    write(
        folder / "forms" / "concern.yaml",
        FORM.format(id="concern").replace("Full name", "Full n\xe2me").encode("latin-1"),
    )
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    (diag,) = exc.value.diagnostics
    assert diag.code == "encoding"
    assert diag.position is not None
    column = FORM.format(id="concern").splitlines()[7].index("Full name") + len("Full n") + 1
    assert (diag.position.line, diag.position.column) == (8, column)
    assert "0xe2" in diag.message
    assert "^" in diag.format()


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A CSV saved by a spreadsheet with a UTF-8 byte-order mark loads like any other."""
    folder = make_department(tmp_path / "ppu")
    csv = (folder / "lists" / "offences.csv").read_bytes()
    write(folder / "lists" / "offences.csv", b"\xef\xbb\xbf" + csv)
    assert set(load_department_folder(folder).lists) == {"offences"}


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    """A form file that cannot be read (a link to nothing) is a positioned error, not a crash."""
    folder = make_department(tmp_path / "ppu")
    (folder / "forms" / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    (diag,) = exc.value.diagnostics
    assert diag.code == "unreadable"
    assert str(diag.position) == f"{folder / 'forms' / 'gone.yaml'}:1:1"


def test_stray_files_are_warnings(tmp_path: Path) -> None:
    """Non-YAML files in forms/ are ignored with a warning; hidden files are ignored silently."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "README.md", "notes\n")
    write(folder / "forms" / ".concern.yaml.swp", b"\x00\x01")
    write(folder / "lists" / "old" / "x.csv", "value,label\n")
    loaded = load_department_folder(folder)
    assert set(loaded.forms) == {"concern"}
    assert [(d.severity, d.position.path if d.position else "") for d in loaded.warnings] == [
        (Severity.WARNING, str(folder / "forms" / "README.md")),
        (Severity.WARNING, f"{folder / 'lists' / 'old'}/"),
    ]


def test_warnings_travel_with_errors(tmp_path: Path) -> None:
    """When there are errors too, the warnings are part of the raised error."""
    folder = make_department(tmp_path / "ppu")
    write(folder / "forms" / "notes.txt", "x\n")
    write(folder / "forms" / "concern.yaml", FORM.format(id="nope"))
    with pytest.raises(DefinitionError) as exc:
        load_department_folder(folder)
    assert {d.severity for d in exc.value.diagnostics} == {Severity.ERROR, Severity.WARNING}
    assert len(exc.value.errors) == 1


def test_find_departments_in_a_department_folder(tmp_path: Path) -> None:
    """A folder holding department.yaml is itself the one department."""
    folder = make_department(tmp_path / "ppu")
    assert find_departments(folder) == [folder]


def test_find_departments_in_a_force_folder(tmp_path: Path) -> None:
    """A force folder yields its department sub-folders in name order, skipping unrelated ones."""
    force = tmp_path / "force"
    make_department(force / "response", "response")
    make_department(force / "investigations", "investigations")
    (force / "docs").mkdir()
    write(force / "README.md", "the force\n")
    assert find_departments(force) == [force / "investigations", force / "response"]


def test_find_departments_keeps_a_folder_missing_its_department_yaml(tmp_path: Path) -> None:
    """A sub-folder with forms/ but no department.yaml is returned, so loading reports it."""
    force = tmp_path / "force"
    make_department(force / "response", "response")
    make_department(force / "roads", "roads")
    (force / "roads" / "department.yaml").unlink()
    assert find_departments(force) == [force / "response", force / "roads"]
    with pytest.raises(DefinitionError, match=r"has no department\.yaml"):
        load_department_folder(force / "roads")


def test_find_departments_none_found(tmp_path: Path) -> None:
    """A folder with no department is an error positioned at the folder, with a hint."""
    (tmp_path / "empty" / "docs").mkdir(parents=True)
    with pytest.raises(DefinitionError) as exc:
        find_departments(tmp_path / "empty")
    (diag,) = exc.value.diagnostics
    assert diag.code == "no-department"
    assert diag.position is not None
    assert diag.position.path == f"{tmp_path / 'empty'}/"
    assert diag.hint is not None
    assert "force folder" in diag.hint


def test_find_departments_bad_paths(tmp_path: Path) -> None:
    """A missing path or a file is an OS error, not a definition error."""
    with pytest.raises(FileNotFoundError):
        find_departments(tmp_path / "missing")
    with pytest.raises(NotADirectoryError):
        find_departments(write(tmp_path / "file.yaml", "x: 1\n"))
