"""``python -m bench``: suite selection, the JSON results and the registry's hygiene."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import SUITES, main
from bench._cli import EXIT_OK, EXIT_USAGE

ROOT = Path(__file__).resolve().parent.parent.parent


def test_list_names_every_suite() -> None:
    """--list prints one line per registered suite, in running order."""
    out = io.StringIO()
    assert main(["--list"], out) == EXIT_OK
    assert [line.split()[0] for line in out.getvalue().splitlines()] == list(SUITES)


def test_unknown_suite_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown suite name exits 2 and names the known suites."""
    assert main(["expresions"], io.StringIO()) == EXIT_USAGE
    assert "unknown suite 'expresions'" in capsys.readouterr().err


def test_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse errors come back as exit status 2 instead of leaving the process."""
    assert main(["--rounds", "many"], io.StringIO()) == EXIT_USAGE
    assert "invalid int value" in capsys.readouterr().err


def test_one_suite_writes_its_json(tmp_path: Path) -> None:
    """Running one suite prints its table and writes <out>/<suite>.json with rows and targets."""
    out = io.StringIO()
    assert main(["expressions", "--quick", "--out", str(tmp_path)], out) == EXIT_OK
    assert "== expressions:" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["expressions.json"]
    data = json.loads((tmp_path / "expressions.json").read_text("utf-8"))
    assert data["suite"] == "expressions"
    assert data["config"]["quick"] is True
    assert data["command"].endswith(f"-m bench expressions --quick --out {tmp_path}")
    assert data["machine"]["cpus"] >= 1
    assert {t["measure"] for t in data["targets"]} >= {"compiled vs lambda, geometric mean"}
    assert isinstance(data["all_targets_met"], bool)


def test_every_suite_has_a_run_function_and_a_docs_section() -> None:
    """A registered suite imports, has run(config), and docs/performance.md explains it."""
    docs = (ROOT / "docs" / "performance.md").read_text("utf-8")
    for name, suite in SUITES.items():
        assert callable(suite.runner())
        assert f"python -m bench {name}" in docs, f"docs/performance.md does not describe suite {name}"
