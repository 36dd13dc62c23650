"""Suite ``repeats``: the cost of validating a repeat at 10, 100 and 1,000 items.

Target (DESIGN.md section 8): linear cost. Each item has six fields, a constraint, a relevance
condition and a ``required`` rule; the form adds aggregates over the repeat (``count`` with a
condition, ``sum``). The figure is the cost per item at 1,000 items against the cost per item at
100 items (the median of the per-round ratios, all sizes timed in the same interleaved rounds):
1.0 is perfectly linear, and fixed costs spread over more items push it below 1. jsonschema on
the exported schema is timed alongside for scale. Submissions are valid, or have an error in
every tenth item.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import jsonschema

from bench._report import BenchError, Column, Config, SuiteResult, Target
from bench._timing import Ratio, Samples, calibrate, interleaved, make_timer
from forms import Form, load_form

GOAL = 1.3
"""Largest accepted (per-item cost at 1,000) / (per-item cost at 100). Linear work gives 1.0
(less with fixed costs), n log n work 1.5 and quadratic work 10; the 30% margin is the noise of
this shared machine, where even jsonschema's per-item cost moves by 20% between sizes."""
MIN_ROUNDS = 15
NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC)

FORM_YAML = """\
form: household
version: "1"
title: Household members
pages:
  - id: main
    title: Household
    fields:
      - {id: address, type: text, label: Address, required: true}
      - {id: visited_on, type: date, label: Date of the visit, constraint: "visited_on <= today()"}
      - id: people
        type: repeat
        label: People
        min: 1
        max: 5000
        fields:
          - {id: name, type: text, label: Full name, required: true, max_length: 100}
          - {id: age, type: integer, label: Age, min: 0, max: 120}
          - {id: dob, type: date, label: Date of birth, constraint: "dob <= today()"}
          - {id: role, type: select_one, label: Role, choices: [parent, child, carer, visitor, other]}
          - {id: has_phone, type: yesno, label: Has a phone}
          - {id: phone, type: uk_phone, label: Phone, relevant: "has_phone", required: true}
      - {id: children, type: calculate, value: "count(people, age < 18)"}
      - {id: total_age, type: calculate, value: "sum(people.age)"}
"""


def submission(items: int, broken_every: int = 0) -> dict[str, Any]:
    """A submission with ``items`` people; with ``broken_every``, every such item has an error."""
    people = []
    for i in range(items):
        person: dict[str, Any] = {
            "name": f"Person {i}",
            "age": 5 + i % 80,
            "dob": f"{2019 - i % 80}-0{1 + i % 9}-1{i % 9}",
            "role": ("parent", "child", "carer", "visitor", "other")[i % 5],
            "has_phone": i % 2 == 0,
        }
        if i % 2 == 0:
            person["phone"] = "07700900123"
        if broken_every and i % broken_every == broken_every - 1:
            person["age"] = 200  # out of range
        people.append(person)
    return {"address": "1 High Street", "visited_on": "2024-06-01", "people": people}


COLUMNS = (
    Column("items", "items"),
    Column("variant", "submission"),
    Column("ours_ms", "ours ms", ".3f"),
    Column("ours_per_item_us", "ours µs/item", ".2f"),
    Column("jsonschema_ms", "jsonschema ms", ".3f"),
    Column("jsonschema_per_item_us", "jsonschema µs/item", ".2f"),
    Column("speedup", "speedup", ".1f"),
)


def _check(
    form: Form, answers: dict[str, Any], valid: bool, validator: jsonschema.Draft202012Validator
) -> None:
    ours = form.validate(answers, coerce=False, now=NOW)
    theirs = not any(True for _ in validator.iter_errors(answers))
    if ours.ok != valid or theirs != valid:
        raise BenchError(
            f"repeat of {len(answers['people'])} items: validate ok={ours.ok}, jsonschema ok={theirs}"
        )
    if valid and ours.answers["children"] != sum(1 for p in answers["people"] if p["age"] < 18):
        raise BenchError("count(people, age < 18) gave a wrong answer")


def _timers(
    form: Form, validator: jsonschema.Draft202012Validator, answers: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ours": make_timer(partial(form.validate, answers, coerce=False, now=NOW)),
        "theirs": make_timer(partial(lambda a: list(validator.iter_errors(a)), answers)),
    }


def run(config: Config) -> SuiteResult:
    """Run the suite: every size of one variant is timed in the same interleaved rounds."""
    form = load_form(FORM_YAML, "household.yaml")
    validator = jsonschema.Draft202012Validator(form.json_schema())
    sizes = (10, 20, 40) if config.quick else (10, 100, 1000)
    result = SuiteResult("repeats", "validation cost of a repeat by number of items", COLUMNS)
    small, large = sizes[1], sizes[2]
    # The ratio of two sizes' per-item costs is the noisiest figure of all the suites: take the
    # median of more rounds than the others need.
    rounds = config.rounds if config.quick else max(config.rounds, MIN_ROUNDS)
    for variant, broken in (("valid", 0), ("1 in 10 items invalid", 10)):
        timers = {}
        for items in sizes:
            answers = submission(items, broken)
            _check(form, answers, not broken, validator)
            for side, timer in _timers(form, validator, answers).items():
                timers[f"{side} {items}"] = timer
        numbers = {name: 1 if config.quick else calibrate(t, config.min_time) for name, t in timers.items()}
        samples = interleaved(timers, numbers, rounds)
        for items in sizes:
            ours, theirs = samples[f"ours {items}"], samples[f"theirs {items}"]
            result.rows.append(
                {
                    "items": items,
                    "variant": variant,
                    "ours_ms": ours.best * 1e3,
                    "ours_per_item_us": ours.best / items * 1e6,
                    "jsonschema_ms": theirs.best * 1e3,
                    "jsonschema_per_item_us": theirs.best / items * 1e6,
                    "speedup": theirs.best / ours.best if ours.best > 0 else float("inf"),
                    "ours_spread": ours.spread,
                }
            )
        growth = Ratio.of(
            _per_item(samples[f"ours {large}"], large), _per_item(samples[f"ours {small}"], small)
        )
        reference = Ratio.of(
            _per_item(samples[f"theirs {large}"], large), _per_item(samples[f"theirs {small}"], small)
        )
        result.targets.append(
            Target(
                f"per-item cost at {large} / at {small} items ({variant})",
                f"<= {GOAL:g} (linear)",
                growth.median,
                "",
                growth.median <= GOAL,
                f"median of paired rounds (range {growth.low:.2f}-{growth.high:.2f}); "
                f"jsonschema's own growth {reference.median:.2f}",
            )
        )
    result.notes.append(
        "each item: 6 fields, a constraint, a relevance condition with required; "
        "form-level count(people, age < 18) and sum(people.age)"
    )
    result.notes.append(
        "growth 1.0 = linear, 1.5 = n log n, 10 = quadratic; jsonschema's growth shows what a larger "
        "working set costs any validator"
    )
    return result


def _per_item(samples: Samples, items: int) -> Samples:
    return Samples(tuple(v / items for v in samples.values))


__all__ = ["FORM_YAML", "GOAL", "run", "submission"]
