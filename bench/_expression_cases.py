"""The expressions the ``expressions`` suite times, each with the lambda a developer would write.

Every reference implements the language's null rules (docs/expressions.md) by hand:
ordering with null is false; ``and``/``or`` treat null as false; arithmetic with null is null
(and division by zero is null); text ``+`` treats null as ""; ``len(null)`` is 0;
``matches(null, ...)`` is false; ``count`` counts the items whose condition is true; a template
renders null as "" and a whole number without ".0". The suite checks that the compiled
expression and its lambda give the same value on every input before timing either.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dsl._types import BOOLEAN, DATE, NUMBER, TEXT, RecordType, Scope, Symbol, Type, repeat

Answers = Mapping[str, Any]
NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC)
"""The clock every evaluation sees, so ``today()`` is the same for both sides."""
LONDON = ZoneInfo("Europe/London")


def _record(fields: Mapping[str, Type]) -> RecordType:
    return RecordType.of({name: Symbol(name, t, (name,)) for name, t in fields.items()})


CHILD = _record({"name": TEXT, "age": NUMBER})
SCOPE = Scope.of(
    _record(
        {
            "age": NUMBER,
            "given_name": TEXT,
            "family_name": TEXT,
            "nickname": TEXT,
            "risk_grading": TEXT,
            "status": TEXT,
            "postcode": TEXT,
            "immediate_risk": BOOLEAN,
            "child_dob": DATE,
            "weight_kg": NUMBER,
            "height_m": NUMBER,
            "children": repeat(CHILD),
        }
    )
)


@dataclass(frozen=True, slots=True)
class Case:
    """One expression (or template, when ``template``) and its hand-written equivalent."""

    name: str
    source: str
    reference: Callable[[Answers], Any]
    template: bool = False


def _age(born: dt.date, today: dt.date) -> int:
    """Completed years; a 29 February birthday falls on 1 March in a common year."""
    birthday = (born.month, born.day)
    if birthday == (2, 29) and not calendar.isleap(today.year):
        birthday = (3, 1)
    return today.year - born.year - ((today.month, today.day) < birthday)


def _render_number(value: int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)


def _bmi(a: Answers) -> float | None:
    weight, height = a.get("weight_kg"), a.get("height_m")
    if weight is None or height is None:
        return None
    square = height * height
    return None if square == 0 else weight / square


_POSTCODE_START = re.compile("^[A-Z]{1,2}[0-9]")
_OPEN = frozenset({"open", "review"})

CASES: tuple[Case, ...] = (
    Case("compare with literal", "age >= 18", lambda a: (v := a.get("age")) is not None and v >= 18),
    Case("equality", "risk_grading == 'high'", lambda a: a.get("risk_grading") == "high"),
    Case(
        "and/or chain",
        "immediate_risk and risk_grading != 'high' or age < 16",
        lambda a: (
            (a.get("immediate_risk") is True and a.get("risk_grading") != "high")
            or ((v := a.get("age")) is not None and v < 16)
        ),
    ),
    Case("membership", "status in ['open', 'review']", lambda a: a.get("status") in _OPEN),
    Case("arithmetic", "weight_kg / (height_m * height_m)", _bmi),
    Case(
        "null-coalescing",
        "nickname ?? given_name ?? 'unknown'",
        lambda a: (
            v
            if (v := a.get("nickname")) is not None
            else (w if (w := a.get("given_name")) is not None else "unknown")
        ),
    ),
    Case(
        "text concatenation",
        "given_name + ' ' + family_name",
        lambda a: (a.get("given_name") or "") + " " + (a.get("family_name") or ""),
    ),
    Case(
        "if()",
        "if(age >= 18, 'adult', 'child')",
        lambda a: "adult" if (v := a.get("age")) is not None and v >= 18 else "child",
    ),
    Case(
        "years_between(dob, today())",
        "years_between(child_dob, today())",
        lambda a: None if (d := a.get("child_dob")) is None else _age(d, NOW.astimezone(LONDON).date()),
    ),
    Case(
        "len and matches",
        "len(given_name) >= 2 and matches(postcode, '^[A-Z]{1,2}[0-9]')",
        lambda a: (
            len(a.get("given_name") or "") >= 2
            and (p := a.get("postcode")) is not None
            and _POSTCODE_START.search(p) is not None
        ),
    ),
    Case(
        "count(repeat, condition)",
        "count(children, age < 5)",
        lambda a: sum(1 for c in a.get("children") or () if (v := c.get("age")) is not None and v < 5),
    ),
    Case(
        "template",
        "{{ given_name }} {{ upper(family_name) }}, aged {{ age }}",
        lambda a: (
            f"{a.get('given_name') or ''} "
            f"{f.upper() if (f := a.get('family_name')) is not None else ''}, "
            f"aged {_render_number(a.get('age'))}"
        ),
        template=True,
    ),
)

_KIDS = [{"name": "Ava", "age": 2}, {"name": "Ben", "age": 7}, {"name": "Cy", "age": None}]

INPUTS: tuple[dict[str, Any], ...] = (
    {
        "age": 34,
        "given_name": "Alice",
        "family_name": "Bowen",
        "risk_grading": "medium",
        "status": "open",
        "postcode": "SW1A 1AA",
        "immediate_risk": True,
        "child_dob": dt.date(2010, 6, 16),
        "weight_kg": 61.5,
        "height_m": 1.68,
        "children": _KIDS,
    },
    {},
    {"age": 15, "given_name": "J", "nickname": "Jay", "immediate_risk": False, "postcode": "sw1a 1aa"},
    {
        "age": 18.0,
        "family_name": "Lee",
        "risk_grading": "high",
        "status": "closed",
        "immediate_risk": True,
        "child_dob": dt.date(2008, 2, 29),
        "weight_kg": 70,
        "height_m": 0,
        "children": [],
    },
    {
        "age": 4,
        "given_name": "Tom",
        "family_name": "Ng",
        "status": "review",
        "postcode": "B1 1AA",
        "child_dob": dt.date(2020, 6, 15),
        "weight_kg": 17,
        "children": [{"name": n, "age": a} for n, a in zip("abcdef", (1, 4, 5, 9, 3, None), strict=True)],
    },
    {"age": None, "given_name": None, "family_name": None, "immediate_risk": None, "children": None},
)
"""Answer sets: full, empty, partly answered, edge values (leap-day birthday, zero height), nulls."""

__all__ = ["CASES", "INPUTS", "NOW", "SCOPE", "Case"]
