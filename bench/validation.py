"""Suite ``validation``: ``Form.validate(coerce=False)`` against jsonschema on the exported schema.

Target (DESIGN.md section 8): at least 20x faster than a reused
``jsonschema.Draft202012Validator(form.json_schema())`` listing every error with ``iter_errors``,
with the same verdict on every submission. Submissions that break only an expression (a
constraint, ``required`` under a relevance condition) are rejected by us and accepted by JSON
Schema by design; the suite checks that too. It also times ``validate(coerce=True)`` on what a
browser posts (all text), which has no JSON Schema counterpart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jsonschema

from bench._profile import by_area, describe, profile, top_functions
from bench._report import BenchError, Column, Config, SuiteResult, Target
from bench._timing import Samples, calibrate, interleaved, make_timer
from bench._validation_data import FORM_YAML, NOW, SUBMISSIONS, Submission, browser
from forms import Form, ValidationResult, load_form

GOAL = 20.0

COLUMNS = (
    Column("name", "submission"),
    Column("kind", "kind"),
    Column("errors", "errors"),
    Column("ours_us", "ours µs", ".1f"),
    Column("jsonschema_us", "jsonschema µs", ".1f"),
    Column("speedup", "speedup", ".1f"),
    Column("spread", "noise", ".0%"),
)


def load() -> tuple[Form, jsonschema.Draft202012Validator]:
    """The form, and the validator built once from its JSON Schema (reused, as a service would)."""
    form = load_form(FORM_YAML, "stop_search.yaml")
    schema = form.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return form, jsonschema.Draft202012Validator(schema)


def _ours(form: Form, coerce: bool) -> Callable[[dict[str, Any]], ValidationResult]:
    def validate(answers: dict[str, Any]) -> ValidationResult:
        return form.validate(answers, coerce=coerce, now=NOW)

    return validate


def _theirs(validator: jsonschema.Draft202012Validator) -> Callable[[dict[str, Any]], list[Any]]:
    def validate(answers: dict[str, Any]) -> list[Any]:
        return list(validator.iter_errors(answers))

    return validate


def check_verdicts(
    form: Form, validator: jsonschema.Draft202012Validator, submissions: Sequence[Submission] = SUBMISSIONS
) -> None:
    """Every submission gets its expected verdict from us, and the same one from JSON Schema
    unless it breaks only an expression (then JSON Schema accepts it). Raises on a difference."""
    for sub in submissions:
        ours = form.validate(sub.answers, coerce=False, now=NOW)
        theirs = list(validator.iter_errors(sub.answers))
        schema_ok = not theirs
        if ours.ok != sub.valid:
            raise BenchError(
                f"submission {sub.name!r}: expected ok={sub.valid}, validate gave {ours.errors!r}"
            )
        expected_schema = sub.valid or sub.expression_only
        if schema_ok != expected_schema:
            detail = [e.message for e in theirs][:3]
            raise BenchError(
                f"submission {sub.name!r}: validate says ok={ours.ok} but jsonschema says "
                f"ok={schema_ok} {detail}"
            )
        if sub.expression_only and not any(e.code in ("constraint", "required") for e in ours.errors):
            raise BenchError(f"submission {sub.name!r} should fail only an expression: {ours.errors!r}")


def check_browser(form: Form, submissions: Sequence[Submission] = SUBMISSIONS) -> None:
    """A valid submission posted as browser text normalises to the same answers as its JSON."""
    for sub in submissions:
        if not sub.valid:
            continue
        typed = form.validate(sub.answers, coerce=False, now=NOW)
        posted = form.validate(browser(sub.answers), coerce=True, now=NOW)
        if not posted.ok or posted.answers != typed.answers:
            raise BenchError(
                f"submission {sub.name!r} as browser text: ok={posted.ok}, errors={posted.errors!r}, "
                f"answers differ: {posted.answers != typed.answers}"
            )


def _time_pair(
    ours: Callable[[], object], theirs: Callable[[], object], config: Config
) -> tuple[Samples, Samples]:
    timers = {"ours": make_timer(ours), "theirs": make_timer(theirs)}
    number = 2 if config.quick else calibrate(timers["theirs"], config.min_time)
    samples = interleaved(timers, number, config.rounds)
    return samples["ours"], samples["theirs"]


def _validate_all(validate: Callable[[dict[str, Any]], ValidationResult], times: int) -> None:
    for _ in range(times):
        for sub in SUBMISSIONS:
            validate(sub.answers)


def _row(sub: Submission, errors: int, ours: Samples, theirs: Samples, kind: str) -> dict[str, Any]:
    return {
        "name": sub.name,
        "kind": kind,
        "errors": errors,
        "ours_us": ours.best * 1e6,
        "jsonschema_us": theirs.best * 1e6,
        "speedup": theirs.best / ours.best if ours.best > 0 else float("inf"),
        "spread": max(ours.spread, theirs.spread),
        "ours_median_us": ours.median * 1e6,
        "jsonschema_median_us": theirs.median * 1e6,
    }


def _summary(name: str, rows: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    ours = sum(r["ours_us"] for r in rows)
    theirs = sum(r["jsonschema_us"] for r in rows)
    return {
        "name": name,
        "kind": kind,
        "ours_us": ours / len(rows),
        "jsonschema_us": theirs / len(rows),
        "speedup": theirs / ours if ours > 0 else float("inf"),
    }


def run(config: Config) -> SuiteResult:
    """Run the suite: one row per submission, the mix, then the browser-text rows."""
    form, validator = load()
    check_verdicts(form, validator)
    check_browser(form)
    result = SuiteResult("validation", "Form.validate vs jsonschema (30-field form)", COLUMNS)
    strict, lenient, schema = _ours(form, False), _ours(form, True), _theirs(validator)
    for sub in SUBMISSIONS:
        ours, theirs = _time_pair(partial(strict, sub.answers), partial(schema, sub.answers), config)
        kind = "valid" if sub.valid else ("expression" if sub.expression_only else "invalid")
        errors = len(form.validate(sub.answers, coerce=False, now=NOW).errors)
        result.rows.append(_row(sub, errors, ours, theirs, kind))
    json_rows = list(result.rows)
    mix = _summary("mix (mean per submission)", json_rows, "all")
    result.rows.append(mix)
    structural = [r for r in json_rows if r["kind"] != "expression"]
    for kind in ("valid", "invalid"):
        result.rows.append(_summary(f"{kind} (mean)", [r for r in structural if r["kind"] == kind], kind))
    browser_rows = []
    for sub in SUBMISSIONS:
        if not sub.valid:
            continue
        posted = browser(sub.answers)
        ours, theirs = _time_pair(partial(lenient, posted), partial(schema, sub.answers), config)
        browser_rows.append(_row(sub, 0, ours, theirs, "browser text"))
    result.rows.extend(browser_rows)
    result.rows.append(_summary("browser text (mean)", browser_rows, "browser text"))
    worst = min(json_rows, key=lambda r: r["speedup"])
    result.targets.append(
        Target(
            "validate(coerce=False) vs jsonschema iter_errors, whole mix",
            f">= {GOAL:g}x faster",
            mix["speedup"],
            "x",
            mix["speedup"] >= GOAL,
            f"slowest case {worst['name']!r} at {worst['speedup']:.1f}x",
        )
    )
    result.targets.append(
        Target("same verdict as jsonschema (structural submissions)", "all", len(structural), " agree", True)
    )
    result.notes.append(
        f"{len(SUBMISSIONS)} submissions: {sum(s.valid for s in SUBMISSIONS)} valid, "
        f"{sum(not s.valid and not s.expression_only for s in SUBMISSIONS)} invalid, "
        f"{sum(s.expression_only for s in SUBMISSIONS)} invalid only by an expression "
        "(JSON Schema accepts those by design; checked)"
    )
    result.notes.append(
        "browser text rows: validate(coerce=True) on posted text vs jsonschema on the typed JSON "
        "(JSON Schema cannot read browser text; the comparison is for scale only)"
    )
    result.notes.append(
        "speedup = best jsonschema time / best validate time; noise = (slowest - fastest) / fastest round"
    )
    if mix["speedup"] < GOAL:
        stats = profile(partial(_validate_all, strict, 1 if config.quick else 200))
        result.extra["profile_by_area"] = by_area(stats)
        result.extra["profile_top"] = top_functions(stats, 20)
        result.notes.extend(describe(stats, 10))
    return result


__all__ = ["GOAL", "check_browser", "check_verdicts", "load", "run"]
