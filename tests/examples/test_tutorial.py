"""docs/tutorial.md is true: its files load, its routes are tested, its outputs are what Waypost prints.

Every fenced block after ``<!-- file: PATH -->`` is written to PATH in a fresh folder, and every
block after ``<!-- output: STAGE -->`` (a ``$ waypost ...`` line, then the output) is compared with
what ``engine.cli.main`` prints for that command on the files the reader has at that stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from engine.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIAL = DOCS / "tutorial.md"

_MARKED = re.compile(r"<!-- (file|output): (\S+) -->\n```[a-z]*\n(.*?)```\n", re.S)
_TIMING = re.compile(r" \(\d+\.\d+ s\)$", re.M)

FORM = "lost-property/forms/lost_property.yaml"
CHEAP = "lost-property/tests/cheap_item_emailed.yaml"
VALUABLE = "lost-property/tests/valuable_item_checked.yaml"
TYPO = ("relevant: has_serial,", "relevant: has_serail,")


@dataclass(frozen=True)
class Stage:
    """The files the reader has when the tutorial shows an output, and the exit status."""

    files: tuple[str, ...]
    status: int
    typo: bool = False


STAGES = {
    "form-check": Stage(("lost-property/department.yaml", FORM), 0),
    "form-check-typo": Stage(("lost-property/department.yaml", FORM), 1, typo=True),
    "workflow-check": Stage(
        (
            "lost-property/department.yaml",
            FORM,
            "lost-property/forms/valuables_check.yaml",
            "lost-property/workflows/lost_property.yaml",
        ),
        0,
    ),
    "test-one-route": Stage(("*", f"-{VALUABLE}"), 1),
    "test-all-routes": Stage(("*",), 0),
}


def _marked(kind: str) -> dict[str, str]:
    text = TUTORIAL.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for marker, name, body in _MARKED.findall(text):
        if marker == kind:
            assert name not in found, f"{kind} {name} is marked twice"
            found[name] = body
    return found


FILES = _marked("file")
OUTPUTS = _marked("output")


def _write(root: Path, stage: Stage) -> None:
    names = set(FILES) if "*" in stage.files else set(stage.files)
    names -= {name[1:] for name in stage.files if name.startswith("-")}
    for name in names:
        text = FILES[name]
        if stage.typo and name == FORM:
            assert TYPO[0] in text
            text = text.replace(TYPO[0], TYPO[1])
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _run(
    root: Path, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    monkeypatch.chdir(root)
    capsys.readouterr()
    status = main(argv)
    return status, capsys.readouterr().out


def test_every_yaml_block_is_a_marked_file_and_valid_yaml() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    yaml_blocks = text.count("```yaml\n")
    assert yaml_blocks == len(FILES) == 6
    for name, body in FILES.items():
        assert name.startswith("lost-property/"), name
        assert name.endswith(".yaml"), name
        assert isinstance(yaml.safe_load(body), dict), name
    # Each file is introduced by its path, so the reader knows where it goes.
    for name in FILES:
        assert f"`{name}`" in text


def test_every_output_block_has_a_stage() -> None:
    assert set(OUTPUTS) == set(STAGES)
    assert f"`{TYPO[1].rstrip(',')}`" in TUTORIAL.read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_output_shown_is_what_waypost_prints(
    stage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, _, shown = OUTPUTS[stage].partition("\n")
    assert command.startswith("$ waypost ")
    _write(tmp_path, STAGES[stage])
    status, printed = _run(tmp_path, command.split()[2:], capsys, monkeypatch)
    assert status == STAGES[stage].status, printed
    assert _TIMING.sub("", printed) == _TIMING.sub("", shown)


def test_the_finished_folder_checks_with_its_scenarios_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The route coverage of the finished folder is compared in full by the "test-all-routes" stage.
    _write(tmp_path, STAGES["test-all-routes"])
    assert len(list((tmp_path / "lost-property").rglob("*.yaml"))) == len(FILES)
    status, printed = _run(tmp_path, ["check", "lost-property"], capsys, monkeypatch)
    assert status == 0, printed
    assert "1 department: 2 forms, 1 workflow, 0 lists, no problems" in printed


def test_the_prose_names_the_line_of_the_error_shown() -> None:
    position = re.search(r"lost_property\.yaml:(\d+):(\d+): error", OUTPUTS["form-check-typo"])
    assert position is not None
    line, column = position.groups()
    text = TUTORIAL.read_text(encoding="utf-8")
    assert f"Fix the spelling on line {line}" in text
    assert f"`{FORM}:{line}:{column}`" in text
    # ...and that line of the form really is the one with `relevant: has_serial`.
    assert TYPO[0] in FILES[FORM].splitlines()[int(line) - 1]


def test_a_wrong_expectation_in_a_scenario_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scenarios must be able to fail: a cheap item sent to the supervisor is a wrong route.
    _write(tmp_path, STAGES["test-all-routes"])
    cheap = tmp_path / CHEAP
    cheap.write_text(cheap.read_text(encoding="utf-8").replace("worth: 20", "worth: 800"), encoding="utf-8")
    status, printed = _run(tmp_path, ["test", "lost-property"], capsys, monkeypatch)
    assert status == 1
    assert "FAIL  lost-property/tests/cheap_item_emailed.yaml" in printed


def test_links_point_at_existing_docs_and_headings() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([a-z]+\.md)(?:#([a-z0-9-]+))?\)", text)
    assert links
    for page, anchor in links:
        target = DOCS / page
        assert target.is_file(), page
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{page}#{anchor}"
