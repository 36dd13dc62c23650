"""Each suite's code path runs with tiny counts, and its correctness checks hold (and can fail).

Nothing here asserts a timing: performance is measured by ``python -m bench``, never in tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import _generate, check, expressions, repeats, validation
from bench._expression_cases import CASES, Case
from bench._report import BenchError, Config, SuiteResult
from bench._validation_data import FULL, SUBMISSIONS, Submission
from forms import load_form, load_list

SMOKE = Config.smoke()


def _finite_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def test_every_compiled_expression_agrees_with_its_lambda() -> None:
    """Each case's compiled expression and hand-written lambda give the same value on every input."""
    assert len(CASES) >= 8
    for case in CASES:
        assert expressions.check_agreement(case, expressions.compile_case(case)) > 0


def test_a_lambda_that_disagrees_stops_the_suite() -> None:
    """A reference with different null handling is caught before anything is timed."""
    wrong = Case("wrong", "age >= 18", lambda a: a.get("age") is None or a["age"] >= 18)
    with pytest.raises(BenchError, match="'age >= 18' on input set 1: compiled gave False"):
        expressions.check_agreement(wrong, expressions.compile_case(wrong))


def test_a_lambda_that_crashes_stops_the_suite() -> None:
    """A reference that raises on some input is reported with the input, as a BenchError."""
    wrong = Case("crash", "age >= 18", lambda a: a.get("age", 0) >= 18)
    with pytest.raises(BenchError, match="input set 5: TypeError"):
        expressions.check_agreement(wrong, expressions.compile_case(wrong))


def test_agreement_is_strict_about_types() -> None:
    """1 and True are different answers, even though 1 == True in Python."""
    wrong = Case("typed", "age >= 18", lambda a: int((a.get("age") or 0) >= 18))
    with pytest.raises(BenchError, match="compiled gave"):
        expressions.check_agreement(wrong, expressions.compile_case(wrong))


def test_expressions_suite_runs() -> None:
    """One row per expression plus the geometric mean, with positive ratios and both targets."""
    result = expressions.run(SMOKE)
    assert [row["name"] for row in result.rows] == [c.name for c in CASES] + ["geometric mean"]
    assert all(_finite_positive(row["ratio"]) for row in result.rows)
    assert [t.measure for t in result.targets] == [
        "compiled vs lambda, geometric mean",
        "compiled vs lambda, worst expression",
    ]


def test_validation_verdicts_agree_with_jsonschema() -> None:
    """Every structural submission gets the same verdict from validate and jsonschema; the
    expression-only ones are rejected by validate alone; browser text normalises the same."""
    form, validator = validation.load()
    validation.check_verdicts(form, validator)
    validation.check_browser(form)
    kinds = {(s.valid, s.expression_only) for s in SUBMISSIONS}
    assert kinds == {(True, False), (False, False), (False, True)}


def test_a_wrong_expected_verdict_stops_the_suite() -> None:
    """A submission expected valid that validate rejects is reported, not timed."""
    form, validator = validation.load()
    bad = Submission("bad", {**FULL, "age": 7}, valid=True)
    with pytest.raises(BenchError, match="expected ok=True"):
        validation.check_verdicts(form, validator, [bad])


def test_an_expression_only_claim_is_checked() -> None:
    """A submission claimed to fail only an expression must pass JSON Schema; one that breaks
    the schema too is a mistake in the benchmark data."""
    form, validator = validation.load()
    bad = Submission("bad", {**FULL, "age": 7}, valid=False, expression_only=True)
    with pytest.raises(BenchError, match="jsonschema says"):
        validation.check_verdicts(form, validator, [bad])


def test_validation_suite_runs() -> None:
    """A row per submission, summary rows, browser-text rows, and the speed and verdict targets."""
    result = validation.run(SMOKE)
    names = [row["name"] for row in result.rows]
    assert names[: len(SUBMISSIONS)] == [s.name for s in SUBMISSIONS]
    assert "mix (mean per submission)" in names
    assert sum(row["kind"] == "browser text" for row in result.rows) == sum(s.valid for s in SUBMISSIONS) + 1
    assert all(_finite_positive(row["speedup"]) for row in result.rows)
    assert result.targets[0].goal == ">= 20x faster"


def test_generated_form_has_the_asked_number_of_items(tmp_path: Path) -> None:
    """The generator writes a department whose form loads cleanly with exactly the items asked
    for, about a fifth of them with an expression, choices drawn from the shared list."""
    made = _generate.write_department(tmp_path / "dept", 300, 40)
    lists = {
        _generate.LIST_NAME: load_list(
            (tmp_path / "dept" / "lists" / "offences.csv").read_text("utf-8"), "offences.csv"
        )
    }
    text = (tmp_path / "dept" / "forms" / "big_form.yaml").read_text("utf-8")
    form = load_form(text, "big_form.yaml", lists=lists)
    assert sum(1 for _ in form.items()) == made["fields"] == 300
    assert 0.15 <= made["expressions"] / made["fields"] <= 0.25
    for part in ("choices: offences", "choice_filter:", "type: repeat", "type: group", "type: calculate"):
        assert part in text
    assert len(lists[_generate.LIST_NAME].choices) == 40


def test_check_of_a_broken_department_stops_the_suite(tmp_path: Path) -> None:
    """If `waypost check` finds a problem in the generated folder, the suite fails loudly."""
    _generate.write_department(tmp_path / "dept", 20, 5)
    form = tmp_path / "dept" / "forms" / "big_form.yaml"
    form.write_text(form.read_text("utf-8").replace("type: integer", "type: integr", 1), "utf-8")
    with pytest.raises(BenchError, match="integr"):
        check.check_in_process(tmp_path / "dept")


def test_check_suite_runs() -> None:
    """In-process, subprocess and start-up rows, the phase rows, and both targets."""
    result: SuiteResult = check.run(SMOKE)
    names = [row["name"] for row in result.rows]
    assert names[0] == "subprocess, cold start (waypost check)"
    assert any(name.startswith("phase: YAML load") for name in names)
    assert all(row["cpu_s"] >= 0 for row in result.rows)
    assert len(result.targets) == 2
    assert result.extra["department"]["fields"] == 60


def test_repeat_submissions_are_valid_or_broken_as_asked() -> None:
    """submission(n) is valid with n items; with broken_every=10 every tenth item is out of range."""
    form = load_form(repeats.FORM_YAML, "household.yaml")
    now = repeats.NOW
    good = form.validate(repeats.submission(30), coerce=False, now=now)
    assert good.ok
    assert len(good.answers["people"]) == 30
    broken = form.validate(repeats.submission(30, 10), coerce=False, now=now)
    assert [e.path for e in broken.errors] == [("people", i, "age") for i in (9, 19, 29)]


def test_repeats_suite_runs() -> None:
    """Three sizes for each variant, and one linearity target per variant."""
    result = repeats.run(SMOKE)
    assert [row["items"] for row in result.rows] == [10, 20, 40] * 2
    assert len(result.targets) == 2
    assert all(_finite_positive(t.value) for t in result.targets)
