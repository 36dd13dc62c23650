"""Evaluation by the compiled closures: the null rules, every operator and the specialised shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dsl import CompiledExpression, Env, compile_expression, default_library
from dsl._functions import Function, FunctionLibrary, fixed
from dsl._types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    NUMBER,
    TEXT,
    TIME,
    RecordType,
    Scope,
    Symbol,
    Type,
    list_of,
    record,
    repeat,
)


def _record(fields: dict[str, Type]) -> RecordType:
    return RecordType.of({name: Symbol(name, t, (name,)) for name, t in fields.items()})


CHILD = _record({"name": TEXT, "age": NUMBER, "flag": BOOLEAN})
FORM = _record(
    {
        "a": NUMBER,
        "b": NUMBER,
        "t": TEXT,
        "u": TEXT,
        "ok": BOOLEAN,
        "no": BOOLEAN,
        "d": DATE,
        "when": DATETIME,
        "at": TIME,
        "tags": list_of(TEXT),
        "children": repeat(CHILD),
        "group": record(_record({"inner": TEXT, "deep": record(_record({"x": NUMBER}))})),
        "anything": ANY,
    }
)
SCOPE = Scope.of(FORM)
NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC)


def run(source: str, answers: dict[str, Any] | None = None, scope: Scope = SCOPE) -> Any:
    compiled = compile_expression(source, scope)
    return compiled(Env.of(answers or {}, now=NOW))


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        # rule 1-2: arithmetic with null is null; division and modulo by zero are null
        ("a + 1", {}, None),
        ("a + 1", {"a": 2}, 3),
        ("1 + a", {"a": 2}, 3),
        ("a - b", {"a": 5, "b": 7}, -2),
        ("a * b", {"a": 5}, None),
        ("a / b", {"a": 7, "b": 2}, 3.5),
        ("a / 0", {"a": 7}, None),
        ("a / b", {"a": 7, "b": 0}, None),
        ("a % 3", {"a": 7}, 1),
        ("a % b", {"a": 7, "b": 0}, None),
        ("-7 % 3", {}, 2),
        ("-a", {"a": 3}, -3),
        ("-a", {}, None),
        ("2 * a + 1", {"a": 4}, 9),
        # text + is concatenation with null as ""
        ("t + u", {"t": "a", "u": "b"}, "ab"),
        ("t + null", {"t": "a"}, "a"),
        ("t + u", {}, ""),
        ("'x' + t", {}, "x"),
        # rule 3: == and != treat null as a value; ordering with null is false
        ("null == null", {}, True),
        ("a == null", {}, True),
        ("a == 3", {}, False),
        ("a != 3", {}, True),
        ("3 == a", {"a": 3}, True),
        ("a == b", {}, True),
        ("a == b", {"a": 1}, False),
        ("a < 3", {}, False),
        ("a >= 3", {}, False),
        ("3 > a", {}, False),
        ("3 > a", {"a": 2}, True),
        ("a <= b", {"a": 1}, False),
        ("a <= b", {"a": 1, "b": 1}, True),
        ("a < null", {"a": 1}, False),
        ("1 == 1.0", {}, True),
        ("t < u", {"t": "apple", "u": "banana"}, True),
        ("d < @2024-01-01", {"d": dt.date(2023, 12, 31)}, True),
        ("at >= @09:00", {"at": dt.time(9, 0)}, True),
        ("when > @2024-01-01T00:00Z", {"when": NOW}, True),
        ("when == @2024-06-15T13:00", {"when": NOW}, True),  # 13:00 BST is 12:00 UTC
        ("tags == ['a', 'b']", {"tags": ["a", "b"]}, True),
        # rule 4: and/or/not treat null as false and always give a boolean
        ("ok and no", {"ok": True}, False),
        ("ok or no", {"no": True}, True),
        ("ok or no", {}, False),
        ("not ok", {}, True),
        ("not null", {}, True),
        ("not ok", {"ok": True}, False),
        ("ok and a > 1", {"ok": True, "a": 2}, True),
        ("a > 1 and b > 1 and ok", {"a": 2, "b": 2, "ok": True}, True),
        ("a > 1 and b > 1 and ok and no", {"a": 2, "b": 2, "ok": True, "no": True}, True),
        ("a > 1 or b > 1 or ok or no", {}, False),
        ("a > 1 or b > 1 or ok or no", {"no": True}, True),
        ("a > 1 or b > 1 or ok", {"ok": True}, True),
        ("ok and no or a == 1", {"a": 1}, True),
        # rule 5: in / not in
        ("t in ['a', 'b']", {"t": "a"}, True),
        ("t in ['a', 'b']", {}, False),
        ("t not in ['a', 'b']", {}, True),
        ("t in tags", {"t": "a"}, False),
        ("t in tags", {"t": "a", "tags": ["a"]}, True),
        ("t not in tags", {"t": "a"}, True),
        ("t not in tags", {"t": "a", "tags": ["a"]}, False),
        ("a in [1, 2]", {"a": 2.0}, True),
        ("tags in [['a'], ['b']]", {"tags": ["b"]}, True),
        ("t in [u, 'z']", {"t": "q", "u": "q"}, True),
        # rule 6: ??
        ("a ?? 0", {}, 0),
        ("a ?? 0", {"a": 5}, 5),
        ("a ?? b ?? 9", {"b": 4}, 4),
        ("a ?? 0 > 3", {}, False),
        ("(a + 1) ?? 0", {}, 0),
        # rule 7: function exceptions in the core library
        ("len(t)", {}, 0),
        ("len(t)", {"t": "abc"}, 3),
        ("len(tags)", {"tags": ["x"]}, 1),
        ("count(tags)", {}, 0),
        ("count_selected(tags)", {"tags": ["a", "b"]}, 2),
        ("selected(tags, 'a')", {}, False),
        ("selected(tags, 'a')", {"tags": ["a"]}, True),
        ("selected(tags, t)", {"tags": ["a"]}, False),
        ("sum(children.age)", {"children": [{"age": 1}, {}, {"age": 2.5}]}, 3.5),
        ("sum(children.age)", {}, 0),
        ("if(ok, 'y', 'n')", {}, "n"),
        ("if(ok, 'y', 'n')", {"ok": True}, "y"),
        ("if(ok, a, b)", {"ok": False, "b": 2}, 2),
        ("coalesce(a, b, 7)", {"b": 3}, 3),
        ("coalesce(a, b)", {}, None),
        ("text(a)", {"a": 3.0}, "3"),
        ("text(ok)", {"ok": False}, "no"),
        ("text(a)", {}, None),
        ("number(t)", {"t": " -12 "}, -12),
        ("number(t)", {"t": "3.25"}, 3.25),
        ("number(t)", {"t": "12abc"}, None),
        ("number(t)", {}, None),
        # paths and projections
        ("group.inner", {"group": {"inner": "x"}}, "x"),
        ("group.inner", {}, None),
        ("group.deep.x", {"group": {"deep": {"x": 4}}}, 4),
        ("group.deep.x", {"group": {}}, None),
        ("children.name", {"children": [{"name": "p"}, {}]}, ["p", None]),
        ("children.name", {}, None),
        ("[a, b]", {"a": 1}, [1, None]),
        ("[]", {}, []),
    ],
)
def test_null_rules_and_operators(source: str, answers: dict[str, Any], expected: Any) -> None:
    """Each operator follows the documented null rules."""
    result = run(source, answers)
    assert result == expected
    assert type(result) is type(expected)


def test_scoped_functions_evaluate_per_item_with_outer_names_visible() -> None:
    """count/any/all evaluate the condition for each item; outer fields are still readable."""
    answers = {
        "a": 5,
        "children": [{"name": "x", "age": 3}, {"name": "y", "age": 9}, {"age": None}],
    }
    assert run("count(children, age < a)", answers) == 1
    assert run("count(children)", answers) == 3
    assert run("any(children, age > 8)", answers) is True
    assert run("all(children, age != null)", answers) is False
    assert run("all(children, age > 100)", {}) is True
    assert run("any(children, age > 100)", {}) is False
    assert run("count(children, name == null)", answers) == 1
    assert run("any(children, count(children, age > 1) == 2)", answers) is True


def test_deep_record_paths_with_three_keys() -> None:
    """A path of three or more keys walks nested mappings and stops at the first missing one."""
    deeper = _record(
        {"top": record(_record({"mid": record(_record({"leaf": record(_record({"v": TEXT}))}))}))}
    )
    scope = Scope.of(deeper)
    assert run("top.mid.leaf.v", {"top": {"mid": {"leaf": {"v": "ok"}}}}, scope) == "ok"
    assert run("top.mid.leaf.v", {"top": {"mid": {}}}, scope) is None


def test_constant_folding_happens_at_compile_time() -> None:
    """A constant sub-expression is evaluated once; the compiled closure just returns it."""
    calls: list[int] = []

    def spy(x: Any) -> Any:
        calls.append(x)
        return x

    lib = FunctionLibrary(
        [
            *default_library(),
            Function("spy", "spy(x: number) -> number", "s", "e", 1, 1, fixed([NUMBER], NUMBER), spy),
        ]
    )
    compiled = compile_expression("spy(1 + 2) * 2", SCOPE, library=lib)
    assert calls == [3]
    env = Env.of({})
    assert compiled(env) == 6
    assert compiled(env) == 6
    assert calls == [3]


def test_clock_functions_are_not_folded() -> None:
    """today() depends on the environment's clock, so it is evaluated on every call."""
    compiled = compile_expression("today()", SCOPE)
    assert compiled.uses_clock
    assert compiled(Env.of({}, now=NOW)) == dt.date(2024, 6, 15)
    later = NOW + dt.timedelta(days=1)
    assert compiled(Env.of({}, now=later)) == dt.date(2024, 6, 16)


def test_if_and_coalesce_are_lazy() -> None:
    """Only the branch if() takes, and coalesce() up to the first non-null, are evaluated."""
    seen: list[str] = []

    def mark(x: Any) -> Any:
        seen.append(x)
        return x

    lib = FunctionLibrary(
        [
            *default_library(),
            Function("mark", "mark(x: text) -> text", "s", "e", 1, 1, fixed([TEXT], TEXT), mark),
        ]
    )
    compiled = compile_expression("if(ok, mark(t), mark(u))", SCOPE, library=lib)
    assert compiled(Env.of({"ok": True, "t": "then", "u": "else"})) == "then"
    assert seen == ["then"]
    seen.clear()
    lazy = compile_expression("coalesce(t, mark(u))", SCOPE, library=lib)
    assert lazy(Env.of({"t": "first", "u": "second"})) == "first"
    assert seen == []


def test_values_of_unknown_type_add_dynamically() -> None:
    """With an operand of type any, + adds numbers, joins texts and otherwise gives null."""
    assert run("anything + 1", {"anything": 2}) == 3
    assert run("anything + 1", {"anything": "x"}) is None
    assert run("anything + t", {"anything": "x", "t": "y"}) == "xy"
    assert run("anything + null", {"anything": "x"}) == "x"
    assert run("anything + anything", {}) is None
    assert run("anything + anything", {"anything": True}) is None


def test_env_of_and_push() -> None:
    """Env.of defaults to UK time and the current UTC clock; push adds an inner frame."""
    env = Env.of({"a": 1})
    assert str(env.tz) == "Europe/London"
    assert env.now.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - env.now).total_seconds()) < 60
    inner = env.push({"b": 2})
    assert inner.frames == ({"a": 1}, {"b": 2})
    assert env.frames == ({"a": 1},)
    with pytest.raises(ValueError, match="aware"):
        Env.of({}, now=dt.datetime(2024, 1, 1))


def test_compiled_expression_is_frozen_and_describes_itself() -> None:
    """A compiled expression keeps its source, type and IR and cannot be changed."""
    compiled = compile_expression("a + 1", SCOPE)
    assert isinstance(compiled, CompiledExpression)
    assert compiled.source == "a + 1"
    assert compiled.type == NUMBER
    assert compiled.references == frozenset({"a"})
    with pytest.raises(AttributeError):
        compiled.source = "b"  # type: ignore[misc]
    assert "a + 1" in repr(compiled)


def test_boolean_field_with_non_boolean_truthy_value_is_not_true() -> None:
    """Only true counts as true: a stray non-boolean answer never satisfies and/or/not/if."""
    assert run("ok and no", {"ok": True, "no": None}) is False
    assert run("if(ok, 1, 2)", {"ok": None}) == 2


def test_compiled_expressions_are_reusable_and_independent() -> None:
    """The same compiled expression gives each environment its own answer."""
    compiled = compile_expression("a * 2 > b", SCOPE)
    assert [compiled(Env.of(x)) for x in ({"a": 2, "b": 3}, {"a": 1, "b": 3}, {})] == [True, False, False]


def test_expect_boolean_for_relevance() -> None:
    """The forms layer compiles relevance with expect=BOOLEAN; a boolean result passes."""
    compiled = compile_expression("ok or a > 1", SCOPE, expect=BOOLEAN)
    assert compiled(Env.of({"a": 2})) is True
