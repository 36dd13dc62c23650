"""The shared conformance cases (tests/conformance/expressions.yaml) run against the Python compiler.

The same file is run by the browser runtime's tests, so the two evaluators cannot drift apart. The
case format is described in tests/conformance/README.md; this module is its reference runner.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from dsl import DefinitionError, Env, Position, Source, compile_expression, default_library
from dsl._types import (
    ATTACHMENT,
    BOOLEAN,
    DATE,
    DATETIME,
    GEOPOINT,
    NULL,
    NUMBER,
    TEXT,
    TIME,
    Kind,
    RecordType,
    Scope,
    Symbol,
    Type,
    list_of,
    record,
    repeat,
)

CASES_FILE = Path(__file__).resolve().parents[1] / "conformance" / "expressions.yaml"
DEFAULT_NOW = "2026-06-15T09:30:00Z"
LONDON = ZoneInfo("Europe/London")
CASE_KEYS = frozenset({"expr", "fields", "answers", "now", "expect", "error", "as", "at", "note"})

SIMPLE_TYPES: dict[str, Type] = {
    "text": TEXT,
    "number": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
    "time": TIME,
    "datetime": DATETIME,
    "geopoint": GEOPOINT,
    "attachment": ATTACHMENT,
    "list_text": list_of(TEXT),
    "list_number": list_of(NUMBER),
    "list_attachment": list_of(ATTACHMENT),
}


# --- reading cases ---------------------------------------------------------------------------------


def load_cases() -> list[dict[str, Any]]:
    """Every case of the conformance file, in file order."""
    document = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    cases = document["cases"]
    assert isinstance(cases, list)
    return cases


CASES = load_cases()


def case_id(case: dict[str, Any]) -> str:
    """The expression is the test id (pytest numbers duplicates); blank expressions are quoted."""
    expr = str(case.get("expr", ""))
    return expr if expr.strip() else repr(expr)


def field_type(spec: Any) -> Type:
    """The expression type of a `fields` entry: a type name, {group: {...}} or {repeat: {...}}."""
    if isinstance(spec, str):
        return SIMPLE_TYPES[spec]
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, members),) = spec.items()
        if kind == "group":
            return record(record_type(members))
        if kind == "repeat":
            return repeat(record_type(members))
    raise ValueError(f"bad field spec {spec!r}")


def record_type(fields: Mapping[str, Any]) -> RecordType:
    """A record of symbols; a member's path is relative to its own record, as in the contract."""
    return RecordType.of({name: Symbol(name, field_type(spec), (name,)) for name, spec in fields.items()})


def parse_datetime(value: Any) -> dt.datetime:
    """An aware datetime from ISO text (or a YAML timestamp); no offset means London local time."""
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=LONDON)


def answer_value(value: Any, t: Type) -> Any:
    """Convert a YAML answer to the runtime Python value of type ``t`` (times and datetimes are text)."""
    if value is None:
        return None
    if t.kind is Kind.TIME and isinstance(value, str):
        return dt.time.fromisoformat(value)
    if t.kind is Kind.DATETIME:
        return parse_datetime(value)
    if t.kind is Kind.DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if t.kind is Kind.RECORD and isinstance(value, dict) and t.record is not None:
        return record_value(value, t.record)
    if t.kind is Kind.LIST and isinstance(value, list) and t.item is not None:
        return [answer_value(item, t.item) for item in value]
    return value


def record_value(values: Mapping[str, Any], rtype: RecordType) -> dict[str, Any]:
    """Convert every known key of an answers mapping; unknown keys pass through unchanged."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        symbol = rtype.get(key)
        out[key] = answer_value(value, symbol.type) if symbol is not None else value
    return out


def expected_value(value: Any) -> Any:
    """Decode the tagged values {$date: ..}, {$time: ..} and {$datetime: ..} of `expect`."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, text),) = value.items()
            if key == "$date":
                return dt.date.fromisoformat(text)
            if key == "$time":
                return dt.time.fromisoformat(text)
            if key == "$datetime":
                return parse_datetime(text)
        return {k: expected_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expected_value(v) for v in value]
    return value


def same(actual: Any, expected: Any) -> bool:
    """Equal in value and in type: a bool is not a number, a datetime is not a date."""
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual is expected
    if isinstance(expected, int | float):
        return (
            isinstance(actual, int | float)
            and not isinstance(actual, bool)
            and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, dt.datetime):
        return isinstance(actual, dt.datetime) and actual.utcoffset() is not None and actual == expected
    if isinstance(expected, dt.date):
        return type(actual) is dt.date and actual == expected
    if isinstance(expected, dt.time):
        return type(actual) is dt.time and actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, Mapping)
            and set(actual) == set(expected)
            and all(same(actual[k], v) for k, v in expected.items())
        )
    raise TypeError(f"unsupported expected value {expected!r}")


def type_of_value(value: Any) -> Type:
    """The static type a runtime value belongs to (lists typed by their first non-null item)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    if isinstance(value, list):
        items = [type_of_value(v) for v in value if v is not None]
        return list_of(items[0]) if items else Type(Kind.LIST)
    return Type(Kind.ANY)


def field_names(fields: Mapping[str, Any]) -> set[str]:
    """Every name declared in `fields`, members of groups and repeats included."""
    names = set(fields)
    for spec in fields.values():
        if isinstance(spec, dict):
            for members in spec.values():
                names |= field_names(members)
    return names


_NOT_NAMES = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|@[\w:+\-.]*")


def top_level_names(expr: str, fields: Mapping[str, Any]) -> set[str]:
    """The top-level fields an expression names outside text and date literals (not as functions)."""
    code = _NOT_NAMES.sub(" ", expr)
    return {name for name in fields if re.search(rf"(?<![\w.]){name}\b(?!\s*\()", code)}


def compile_case(case: dict[str, Any]) -> tuple[Any, RecordType]:
    """Compile a case's expression in a one-frame scope built from its `fields`."""
    expr = case["expr"]
    frame = record_type(case.get("fields") or {})
    want = SIMPLE_TYPES[case["as"]] if "as" in case else None
    base = Position(Source("<case>", expr), 1, 1)
    compiled = compile_expression(expr, Scope.of(frame), position=base, expect=want)
    return compiled, frame


# --- the cases ---------------------------------------------------------------------------------------


def test_case_file_is_large_and_well_formed() -> None:
    """The file holds at least 200 cases; each has an expression and exactly one of expect/error."""
    assert len(CASES) >= 200
    for case in CASES:
        assert set(case) <= CASE_KEYS, case
        assert isinstance(case.get("expr"), str), case
        assert ("expect" in case) != ("error" in case), case
        assert "at" not in case or "error" in case, case


def test_every_library_function_has_conformance_cases() -> None:
    """Every function of default_library() is evaluated by at least two cases with an expected value,
    so a new function cannot land without cases the browser runtime must also pass."""
    exprs = [case["expr"] for case in CASES if "expect" in case]
    names = default_library().names()
    assert len(names) >= 45
    missing = {
        name: n
        for name in names
        if (n := sum(bool(re.search(rf"(?<![\w.]){name}\s*\(", e)) for e in exprs)) < 2
    }
    assert missing == {}, f"functions with fewer than 2 conformance cases: {missing}"


@pytest.mark.parametrize("case", [pytest.param(c, id=case_id(c)) for c in CASES if "expect" in c])
def test_expression_value(case: dict[str, Any]) -> None:
    """The expression compiles and evaluates to the expected value, with the expected type; its
    uses_clock flag and references (the fields it names) are right and the IR is JSON."""
    compiled, frame = compile_case(case)
    answers = record_value(case.get("answers") or {}, frame)
    now = parse_datetime(case.get("now", DEFAULT_NOW))
    actual = compiled(Env.of(answers, now=now))
    expected = expected_value(case["expect"])
    assert same(actual, expected), f"{case['expr']!r}: got {actual!r}, expected {expected!r}"
    assert compiled.type.accepts(type_of_value(actual)), f"value {actual!r} is not a {compiled.type}"
    uses_clock = bool(re.search(r"(?<![\w.])(today|now)\s*\(", case["expr"]))
    assert compiled.uses_clock is uses_clock
    declared = field_names(case.get("fields") or {})
    assert compiled.references <= declared, compiled.references - declared
    assert top_level_names(case["expr"], case.get("fields") or {}) <= compiled.references
    json.dumps(compiled.ir)  # the browser runtime receives the IR as JSON


@pytest.mark.parametrize("case", [pytest.param(c, id=case_id(c)) for c in CASES if "error" in c])
def test_expression_error(case: dict[str, Any]) -> None:
    """The expression is rejected at compile time with a positioned DefinitionError whose report
    contains the expected text; every position lies within the expression, and the first one at
    column `at` when the case gives it."""
    with pytest.raises(DefinitionError) as info:
        compile_case(case)
    report = str(info.value)
    assert case["error"] in report, report
    for diagnostic in info.value.diagnostics:
        pos = diagnostic.position
        assert pos is not None, diagnostic
        assert pos.line == 1, diagnostic
        assert 1 <= pos.column <= len(case["expr"]) + 1, diagnostic
    if "at" in case:
        first = info.value.diagnostics[0].position
        assert first is not None
        assert first.column == case["at"], report


def test_runner_compares_types_strictly() -> None:
    """The runner's comparison is strict about types, so a case cannot pass by accident."""
    assert same(1, 1.0)
    assert not same(True, 1)
    assert not same(1, True)
    assert not same(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.date(2024, 1, 1))
    assert not same(dt.datetime(2024, 1, 1), parse_datetime("2024-01-01T00:00:00Z"))
    assert same(parse_datetime("2024-01-01T01:00:00+01:00"), parse_datetime("2024-01-01T00:00:00Z"))
    assert not same((1, 2), [1, 2])
    assert not same(None, "")
    assert not same("", None)
    assert same(0.1 + 0.2, 0.3)
    assert expected_value({"$time": "10:30"}) == dt.time(10, 30)
