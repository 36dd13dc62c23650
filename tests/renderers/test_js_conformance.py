"""The browser runtime (renderers/static/js/10-expr.js) passes every shared conformance case.

Each `expect` case of tests/conformance/expressions.yaml is compiled by the Python dsl exactly as
tests/dsl/test_conformance.py does; its IR, answers (as normalised JSON), field types and clock go
to one node process that evaluates them all with the JavaScript runtime, and each result must
equal the expected value by the Python runner's strict rules (types matter, datetimes compare as
instants). Error cases are compile-time only: the browser never sees them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from dsl import Env, compile_expression, compile_template
from dsl._types import Scope
from renderers._html import _minify
from tests.dsl.test_conformance import (
    CASES,
    DEFAULT_NOW,
    compile_case,
    expected_value,
    parse_datetime,
    record_type,
    record_value,
    same,
)

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "renderers" / "static" / "js" / "10-expr.js"
RUNNER = Path(__file__).resolve().parent / "js" / "run_cases.js"
NODE = shutil.which("node") or "/usr/bin/node"
EXPECT_CASES = [case for case in CASES if "expect" in case]


def answer_json(value: Any) -> Any:
    """A runtime answer as normalised JSON (what forms send): ISO dates, times and datetimes."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, Mapping):
        return {k: answer_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [answer_json(v) for v in value]
    return value


def run_node(cases: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Evaluate ``cases`` ({ir, fields, answers, now}) in one node process; tagged results.

    The runtime runs minified exactly as the web app serves it in its bundle, so the tests
    cover what tablets receive, not only the source.
    """
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "cases.json"
        batch.write_text(json.dumps(list(cases)), encoding="utf-8")
        served = Path(tmp) / "expr.min.js"
        served.write_text(_minify("js", RUNTIME.read_text(encoding="utf-8")), encoding="utf-8")
        done = subprocess.run(
            [NODE, str(RUNNER), str(served), str(batch)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert isinstance(results, list)
    assert len(results) == len(cases)
    return results


def field_types(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The case's `fields` with the type names the runtime's fromJson knows (lists are mapped)."""
    names = {"list_text": "text", "list_number": "number", "list_attachment": "attachment"}
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if isinstance(spec, str):
            out[name] = names.get(spec, spec)
        else:
            ((kind, members),) = spec.items()
            out[name] = {kind: field_types(members)}
    return out


@cache
def conformance_results() -> tuple[Any, ...]:
    """Every expect case evaluated by the JavaScript runtime, in file order (one node run)."""
    batch = []
    for case in EXPECT_CASES:
        compiled, frame = compile_case(case)
        answers = record_value(case.get("answers") or {}, frame)
        batch.append(
            {
                "ir": compiled.ir,
                "fields": field_types(case.get("fields") or {}),
                "answers": answer_json(answers),
                "now": parse_datetime(case.get("now", DEFAULT_NOW)).isoformat(),
            }
        )
    return tuple(run_node(batch))


def test_every_expect_case_is_run() -> None:
    """No case is filtered out beyond the compile-error ones, and there are hundreds of them."""
    assert len(EXPECT_CASES) == len([c for c in CASES if "error" not in c])
    assert len(EXPECT_CASES) >= 500
    assert len(conformance_results()) == len(EXPECT_CASES)


@pytest.mark.parametrize(
    "index", [pytest.param(i, id=str(case["expr"])) for i, case in enumerate(EXPECT_CASES)]
)
def test_javascript_runtime_agrees(index: int) -> None:
    """The runtime gives the expected value, with the expected type."""
    case = EXPECT_CASES[index]
    raw = conformance_results()[index]
    actual = expected_value(raw)
    expected = expected_value(case["expect"])
    assert same(actual, expected), (
        f"{case['expr']!r} (answers {case.get('answers')!r}, now {case.get('now', DEFAULT_NOW)}): "
        f"JavaScript gave {raw!r}, expected {case['expect']!r}"
    )


def test_comparison_catches_a_wrong_type() -> None:
    """The decoding of JavaScript results keeps types: a date is not text, 1 is not true."""
    assert not same(expected_value({"$date": "2024-01-31"}), "2024-01-31")
    assert not same(expected_value(True), 1)
    assert not same(expected_value({"$error": "boom"}), None)
    assert same(
        expected_value({"$datetime": "2024-07-01T10:30:00+01:00"}), parse_datetime("2024-07-01T09:30Z")
    )


# --- beyond the case file: templates, clocks, Unicode, regex dialects, JSON conversion ---------------

FIELDS = {"name": "text", "n": "number", "d": "date", "at": "time", "when": "datetime", "tags": "list_text"}
SCOPE = Scope.of(record_type(FIELDS))
NOW = dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC)
ANSWERS: list[dict[str, Any]] = [
    {},
    {
        "name": "Ann",
        "n": 7,
        "d": dt.date(2024, 2, 29),
        "at": dt.time(9, 5),
        "when": dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC),
        "tags": ["a", "b"],
    },
    {
        "name": "Ŵyn 😀 émile",
        "n": -0.5,
        "d": dt.date(1, 1, 1),
        "at": dt.time(23, 59, 30),
        "when": dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC),
        "tags": [],
    },
]


def compare_with_python(sources: Sequence[str], *, template: bool = False) -> None:
    """Each source, with each set of answers, gives the same value in JavaScript as in Python."""
    batch, wanted, labels = [], [], []
    for source in sources:
        compiled = compile_template(source, SCOPE) if template else compile_expression(source, SCOPE)
        for answers in ANSWERS:
            wanted.append(compiled(Env.of(answers, now=NOW)))
            labels.append((source, answers))
            batch.append(
                {"ir": compiled.ir, "fields": FIELDS, "answers": answer_json(answers), "now": NOW.isoformat()}
            )
    got = run_node(batch)
    wrong = [
        (label, js, py)
        for label, js, py in zip(labels, got, wanted, strict=True)
        if not same(expected_value(js), py)
    ]
    assert wrong == []


TEMPLATES = [
    "Hello {{ name }}!",
    "{{ n }} / 3 = {{ n / 3 }}; {{ n > 2 }}; {{ d }} {{ at }} {{ when }}",
    "{{ tags }} ({{ count(tags) }}) {{ '{{' }} literal",
    "due {{ format_date(add_days(d, 28), 'dddd D MMMM YYYY') }} at {{ hour(when) }}h",
    "no holes at all",
    "{{ round(n * 1.005, 2) }} {{ 1 / 100000 }} {{ 3 / 20000000 }} {{ -0.0 }} {{ 1 / 3 }} {{ n * 1000000 }}",
]


def test_templates_render_as_in_python() -> None:
    """Templates render the same text, numbers, dates and datetimes (in London time) as Python."""
    compare_with_python(TEMPLATES, template=True)


EXPRESSIONS = [
    # Regular expressions: Python's re.ASCII dialect, translated where JavaScript reads otherwise.
    "matches('a\u00a0b', '^a\\sb$')",
    "matches('a b', '^a\\sb$')",
    "matches('x\u00a0y', '^x\\Sy$')",
    "matches('x\u00a0y', '^x[\\S]y$')",
    "matches('ab\\n', '^ab$')",
    "matches('a\u2028b', '^a.b$')",
    "matches('a\\nb', '^a.b$')",
    "matches('a\u2028b\\n', '^a.b$')",
    "matches('😀', '^.$')",
    "matches('a-b', '^a\\-b$')",
    "matches('a.b', '^a[.]b$')",
    "matches('ab', '^a[^\\s]$')",
    "matches(name, '^[A-Z]\\w+$')",
    "matches(name, '(\\w)\\1')",
    # Text: code points, Unicode case and Python's whitespace.
    "'\uffff' < '😀'",
    "'é' > 'z'",
    "len('e\u0301')",
    "substr('😀😀😀', 1, 1)",
    "substr(name, 2, 3)",
    "split('a😀b', '')",
    "split(name, ' ')",
    "trim('\u3000x\u00a0')",
    "trim('\u001fx')",
    "upper('ﬁx straße')",
    "lower('ΣΑΣ')",
    "initials('émile  zola-smith 3d')",
    "initials(name)",
    "number(' -0.50 ')",
    "number('+1')",
    "number('1.')",
    "replace('aXbXc', 'X', '')",
    "join(tags, ' & ')",
    "concat(name, null, 'x')",
    "contains(name, '😀')",
    # Numbers.
    "round(0.045, 2)",
    "round(-0.0001, 2)",
    "round(123456789.125, 2)",
    "round(99.99, 1)",
    "round(n, -1)",
    "round(n / 3, 15)",
    "round(5.5, -1)",
    "-7.5 % 2",
    "7.5 % -2",
    "(0 - 1 / 3) % 3",
    "n % 0.3",
    "sum([0.1, 0.2, 0.3])",
    "int(n)",
    "text(int(-0.5))",
    "text(n / 7)",
    "max(n, 2, -3)",
    "min([n, null])",
    # Dates, times and datetimes.
    "years_between(@2024-02-29T12:00, @2025-03-01)",
    "years_between(d, today())",
    "months_between(@2024-03-31, @2024-02-29)",
    "months_between(d, @2024-04-30)",
    "add_months(@2024-01-31, -13)",
    "add_years(d, 7975)",
    "add_years(d, 7976)",
    "add_days(@0001-01-01, -1)",
    "add_days(d, n)",
    "format_date(when, 'dddd D MMM YY [at] HH:mm')",
    "format_date(d, 'YYYY-MM-DD HH:mm')",
    "hour(when)",
    "minute(at)",
    "weekday(when)",
    "day(when)",
    "date(when)",
    "days_between(when, now())",
    "hours_between(now(), when)",
    "add_hours(when, n)",
    "add_minutes(when, 0.1)",
    "max(when, now())",
    "min(@10:00, at)",
    "[@10:00, at] == [@10:00, @09:05]",
    "date(' 2024-02-29 ')",
    "date('2024-02-30')",
    "text(when)",
    "text([d, d])",
    "at > @09:05:00",
    # UK formats.
    "is_email('josé@exämple.com')",
    "is_email('a@b.123')",
    "is_email(name)",
    "is_uk_phone('+44 (0)20 7946 0958')",
    "is_uk_phone('07700\u00a0900123')",
    "is_postcode('gir0aa')",
    "format_postcode(name)",
    # Logic and null rules over answers that may be missing.
    "coalesce(null, n, 3)",
    "if(n > 3, 'big', null)",
    "name + 'x'",
    "n ?? 0",
    "tags == []",
    "'a' in tags",
    "not (n > 0)",
]


def test_edge_expressions_agree_with_python() -> None:
    """Edges the case file does not pin: Python's regex dialect, Unicode, rounding, calendars."""
    compare_with_python(EXPRESSIONS)


CLOCK_CASES = [
    ("today()", "2026-03-29T00:59:59Z"),
    ("now()", "2026-10-25T01:30:00+01:00"),
    ("text(now())", "2026-10-25T01:30:00+00:00"),
    ("hour(now())", "1847-11-30T23:00:00Z"),
    ("text(now())", "1847-11-30T23:59:00Z"),
    ("days_between(now(), @2026-03-30T00:00)", "2026-03-28T00:00:00Z"),
    ("add_minutes(now(), 0.5)", "2026-03-29T00:59:45Z"),
    ("date(now())", "9999-12-31T23:30:00Z"),
]


@pytest.mark.parametrize(("source", "now"), CLOCK_CASES)
def test_clock_edges_agree(source: str, now: str) -> None:
    """Around clock changes, before railway time (1847) and at the end of the calendar."""
    compiled = compile_expression(source, SCOPE)
    moment = parse_datetime(now)
    want = compiled(Env.of({}, now=moment))
    (got,) = run_node([{"ir": compiled.ir, "fields": {}, "answers": {}, "now": moment.isoformat()}])
    assert same(expected_value(got), want), (source, now, got, want)


JSON_VALUES = [
    ("2024-02-29", "date", {"$date": "2024-02-29"}),
    ("2023-02-29", "date", None),
    ("0000-01-01", "date", None),
    ("10:05", "time", {"$time": "10:05"}),
    ("10:05:09", "time", {"$time": "10:05:09"}),
    ("24:00", "time", None),
    ("2024-07-01T10:30:00+01:00", "datetime", {"$datetime": "2024-07-01T10:30:00+01:00"}),
    ("2024-01-31T10:30:00Z", "datetime", {"$datetime": "2024-01-31T10:30:00+00:00"}),
    ("2024-07-01T10:30", "datetime", {"$datetime": "2024-07-01T10:30:00+01:00"}),
    ("2026-03-29T01:30", "datetime", {"$datetime": "2026-03-29T02:30:00+01:00"}),
    ("2026-10-25T01:30", "datetime", {"$datetime": "2026-10-25T01:30:00+01:00"}),
    ("2024-07-01T10:30:00.250+01:00", "datetime", {"$datetime": "2024-07-01T10:30:00.250000+01:00"}),
    ("1800-01-01T12:00:00-00:01:15", "datetime", {"$datetime": "1800-01-01T12:00:00-00:01:15"}),
    ("not a date", "datetime", None),
    (["2024-01-01", "2024-01-02"], "date", [{"$date": "2024-01-01"}, {"$date": "2024-01-02"}]),
    ("2024-01-01", "text", "2024-01-01"),
    ({"lat": 1.5, "lon": -2}, "geopoint", {"lat": 1.5, "lon": -2}),
]


def test_from_json_and_back() -> None:
    """fromJson reads each normalised JSON form (bad text gives null) and toJson writes it back
    in London time, as Python's isoformat writes a London datetime (a wall-clock time the clocks
    skip or repeat takes the offset from before the change, like zoneinfo's fold=0)."""
    batch = [
        {"ir": ["ref", 0, ["v"]], "fields": {"v": kind}, "answers": {"v": value}, "now": DEFAULT_NOW}
        for value, kind, _ in JSON_VALUES
    ]
    assert run_node(batch) == [want for _, _, want in JSON_VALUES]
    skipped = dt.datetime(2026, 3, 29, 1, 30, tzinfo=parse_datetime("2026-01-01T00:00").tzinfo)
    assert skipped.astimezone(dt.UTC).isoformat() == "2026-03-29T01:30:00+00:00"


def test_unknown_node_is_an_error_not_a_wrong_value() -> None:
    """An IR from a newer server fails loudly instead of evaluating to something plausible."""
    (result,) = run_node([{"ir": ["frobnicate", 1], "fields": {}, "answers": {}, "now": DEFAULT_NOW}])
    assert "unknown IR frobnicate" in result["$error"]
    (result,) = run_node([{"ir": ["call", "frobnicate"], "fields": {}, "answers": {}, "now": DEFAULT_NOW}])
    assert "unknown IR call frobnicate" in result["$error"]


def test_wrong_answer_shapes_give_null_not_an_exception() -> None:
    """An answer of the wrong JSON shape (a number for a text) behaves as dsl/ does: null or false."""
    compiled = [compile_expression(s, SCOPE) for s in ("upper(name)", "contains(name, 'a')", "hour(at)")]
    answers = {"name": 12, "at": "noon"}
    batch = [{"ir": c.ir, "fields": {}, "answers": answers, "now": DEFAULT_NOW} for c in compiled]
    assert run_node(batch) == [c(Env.of(answers)) for c in compiled] == [None, False, None]


def test_runtime_has_no_dynamic_code() -> None:
    """Nothing in the runtime turns text into code: no eval, no Function constructor."""
    source = RUNTIME.read_text(encoding="utf-8")
    for banned in ("eval(", "new Function", "Function(", "setTimeout(", "setInterval("):
        assert banned not in source, banned


def test_runtime_is_small() -> None:
    """The runtime stays inside its share of the page budget (20 KB gzip for everything)."""
    size = len(gzip.compress(RUNTIME.read_bytes(), compresslevel=9))
    assert size <= 8 * 1024, size
