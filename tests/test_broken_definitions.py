"""Fixture folders of broken definitions: each gets the exact message, position and hint.

Each folder under tests/fixtures/broken is a department with one mistake an author really makes.
``expected.txt`` is the whole ``waypost check`` report (with the run time masked), so a change to
the wording, the line or column, the caret or the hint shows up here as a reviewed diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.cli import main

BROKEN = Path(__file__).parent / "fixtures" / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())
# Each mistake named by the definition-language issue has a fixture.
REQUIRED = {
    "bad_indentation",
    "duplicate_ids",
    "unknown_type",
    "unknown_field_near_miss",
    "type_error",
    "calculation_cycle",
    "bad_regex",
}


def test_every_required_mistake_has_a_fixture() -> None:
    """The fixture set covers each kind of mistake the issue lists."""
    assert set(CASES) >= REQUIRED


@pytest.mark.parametrize("case", CASES)
def test_broken_definition_report(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`waypost check` exits 1 and prints exactly the expected positioned report."""
    monkeypatch.chdir(BROKEN)
    code = main(["check", case])
    out = re.sub(r"\(\d+\.\d+ s\)$", "(TIME)", capsys.readouterr().out.rstrip("\n"), flags=re.MULTILINE)
    expected = (BROKEN / case / "expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert code == 1
    assert out == expected
