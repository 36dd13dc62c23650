"""``waypost diagram``: a workflow drawn as SVG with Graphviz, or as Mermaid text without it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import _cli_diagram
from engine.cli import main
from tests.engine.helpers import make_department, write

WORKFLOW = """\
workflow: concern
version: "1"
title: Concern for a person
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "offence == 'assault'", goto: review}
      - {goto: done}
  review:
    task: {role: supervisor, form: concern, title: "Review {{ full_name }}", due: 4h}
    next: done
  done: {end: true}
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    department = make_department(tmp_path / "ppu")
    return write(department / "workflows" / "concern.yaml", WORKFLOW)


def test_svg_is_drawn_by_graphviz(flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With Graphviz installed, -o x.svg writes an SVG showing the steps and the route condition."""
    assert shutil.which("dot"), "Graphviz must be installed (.ci/run installs the graphviz package)"
    target = tmp_path / "flow.svg"
    assert main(["diagram", str(flow), "-o", str(target)]) == 0
    svg = target.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert "triage" in svg
    assert "review" in svg
    assert "supervisor" in svg
    assert "offence == &#39;assault&#39;" in svg or "offence == 'assault'" in svg
    assert f"wrote {target}" in capsys.readouterr().out


def test_without_graphviz_mermaid_is_written_instead(
    flow: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When `dot` is missing, asking for SVG writes Mermaid text next to it and says so."""
    monkeypatch.setattr(_cli_diagram.shutil, "which", lambda name: None)
    target = tmp_path / "flow.svg"
    assert main(["diagram", str(flow), "-o", str(target)]) == 0
    assert not target.exists()
    mermaid = (tmp_path / "flow.mmd").read_text(encoding="utf-8")
    assert mermaid.startswith("flowchart TD")
    assert "Graphviz is not installed" in capsys.readouterr().err


def test_dot_and_stdout_formats(flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A .dot target gets DOT text; no -o prints Mermaid on stdout."""
    target = tmp_path / "flow.dot"
    assert main(["diagram", str(flow), "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith('digraph "concern"')
    capsys.readouterr()
    assert main(["diagram", str(flow)]) == 0
    assert capsys.readouterr().out.startswith("flowchart TD")


def test_broken_workflow_reports_positioned_errors(
    flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workflow that does not load is not drawn: its positioned errors are shown, exit 1."""
    flow.write_text(WORKFLOW.replace("goto: done}", "goto: dnoe}"), encoding="utf-8")
    assert main(["diagram", str(flow), "-o", str(tmp_path / "x.svg")]) == 1
    captured = capsys.readouterr()
    assert "concern.yaml:9:" in captured.out
    assert "'dnoe'" in captured.out
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "missing.yaml", "no such file"),
        (lambda tmp: write(tmp / "elsewhere" / "flow.yaml", WORKFLOW), "not in a department's workflows/"),
    ],
)
def test_bad_paths_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_path: object, message: str
) -> None:
    """A missing file or one outside workflows/ is a usage error (exit 2), not a traceback."""
    path = make_path(tmp_path)  # type: ignore[operator]
    assert main(["diagram", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_output_format(flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An output suffix the command cannot write is refused with the formats it can."""
    assert main(["diagram", str(flow), "-o", str(tmp_path / "flow.png")]) == 2
    assert "use .svg, .dot or .mmd" in capsys.readouterr().err
