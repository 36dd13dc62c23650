"""The JSON IR: its shape, and that it alone is enough to evaluate every expression.

The test carries a small reference interpreter written only from the IR description in
docs/expressions.md (as the browser runtime will be) and checks it against the compiled closures.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from typing import Any

import pytest

from dsl import Env, compile_expression, compile_template, default_library
from dsl._render import render
from dsl._types import (
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

LIB = default_library()


def _record(fields: dict[str, Type]) -> RecordType:
    return RecordType.of({name: Symbol(name, t, (name,)) for name, t in fields.items()})


CHILD = _record({"name": TEXT, "age": NUMBER})
SCOPE = Scope.of(
    _record(
        {
            "a": NUMBER,
            "b": NUMBER,
            "t": TEXT,
            "ok": BOOLEAN,
            "d": DATE,
            "at": TIME,
            "when": DATETIME,
            "tags": list_of(TEXT),
            "children": repeat(CHILD),
            "group": record(_record({"inner": TEXT})),
        }
    )
)


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        if "$time" in value:
            return dt.time.fromisoformat(value["$time"])
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


ORDER = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
ARITH = {"sub": operator.sub, "mul": operator.mul}


def interpret(ir: Any, env: Env) -> Any:
    """Evaluate an IR tree following docs/expressions.md, without the source or the checker."""
    tag = ir[0]
    if tag == "lit":
        return decode(ir[1])
    if tag == "ref":
        value: Any = env.frames[ir[1]]
        for key in ir[2]:
            value = value.get(key) if value is not None else None
        return value
    if tag == "project":
        items = interpret(ir[1], env)
        if items is None:
            return None
        out = []
        for item in items:
            for key in ir[2]:
                item = item.get(key) if item is not None else None
            out.append(item)
        return out
    if tag == "list":
        return [interpret(x, env) for x in ir[1:]]
    if tag == "template":
        return "".join(p if isinstance(p, str) else render(interpret(p, env)) for p in ir[1:])
    if tag == "not":
        return interpret(ir[1], env) is not True
    if tag == "neg":
        v = interpret(ir[1], env)
        return None if v is None else -v
    if tag == "and":
        return interpret(ir[1], env) is True and interpret(ir[2], env) is True
    if tag == "or":
        return interpret(ir[1], env) is True or interpret(ir[2], env) is True
    if tag == "call":
        fn = LIB.get(ir[1])
        assert fn is not None
        args = [interpret(x, env) for x in ir[2:]]
        if fn.propagate_null and any(a is None for a in args):
            return None
        return fn.impl(env, *args) if fn.uses_clock else fn.impl(*args)
    if tag == "scoped":
        fn = LIB.get(ir[1])
        assert fn is not None
        items = interpret(ir[2], env)
        return fn.impl(items, lambda item: interpret(ir[3], env.push(item)))
    left, right = interpret(ir[1], env), interpret(ir[2], env)
    if tag == "eq":
        return left == right
    if tag == "ne":
        return left != right
    if tag in ORDER:
        return left is not None and right is not None and ORDER[tag](left, right)
    if tag == "in":
        return left is not None and right is not None and left in right
    if tag == "not_in":
        return not (left is not None and right is not None and left in right)
    if tag == "coalesce":
        return right if left is None else left
    if tag == "concat":
        return (left or "") + (right or "")
    if tag == "add":
        if isinstance(left, str) or isinstance(right, str):
            return (left or "") + (right or "")
        return None if left is None or right is None else left + right
    if tag in ("div", "mod"):
        if left is None or right is None or right == 0:
            return None
        return left / right if tag == "div" else left % right
    if tag in ARITH:
        return None if left is None or right is None else ARITH[tag](left, right)
    raise AssertionError(f"unknown IR node {tag}")


EXPRESSIONS = [
    "a + b * 2 - 1",
    "a / b",
    "a % b",
    "-a",
    "t + 'x'",
    "t + null",
    "a == b",
    "a != null",
    "a < b",
    "3 >= a",
    "ok and a > 1",
    "ok or not ok",
    "not (a > 1 or b > 1)",
    "t in ['x', 'y']",
    "t not in tags",
    "a ?? b ?? 0",
    "group.inner",
    "children.age",
    "sum(children.age)",
    "count(children, age > a)",
    "any(children, name == t)",
    "all(children, age != null)",
    "count(tags)",
    "if(ok, t, 'none')",
    "coalesce(t, group.inner, 'z')",
    "upper(t)",
    "len(t) + len(tags)",
    "d == @2024-01-31",
    "at < @12:30",
    "when > @2024-06-01T09:00",
    "when > @2024-06-01T09:00:00+02:00",
    "[a, b, 3]",
    "years_between(d, today())",
    "add_days(d, 3)",
    "round(a / 3, 2)",
    "text(a) + '!'",
]

ENVS = [
    {},
    {"a": 4, "b": 3, "t": "x", "ok": True, "tags": ["x"], "d": dt.date(2024, 1, 31), "at": dt.time(9, 0)},
    {
        "a": 1,
        "b": 0,
        "t": "y",
        "ok": False,
        "when": dt.datetime(2024, 6, 2, tzinfo=dt.UTC),
        "group": {"inner": "g"},
    },
    {"children": [{"name": "x", "age": 2}, {"name": "q"}], "a": 1, "t": "x"},
]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_ir_alone_evaluates_like_the_compiled_closure(source: str) -> None:
    """For every sample environment, interpreting the IR equals calling the compiled expression."""
    compiled = compile_expression(source, SCOPE)
    ir = json.loads(json.dumps(compiled.ir))
    assert ir == compiled.ir
    for answers in ENVS:
        env = Env.of(answers, now=dt.datetime(2024, 6, 15, 12, tzinfo=dt.UTC))
        assert interpret(ir, env) == compiled(env), (source, answers)


def test_template_ir_evaluates_like_the_template() -> None:
    """A template's IR mixes literal strings and expression trees."""
    compiled = compile_template("Hi {{ t }} ({{ a / 2 }}) {{ ok }}", SCOPE)
    for answers in ENVS:
        env = Env.of(answers)
        assert interpret(compiled.ir, env) == compiled(env)


@pytest.mark.parametrize(
    ("source", "ir"),
    [
        ("3", ["lit", 3]),
        ("'x'", ["lit", "x"]),
        ("null", ["lit", None]),
        ("@2024-01-31", ["lit", {"$date": "2024-01-31"}]),
        ("@10:30", ["lit", {"$time": "10:30"}]),
        ("@10:30:05", ["lit", {"$time": "10:30:05"}]),
        ("@2024-01-31T10:30", ["lit", {"$datetime": "2024-01-31T10:30:00+00:00"}]),
        ("@2024-07-01T10:30", ["lit", {"$datetime": "2024-07-01T10:30:00+01:00"}]),
        ("@2024-01-31T10:30:00Z", ["lit", {"$datetime": "2024-01-31T10:30:00+00:00"}]),
        ("['a', 'b']", ["lit", ["a", "b"]]),
        ("[a]", ["list", ["ref", 0, ["a"]]]),
        ("group.inner", ["ref", 0, ["group", "inner"]]),
        ("children.age", ["project", ["ref", 0, ["children"]], ["age"]]),
        ("a + 1", ["add", ["ref", 0, ["a"]], ["lit", 1]]),
        ("t + 'x'", ["concat", ["ref", 0, ["t"]], ["lit", "x"]]),
        ("a == 1", ["eq", ["ref", 0, ["a"]], ["lit", 1]]),
        ("ok and ok", ["and", ["ref", 0, ["ok"]], ["ref", 0, ["ok"]]]),
        ("not ok", ["not", ["ref", 0, ["ok"]]]),
        ("-a", ["neg", ["ref", 0, ["a"]]]),
        ("a ?? 0", ["coalesce", ["ref", 0, ["a"]], ["lit", 0]]),
        ("t not in tags", ["not_in", ["ref", 0, ["t"]], ["ref", 0, ["tags"]]]),
        ("upper(t)", ["call", "upper", ["ref", 0, ["t"]]]),
        ("today()", ["call", "today"]),
        (
            "any(children, age > a)",
            ["scoped", "any", ["ref", 0, ["children"]], ["gt", ["ref", 1, ["age"]], ["ref", 0, ["a"]]]],
        ),
        ("count(children)", ["call", "count", ["ref", 0, ["children"]]]),
    ],
)
def test_ir_shapes(source: str, ir: Any) -> None:
    """The IR nodes are the documented JSON arrays."""
    assert compile_expression(source, SCOPE).ir == ir
