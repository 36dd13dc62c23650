"""The JSON IR of a checked expression, for the browser runtime (documented in docs/expressions.md).

The IR is a tree of JSON arrays whose first element names the node: ``["lit", 3]``,
``["ref", 0, ["household", "postcode"]]``, ``["eq", left, right]``, ``["call", "upper", arg]``,
``["scoped", "any", repeat, condition]``. Names are already resolved to a frame index and a key
path, so the browser needs no scope information; dates, times and datetimes are tagged objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dsl._bound import BBinary, BCall, BConst, BList, Bound, BProject, BRef, BScoped, BUnary

IR_VERSION = 1
"""Bumped when the meaning of an IR node changes, so a cached browser bundle can tell."""


def json_value(value: Any) -> Any:
    """A literal value as JSON: dates, times and datetimes become ``{"$date": ...}`` and the like."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.strftime("%H:%M:%S" if value.second else "%H:%M")}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def to_ir(node: Bound) -> list[Any]:
    """The IR tree of a bound expression."""
    if isinstance(node, BConst):
        return ["lit", json_value(node.value)]
    if isinstance(node, BRef):
        return ["ref", node.frame, list(node.keys)]
    if isinstance(node, BProject):
        return ["project", to_ir(node.base), list(node.keys)]
    if isinstance(node, BList):
        return ["list", *(to_ir(i) for i in node.items)]
    if isinstance(node, BUnary):
        return [node.op, to_ir(node.operand)]
    if isinstance(node, BBinary):
        return [node.op, to_ir(node.left), to_ir(node.right)]
    if isinstance(node, BCall):
        return ["call", node.function.name, *(to_ir(a) for a in node.args)]
    if isinstance(node, BScoped):
        return ["scoped", node.function.name, to_ir(node.subject), to_ir(node.pred)]
    raise TypeError(f"no IR for {node!r}")  # pragma: no cover - every bound node kind is handled


__all__ = ["IR_VERSION", "json_value", "to_ir"]
