"""Members of values whose shape is not declared (``any``), such as an untyped plugin output."""

from __future__ import annotations

import pytest

from dsl import DefinitionError, Env, compile_expression
from dsl._types import ANY, TEXT, RecordType, Scope, Symbol, list_of, record


def _scope() -> Scope:
    result = RecordType.of(
        {
            "status": Symbol("status", TEXT, ("status",)),
            "body": Symbol("body", ANY, ("body",)),
        }
    )
    items = RecordType.of({"extra": Symbol("extra", ANY, ("extra",))})
    return Scope.of(
        RecordType.of(
            {
                "result": Symbol("result", record(result), ("result",)),
                "rows": Symbol("rows", list_of(record(items)), ("rows",)),
            }
        )
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reference": "CRN-1"}, "CRN-1"),
        ({"other": 1}, None),
        ("plain text body", None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_member_of_any_is_looked_up_at_run_time(body: object, expected: object) -> None:
    """``result.body.reference`` compiles against an untyped body and gives null, not a crash,
    when the body is not a mapping or has no such key."""
    compiled = compile_expression("result.body.reference", _scope())
    assert compiled.type == ANY
    assert compiled(Env.of({"result": {"status": "201", "body": body}})) == expected


def test_deep_member_of_any() -> None:
    """Several levels below an untyped value are looked up one by one."""
    compiled = compile_expression("result.body.crime.reference", _scope())
    env = Env.of({"result": {"body": {"crime": {"reference": "WV/1"}}}})
    assert compiled(env) == "WV/1"
    assert compiled(Env.of({"result": {"body": {"crime": "WV/1"}}})) is None


def test_projection_through_any_member() -> None:
    """A repeat's untyped member can be projected; non-mapping items give null."""
    compiled = compile_expression("rows.extra.code", _scope())
    env = Env.of({"rows": [{"extra": {"code": "A"}}, {"extra": "text"}, {"extra": None}]})
    assert compiled(env) == ["A", None, None]


def test_typed_record_still_rejects_unknown_member() -> None:
    """Declared shapes stay strict: an unknown member of a typed record is an error."""
    with pytest.raises(DefinitionError, match="'result' has no field 'bdy'"):
        compile_expression("result.bdy", _scope())
