"""Suite ``expressions``: compiled expressions against equivalent hand-written Python lambdas.

Target (DESIGN.md section 8): a compiled expression is at most 2x slower than the lambda, per
expression and as the geometric mean. Both sides run over the same answer sets; the compiled
one receives a :class:`dsl.Env` (as the engine calls it), the lambda the answers dict. The cost
of the ``for`` loop that feeds them is timed on its own and subtracted from both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench._expression_cases import CASES, INPUTS, NOW, SCOPE, Case
from bench._report import BenchError, Column, Config, SuiteResult, Target
from bench._timing import Ratio, calibrate, geometric_mean, interleaved, make_timer
from dsl import CompiledExpression, CompiledTemplate, Env, compile_expression, compile_template

GOAL = 2.0
_LOOP = "for x in xs: f(x)"

COLUMNS = (
    Column("name", "expression"),
    Column("compiled_ns", "compiled ns", ".0f"),
    Column("lambda_ns", "lambda ns", ".0f"),
    Column("ratio", "ratio", ".2f"),
    Column("ratio_low", "low", ".2f"),
    Column("ratio_high", "high", ".2f"),
    Column("verdict", "<= 2x"),
    Column("closure_ns", "closure ns", ".0f"),
    Column("closure_ratio", "closure ratio", ".2f"),
)


def compile_case(case: Case) -> CompiledExpression | CompiledTemplate:
    """The compiled closure of ``case`` (an expression or a template)."""
    if case.template:
        return compile_template(case.source, SCOPE)
    return compile_expression(case.source, SCOPE)


def _same(a: Any, b: Any) -> bool:
    # Strict: 1 and True, or 1 and 1.0, would be equal to == but are different answers.
    return type(a) is type(b) and a == b


def check_agreement(case: Case, compiled: Callable[[Env], Any]) -> int:
    """Compare the compiled expression with its lambda on every input; raise on a difference."""
    for index, answers in enumerate(INPUTS):
        try:
            got = compiled(Env.of(answers, now=NOW))
            want = case.reference(answers)
        except Exception as exc:  # a crash on one side is a broken benchmark: say which input
            raise BenchError(f"expression {case.source!r} on input set {index}: {exc!r}") from exc
        if not _same(got, want):
            raise BenchError(
                f"expression {case.source!r} on input set {index}: compiled gave {got!r}, "
                f"the reference lambda gave {want!r}"
            )
    return len(INPUTS)


def measure(case: Case, config: Config) -> dict[str, Any]:
    """Time one case: compiled, lambda and the bare loop, interleaved."""
    compiled = compile_case(case)
    check_agreement(case, compiled)
    envs = [Env.of(answers, now=NOW) for answers in INPUTS]
    plain = list(INPUTS)
    timers = {
        "compiled": make_timer(_LOOP, {"f": compiled, "xs": envs}),
        "lambda": make_timer(_LOOP, {"f": case.reference, "xs": plain}),
        # The bare closure inside the CompiledExpression: shows what calling the object adds.
        "closure": make_timer(_LOOP, {"f": _closure_of(compiled), "xs": envs}),
        "loop": make_timer("for x in xs: pass", {"xs": plain}),
    }
    number = 2 if config.quick else calibrate(timers["compiled"], config.min_time)
    samples = interleaved(timers, number, config.rounds)
    per_call = len(INPUTS)
    loop = samples["loop"].best
    ours = samples["compiled"].minus(loop)
    theirs = samples["lambda"].minus(loop)
    bare = samples["closure"].minus(loop)
    ratio = Ratio.of(ours, theirs)
    return {
        "name": case.name,
        "source": case.source,
        "compiled_ns": ours.best / per_call * 1e9,
        "lambda_ns": theirs.best / per_call * 1e9,
        "ratio": ratio.best,
        "ratio_low": ratio.low,
        "ratio_median": ratio.median,
        "ratio_high": ratio.high,
        "compiled_spread": ours.spread,
        "lambda_spread": theirs.spread,
        "inputs_checked": len(INPUTS),
        "verdict": "met" if ratio.best <= GOAL else "MISSED",
        "closure_ns": bare.best / per_call * 1e9,
        "closure_ratio": Ratio.of(bare, theirs).best,
    }


def _closure_of(compiled: CompiledExpression | CompiledTemplate) -> Callable[[Env], Any]:
    # CompiledExpression keeps its closure in an instance slot named __call__; reading the
    # attribute gives the plain function, called without the slot lookup.
    return compiled.__call__


def run(config: Config) -> SuiteResult:
    """Run the suite: one row per expression, then the geometric mean."""
    result = SuiteResult("expressions", "compiled expressions vs hand-written lambdas", COLUMNS)
    for case in CASES:
        result.rows.append(measure(case, config))
    ratios = [row["ratio"] for row in result.rows]
    mean = geometric_mean(ratios)
    result.rows.append(
        {
            "name": "geometric mean",
            "ratio": mean,
            "ratio_low": geometric_mean([row["ratio_low"] for row in result.rows]),
            "ratio_high": geometric_mean([row["ratio_high"] for row in result.rows]),
            "verdict": "met" if mean <= GOAL else "MISSED",
        }
    )
    worst = max(result.rows[:-1], key=lambda row: row["ratio"])
    missed = [row["name"] for row in result.rows[:-1] if row["ratio"] > GOAL]
    result.targets.append(
        Target("compiled vs lambda, geometric mean", f"<= {GOAL:g}x", mean, "x", mean <= GOAL)
    )
    result.targets.append(
        Target(
            "compiled vs lambda, worst expression",
            f"<= {GOAL:g}x",
            worst["ratio"],
            "x",
            not missed,
            f"{worst['name']}" + (f"; over target: {', '.join(missed)}" if missed else ""),
        )
    )
    result.notes.append(
        f"{len(CASES)} expressions x {len(INPUTS)} answer sets; every compiled value equals the lambda's; "
        "ratio = best compiled / best lambda (loop cost subtracted), low/high = range of per-round ratios"
    )
    return result


__all__ = ["CASES", "GOAL", "check_agreement", "compile_case", "measure", "run"]
