"""Robustness: no text, expression or YAML document makes the dsl raise anything but DefinitionError.

An internal error wrapped as a DefinitionError (code "internal") counts as a failure too: it means
the checker let through something the compiler could not handle. Compiled expressions are then
evaluated on random, well-typed answers (nulls, extremes and odd text included) and must give a
value of their static type without raising.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DefinitionError, Env, Position, Source, compile_expression, default_library, load_yaml
from dsl._types import RecordType, Scope
from forms import load_form
from tests.dsl.test_conformance import record_type, type_of_value

# 300 examples per test (a fifth of that for whole forms, which load slowly) keeps this file under
# 30 s; set WAYPOST_FUZZ_EXAMPLES for a longer hunt.
EXAMPLES = int(os.environ.get("WAYPOST_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORM_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 5, 10))
LONDON = ZoneInfo("Europe/London")

FIELDS: dict[str, Any] = {
    "age": "number",
    "name": "text",
    "dob": "date",
    "when": "datetime",
    "t": "time",
    "flag": "boolean",
    "tags": "list_text",
    "scores": "list_number",
    "loc": "geopoint",
    "sig": "attachment",
    "photos": "list_attachment",
    "children": {"repeat": {"name": "text", "age": "number", "at_school": "boolean", "dob": "date"}},
    "household": {"group": {"street": "text", "size": "number"}},
}
FRAME: RecordType = record_type(FIELDS)
SCOPE = Scope.of(FRAME)
FUNCTIONS = default_library().names()

NAMES = [
    "age", "name", "dob", "when", "t", "flag", "tags", "scores", "loc", "sig", "photos", "children",
    "household", "children.age", "children.name", "children.dob", "household.street",
    "household.size", "at_school", "nosuch", "household.nope",
]  # fmt: skip
LITERALS = [
    "0", "1", "2.5", "-3", "0.1", "'a'", "''", '"b c"', "'a\\'b'", "true", "false", "null",
    "@2024-01-31", "@2024-02-29", "@10:30", "@23:59", "@2024-07-01T10:30", "@2024-01-31T10:30:00Z",
    "@2024-03-31T01:30", "@9999-12-31", "@0001-01-01", "@9999-12-31T23:59:00Z", "@0001-01-01T00:00",
    "['a', 'b']", "[1, 2]", "[]", "'^[A-Z]+$'", "'(?P<x>a)'", "'['", "'DD/MM/YYYY HH:mm'",
    "'SW1A 1AA'", "'2024-02-30'", "'1e400'", "'nan'", "'-inf'", "9" * 400, "1" + "0" * 330 + ".5",
    "1000000000", "0.000001",
]  # fmt: skip
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??", "in", "not in"]
TOKENS = [
    *NAMES, *LITERALS, *BINARY, *FUNCTIONS, "not", "(", ")", "[", "]", ",", ".", "-", "=", "&&",
    "||", "{", "}", "{{", "?", "!", "@", "'", '"', "\\", "@2024-13-45", "@25:00", "in", "not in",
]  # fmt: skip


def _binary(parts: tuple[str, str, str]) -> str:
    return f"{parts[0]} {parts[1]} {parts[2]}"


def _call(parts: tuple[str, list[str]]) -> str:
    return f"{parts[0]}({', '.join(parts[1])})"


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(_binary),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3)).map(_call),
        st.tuples(st.sampled_from(["count", "any", "all"]), inner).map(lambda p: f"{p[0]}(children, {p[1]})"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    )


# Well-formed expressions over the fields and the whole library: many type-check and evaluate.
EXPRESSIONS = st.recursive(st.sampled_from(NAMES + LITERALS), _extend, max_leaves=10)
# Token soup: reaches the parser's error paths (and its table of example mistakes).
TOKEN_SOUP = st.lists(st.sampled_from(TOKENS), max_size=14).flatmap(
    lambda tokens: st.sampled_from([" ", ""]).map(lambda sep: sep.join(tokens))
)

# Well-typed expressions, built by type from the contract's operators and functions: nearly all of
# them compile, so evaluation is exercised on every function with random answers.
Rule = tuple[str, tuple[str, ...]]
N, T, B, D, DT, TM, LT, LN = (
    "number",
    "text",
    "boolean",
    "date",
    "datetime",
    "time",
    "list_text",
    "list_number",
)
LEAVES: dict[str, list[str]] = {
    N: ["0", "1", "2.5", "-3", "0.1", "age", "household.size", "1000000000000000", "0.000001"],
    T: ["''", "'a'", "'Alice Bowen'", "'sw1a1aa'", "'07700 900123'", "'a@b.uk'", "'2024-02-29'", "'42'",
        "'😀 é'", "name", "household.street"],
    B: ["true", "false", "flag"],
    D: ["dob", "@2024-01-31", "@2024-02-29", "@9999-12-31", "@0001-01-01", "today()"],
    DT: ["when", "now()", "@2026-03-29T01:30", "@2024-01-31T10:30:00Z", "@9999-12-31T23:59:00Z",
         "@0001-01-01T00:00"],
    TM: ["t", "@10:30", "@00:00", "@23:59"],
    LT: ["tags", "['a', 'b']", "children.name", "split('a,b', ',')"],
    LN: ["scores", "children.age", "[1, 2.5]"],
}  # fmt: skip
RULES: dict[str, list[Rule]] = {
    N: [
        *[(f"({{}} {op} {{}})", (N, N)) for op in "+-*/%"], ("-{}", (N,)), ("({} ?? {})", (N, N)),
        ("if({}, {}, {})", (B, N, N)), ("coalesce({}, {})", (N, N)), ("round({})", (N,)),
        ("round({}, {})", (N, N)), ("floor({})", (N,)), ("ceil({})", (N,)), ("abs({})", (N,)),
        ("int({})", (N,)), ("min({}, {})", (N, N)), ("max({}, {})", (N, N)), ("min({})", (LN,)),
        ("max({})", (LN,)), ("sum({})", (LN,)), ("len({})", (T,)), ("len({})", (LT,)), ("count({})", (LT,)),
        ("count_selected({})", (LT,)), ("count(children, {})", (B,)), ("number({})", (T,)),
        ("years_between({}, {})", (D, D)), ("months_between({}, {})", (D, D)),
        ("days_between({}, {})", (D, D)), ("days_between({}, {})", (DT, DT)),
        ("hours_between({}, {})", (DT, DT)), ("year({})", (D,)), ("month({})", (D,)), ("day({})", (DT,)),
        ("weekday({})", (D,)), ("hour({})", (DT,)), ("minute({})", (TM,)),
    ],
    T: [
        ("({} + {})", (T, T)), ("({} ?? {})", (T, T)), ("if({}, {}, {})", (B, T, T)), ("lower({})", (T,)),
        ("upper({})", (T,)), ("trim({})", (T,)), ("replace({}, {}, {})", (T, T, T)),
        ("substr({}, {})", (T, N)), ("substr({}, {}, {})", (T, N, N)), ("concat({}, {})", (T, T)),
        ("join({}, {})", (LT, T)), ("initials({})", (T,)), ("format_postcode({})", (T,)),
        ("text({})", (N,)), ("text({})", (D,)), ("text({})", (B,)), ("text({})", (DT,)), ("text({})", (TM,)),
        ("text({})", (LN,)), ("format_date({}, 'D MMMM YYYY HH:mm ddd')", (D,)),
        ("format_date({}, 'DD/MM/YY dddd MMM')", (DT,)), ("coalesce({}, {})", (T, T)),
    ],
    B: [
        ("({} and {})", (B, B)), ("({} or {})", (B, B)), ("(not {})", (B,)), ("({} ?? {})", (B, B)),
        *[(f"({{}} {op} {{}})", (k, k)) for op in ("==", "!=") for k in (N, T, D, B, LT, TM)],
        *[(f"({{}} {op} {{}})", (k, k)) for op in ("<", ">=") for k in (N, T, D, DT, TM)],
        ("({} in {})", (T, LT)), ("({} not in {})", (N, LN)), ("contains({}, {})", (T, T)),
        ("starts_with({}, {})", (T, T)), ("ends_with({}, {})", (T, T)),
        ("matches({}, '^[A-Z]+[0-9]*$')", (T,)), ("selected({}, {})", (LT, T)),
        ("any(children, {})", (B,)), ("all(children, (at_school or {}))", (B,)), ("is_postcode({})", (T,)),
        ("is_uk_phone({})", (T,)), ("is_email({})", (T,)), ("if({}, {}, {})", (B, B, B)),
    ],
    D: [
        ("add_days({}, {})", (D, N)), ("add_months({}, {})", (D, N)), ("add_years({}, {})", (D, N)),
        ("date({})", (T,)), ("date({})", (DT,)), ("min({}, {})", (D, D)), ("max({}, {})", (D, D)),
        ("({} ?? {})", (D, D)),
    ],
    DT: [("add_hours({}, {})", (DT, N)), ("add_minutes({}, {})", (DT, N)), ("({} ?? {})", (DT, DT))],
    TM: [("if({}, {}, {})", (B, TM, TM))],
    LT: [("split({}, {})", (T, T)), ("[{}, {}]", (T, T))],
    LN: [("[{}, {}]", (N, N))],
}  # fmt: skip


def _filler(form: str) -> Callable[[tuple[str, ...]], str]:
    return lambda args: form.format(*args)


@functools.cache
def typed(kind: str, depth: int = 3) -> st.SearchStrategy[str]:
    """Expressions of type ``kind`` nested at most ``depth`` calls or operators deep."""
    leaves = st.sampled_from(LEAVES[kind])
    if depth == 0:
        return leaves
    rules = [
        st.tuples(*(typed(k, depth - 1) for k in kinds)).map(_filler(form)) for form, kinds in RULES[kind]
    ]
    return st.one_of(leaves, *rules)


TYPED = st.sampled_from(sorted(LEAVES)).flatmap(typed)


# --- random answers of the declared types ------------------------------------------------------------

ZONES = st.sampled_from([dt.UTC, LONDON, dt.timezone(dt.timedelta(hours=5, minutes=30))])
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 0.5, -0.5, 2.5, 1e308, -1e308, 5e-324]),
)
DATETIMES = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=ZONES
)
TEXTS = st.one_of(st.text(max_size=20), st.sampled_from(["", " ", "SW1A 1AA", "07700 900123", "a@b.uk"]))
ATTACHMENT = st.fixed_dictionaries(
    {
        "sha256": st.text("0123456789abcdef", min_size=64, max_size=64),
        "filename": st.text(min_size=1, max_size=10),
        "content_type": st.sampled_from(["image/jpeg", "image/png"]),
        "size": st.integers(0, 10**9),
        "captured_at": DATETIMES,
    }
)
GEOPOINT = st.fixed_dictionaries(
    {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180), "accuracy": st.floats(0, 1000)}
)


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


CHILD = st.fixed_dictionaries(
    {},
    optional={
        "name": _maybe(TEXTS),
        "age": _maybe(NUMBERS),
        "at_school": _maybe(st.booleans()),
        "dob": _maybe(st.dates()),
    },
)
ANSWERS = st.fixed_dictionaries(
    {},
    optional={
        "age": _maybe(NUMBERS),
        "name": _maybe(TEXTS),
        "dob": _maybe(st.dates()),
        "when": _maybe(DATETIMES),
        "t": _maybe(st.times()),
        "flag": _maybe(st.booleans()),
        "tags": _maybe(st.lists(_maybe(TEXTS), max_size=4)),
        "scores": _maybe(st.lists(_maybe(NUMBERS), max_size=4)),
        "loc": _maybe(GEOPOINT),
        "sig": _maybe(ATTACHMENT),
        "photos": _maybe(st.lists(ATTACHMENT, max_size=2)),
        "children": _maybe(st.lists(CHILD, max_size=3)),
        "household": _maybe(
            st.fixed_dictionaries({}, optional={"street": _maybe(TEXTS), "size": _maybe(NUMBERS)})
        ),
    },
)
NOW = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=ZONES)


def check_expression(source: str, answers: dict[str, Any], now: dt.datetime, *, typed: bool = False) -> None:
    """Compile ``source``; only a non-internal DefinitionError may come out (none at all for a
    well-typed expression). If it compiles, evaluate it: the value must belong to its static type
    and the IR must be JSON."""
    try:
        compiled = compile_expression(source, SCOPE, position=Position(Source("<fuzz>", source), 1, 1))
    except DefinitionError as caught:
        error: DefinitionError | None = caught
    else:
        error = None
    if error is not None:
        internal = [d for d in error.diagnostics if d.code == "internal"]
        assert not internal, internal[0].format()
        assert not typed, str(error)
        return
    value = compiled(Env.of(answers, now=now))
    assert compiled.type.accepts(type_of_value(value)), (source, compiled.type, value)
    json.dumps(compiled.ir)


@FUZZ
@given(st.text(max_size=60), ANSWERS, NOW)
def test_arbitrary_text_as_expression(source: str, answers: dict[str, Any], now: dt.datetime) -> None:
    """Any text at all compiles or raises a DefinitionError, and what compiles evaluates."""
    check_expression(source, answers, now)


@FUZZ
@given(TOKEN_SOUP, ANSWERS, NOW)
def test_token_sequences_as_expression(source: str, answers: dict[str, Any], now: dt.datetime) -> None:
    """Random sequences of the language's tokens compile or raise a DefinitionError."""
    check_expression(source, answers, now)


@FUZZ
@given(EXPRESSIONS, ANSWERS, NOW)
def test_generated_expressions_evaluate(source: str, answers: dict[str, Any], now: dt.datetime) -> None:
    """Grammatical expressions over every field type and function type-check or raise a
    DefinitionError; the ones that compile evaluate on any answers without raising."""
    check_expression(source, answers, now)


@FUZZ
@given(TYPED, ANSWERS, NOW)
def test_well_typed_expressions_compile_and_evaluate(
    source: str, answers: dict[str, Any], now: dt.datetime
) -> None:
    """Expressions that are well typed by the contract's rules compile, and evaluate on any
    well-typed answers (nulls, extreme numbers and dates included) to a value of their type."""
    check_expression(source, answers, now, typed=True)


# --- YAML ------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=15),
    st.dates(),
    st.sampled_from(["yes", "no", "~", "10:30", "2024-02-30", "!!int", "&a", "*a", "<<", "{{ x }}"]),
)
KEYS = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans(), st.none())
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


def _mutate(text: str, data: st.DataObject) -> str:
    """Insert, delete or replace a few characters, often with YAML's own punctuation."""
    chars = st.sampled_from([*":-?[]{},&*!|>'\"%@`#\t\n ", "<<: ", "  ", "---\n", "\\"])
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.one_of(chars, st.text(max_size=3)))
        if action == "insert":
            text = text[:index] + piece + text[index:]
        elif action == "delete":
            text = text[:index] + text[index + 3 :]
        else:
            text = text[:index] + piece + text[index + len(piece) :]
    return text


def check_yaml(text: str) -> None:
    """load_yaml gives nodes or raises DefinitionError; when it loads, the values are safe_load's."""
    try:
        root = load_yaml(text, "fuzz.yaml")
    except DefinitionError as caught:
        error: DefinitionError | None = caught
    else:
        error = None
    if error is not None:
        assert all(d.position is not None for d in error.diagnostics)
        return
    value = root.to_python()
    # libyaml and PyYAML's pure-Python parser disagree on one corner: a bare non-specific tag
    # '!' on an empty node is '' for libyaml (the spec's reading: '!' means a string) and None for
    # the pure parser. load_yaml takes libyaml's fast path when it is installed.
    # Likewise libyaml reads some texts the pure parser refuses (a '?' ending a plain value in a
    # flow collection): then the value must be libyaml's.
    fast = getattr(yaml, "CSafeLoader", None)
    try:
        pure: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        assert fast is not None, "load_yaml accepted what safe_load refuses, without libyaml"
        assert same_data(value, yaml.load(text, Loader=fast))  # noqa: S506 - a safe loader
        return
    assert same_data(value, pure) or (
        fast is not None and same_data(value, yaml.load(text, Loader=fast))  # noqa: S506 - a safe loader
    )


def same_data(a: Any, b: Any) -> bool:
    """Deep equality in which NaN equals NaN (YAML's .nan) and types must match."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_data(a[k], b[k]) for k in a)
    return bool(a == b)


@FUZZ
@given(DOCUMENTS, st.sampled_from([False, True]))
def test_dumped_documents_load_like_safe_load(document: Any, flow: bool) -> None:
    """Any document yaml.safe_dump can write loads to the same values as yaml.safe_load gives."""
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    root = load_yaml(text, "fuzz.yaml")
    assert root.to_python() == yaml.safe_load(text)


@FUZZ
@given(DOCUMENTS, st.data())
def test_mutated_documents_only_raise_definition_errors(document: Any, data: st.DataObject) -> None:
    """Damaged YAML (characters inserted, deleted or replaced) loads or raises a positioned
    DefinitionError, never a PyYAML or Python exception."""
    check_yaml(_mutate(yaml.safe_dump(document, allow_unicode=True), data))


@FUZZ
@given(st.text(max_size=80))
def test_arbitrary_text_as_yaml(text: str) -> None:
    """Any text loads or raises a positioned DefinitionError."""
    check_yaml(text)


# --- forms.load_form -------------------------------------------------------------------------------

BASE_FORM = """\
form: fuzz_form
version: "1"
title: Fuzz form
pages:
  - id: first
    title: {en: First, cy: Cyntaf}
    fields:
      - {id: name, type: text, label: Name, required: true, max_length: 40}
      - {id: dob, type: date, label: Date of birth, constraint: "dob <= today()", message: In the past}
      - {id: age, type: calculate, value: "years_between(dob, today())"}
      - {id: risk, type: yesno, label: "At risk?", relevant: "age ?? 0 < 18"}
      - {id: kind, type: select_one, label: Kind, choices: [a, {value: b, label: Bee}]}
      - {id: tags, type: select_many, label: Tags, choices: [x, y], relevant: "kind == 'a'"}
  - id: second
    relevant: "risk"
    fields:
      - id: address
        type: group
        label: Address
        fields:
          - {id: postcode, type: uk_postcode, label: Postcode}
      - id: children
        type: repeat
        label: Children
        max: 3
        item_label: "{{ child_name }}"
        fields:
          - {id: child_name, type: text, label: Child}
          - {id: child_age, type: integer, label: Age, min: 0, constraint: "child_age < 18"}
      - {id: count_kids, type: calculate, value: "count(children, child_age < 5)"}
      - {id: note1, type: note, label: "Hello {{ name }}"}
      - id: when
        type: datetime
        label: When
        warning: {when: "when > now()", message: In the future}
"""
BASE = yaml.safe_load(BASE_FORM)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``node`` (keys and indexes), outermost first."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate_form(data: st.DataObject) -> Any:
    """The base form with one to three edits: a key or item deleted, a value replaced by one of
    another type, or a value replaced by an expression (valid, ill-typed or garbage)."""
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["delete", "retype", "expression"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "retype":
            parent[path[-1]] = data.draw(DOCUMENTS)
        else:
            parent[path[-1]] = data.draw(st.one_of(EXPRESSIONS, TOKEN_SOUP, TYPED))
    return doc


def check_form(text: str) -> None:
    """load_form gives a form or raises a non-internal DefinitionError with positions; a form that
    loads validates empty answers without raising."""
    try:
        form = load_form(text, "fuzz_form.yaml")
    except DefinitionError as caught:
        error: DefinitionError | None = caught
    else:
        error = None
    if error is not None:
        assert not [d for d in error.diagnostics if d.code == "internal"], str(error)
        assert all(d.position is not None for d in error.diagnostics), str(error)
        return
    form.validate({})


def test_base_form_loads() -> None:
    """The form the mutations start from is valid, so each mutation tests one broken thing."""
    form = load_form(BASE_FORM, "fuzz_form.yaml")
    assert form.id == "fuzz_form"
    assert "count_kids" in form.fields_by_id


@FORM_FUZZ
@given(st.data())
def test_mutated_forms_only_raise_definition_errors(data: st.DataObject) -> None:
    """A valid form with keys deleted, values of the wrong type or random expressions put in loads or
    raises a positioned DefinitionError, never another exception."""
    check_form(yaml.safe_dump(_mutate_form(data), allow_unicode=True, sort_keys=False))


@FORM_FUZZ
@given(DOCUMENTS)
def test_arbitrary_documents_as_forms(document: Any) -> None:
    """Any YAML document given as a form raises a positioned DefinitionError (or loads)."""
    check_form(yaml.safe_dump(document, allow_unicode=True))


@FORM_FUZZ
@given(st.text(max_size=80))
def test_arbitrary_text_as_form(text: str) -> None:
    """Any text given as a form raises a positioned DefinitionError (or loads)."""
    check_form(text)
