"""The 30-field form and the submissions of the ``validation`` suite.

The form is a stop-and-search record: text with lengths and patterns, integers and decimals with
bounds, a date, a time, a datetime, yes/no questions, single and multiple choices, an email
address, a postcode, a phone number, a repeat, two constraints and four relevance conditions.
Submissions are typed JSON (as an API client sends them); each says whether it should be
accepted, and whether the difference lies in an expression that JSON Schema cannot express.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

NOW = dt.datetime(2024, 6, 15, 12, 0, tzinfo=dt.UTC)

FORM_YAML = """\
form: stop_search
version: "1"
title: Stop and search record
pages:
  - id: person
    title: The person
    fields:
      - {id: given_name, type: text, label: Given name, required: true, min_length: 1, max_length: 60}
      - {id: family_name, type: text, label: Family name, required: true, max_length: 60}
      - {id: age, type: integer, label: Age, min: 10, max: 120}
      - {id: dob, type: date, label: Date of birth, constraint: "dob <= today()",
         message: The date of birth must be in the past}
      - {id: email, type: email, label: Email address}
      - {id: postcode, type: uk_postcode, label: Home postcode}
      - {id: gender, type: select_one, label: Gender, choices: [male, female, other, not_stated]}
      - {id: height_cm, type: decimal, label: Height in centimetres, min: 50, max: 250}
      - {id: collar, type: text, label: Collar number, required: true, pattern: '[0-9]{2,6}'}
      - {id: adult, type: yesno, label: Is the person an adult}
  - id: search
    title: The search
    fields:
      - {id: searched_at, type: datetime, label: When did the search start}
      - {id: search_time, type: time, label: Time the search ended}
      - id: grounds
        type: select_many
        label: Grounds for the search
        choices: [drugs, weapons, stolen, fireworks, other]
        min_selected: 1
        required: true
      - {id: grounds_other, type: text, label: Other grounds, relevant: "selected(grounds, 'other')",
         required: true}
      - {id: outcome, type: select_one, label: Outcome, required: true, choices: [nfa, arrest, warning, pnd]}
      - {id: arrest_reason, type: textarea, label: Why was the person arrested,
         relevant: "outcome == 'arrest'", max_length: 2000}
      - {id: items_found, type: integer, label: Items found, min: 0, max: 50}
      - {id: vehicle, type: yesno, label: Was a vehicle searched}
      - {id: vrm, type: text, label: Vehicle registration, relevant: "vehicle", pattern: '[A-Z0-9 ]{2,8}'}
      - {id: officers, type: integer, label: Officers present, min: 1, max: 20,
         constraint: "officers >= items_found / 10", message: Too few officers for that many items}
  - id: more
    title: Receipt and items
    fields:
      - {id: phone, type: uk_phone, label: Contact phone number}
      - {id: receipt, type: yesno, label: Was a receipt given, required: true}
      - {id: ethnicity, type: select_one, label: Self-defined ethnicity,
         choices: [a1, a2, b1, b2, w1, w2, o1]}
      - {id: notes, type: textarea, label: Notes, max_length: 5000}
      - {id: bodycam, type: yesno, label: Was body-worn video recording}
      - {id: bodycam_ref, type: text, label: Footage reference, relevant: "bodycam",
         pattern: 'BWV-[0-9]{4,8}'}
      - id: items
        type: repeat
        label: Items seized
        min: 0
        max: 10
        fields:
          - {id: item_kind, type: select_one, label: Kind, required: true,
             choices: [knife, drugs, phone, cash, other]}
          - {id: item_desc, type: text, label: Description, max_length: 200}
          - {id: item_value, type: decimal, label: Value in pounds, min: 0}
"""


@dataclass(frozen=True, slots=True)
class Submission:
    """One submission: ``valid`` is the expected verdict of ``Form.validate``.

    ``expression_only`` marks a submission that breaks only a rule written as an expression
    (a constraint, a relevance-dependent ``required``): JSON Schema accepts it by design.
    """

    name: str
    answers: dict[str, Any]
    valid: bool
    expression_only: bool = False


_ITEMS = [
    {"item_kind": "knife", "item_desc": "Lock knife, 8 cm blade", "item_value": 12.5},
    {"item_kind": "drugs", "item_desc": "Small bag of green leaves", "item_value": 20},
    {"item_kind": "phone", "item_desc": "Black smartphone", "item_value": 150.0},
]

FULL: dict[str, Any] = {
    "given_name": "Alice",
    "family_name": "Bowen",
    "age": 34,
    "dob": "1990-03-02",
    "email": "alice.bowen@example.org",
    "postcode": "SW1A 1AA",
    "gender": "female",
    "height_cm": 170.5,
    "collar": "4521",
    "adult": True,
    "searched_at": "2024-06-01T22:15:00+01:00",
    "search_time": "22:40",
    "grounds": ["drugs", "weapons"],
    "outcome": "nfa",
    "items_found": 3,
    "vehicle": False,
    "officers": 2,
    "phone": "07700900123",
    "receipt": True,
    "ethnicity": "w1",
    "notes": "Searched in a well-lit street; person cooperative throughout.",
    "bodycam": True,
    "bodycam_ref": "BWV-20240601",
    "items": _ITEMS,
}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    answers = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _DROP:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


_DROP = object()
_MINIMAL = {
    "given_name": "Jo",
    "family_name": "Ng",
    "collar": "77",
    "grounds": ["stolen"],
    "outcome": "warning",
    "receipt": False,
    "items": [{"item_kind": "cash"}, {"item_kind": "other"}, {"item_kind": "phone"}],
}

SUBMISSIONS: tuple[Submission, ...] = (
    Submission("full", FULL, True),
    Submission("required only", _MINIMAL, True),
    Submission(
        "relevant branches",
        _with(
            FULL,
            grounds=["other", "fireworks"],
            grounds_other="Smell of cannabis",
            outcome="arrest",
            arrest_reason="Possession of an offensive weapon",
            vehicle=True,
            vrm="AB12 CDE",
        ),
        True,
    ),
    Submission("explicit nulls", _with(FULL, age=None, email=None, gender=None, notes=None), True),
    Submission("hidden answer dropped", _with(_MINIMAL, vehicle=False, vrm="AB12 CDE"), True),
    Submission("missing required", _with(FULL, family_name=_DROP, receipt=_DROP), False),
    Submission("wrong JSON types", _with(FULL, age="34", adult="yes", height_cm=[170]), False),
    Submission("out of range", _with(FULL, age=7, height_cm=300, officers=0), False),
    Submission(
        "bad formats",
        _with(FULL, email="alice@", postcode="XX1", dob="2024-02-30", phone="123", search_time="25:00"),
        False,
    ),
    Submission("bad choices", _with(FULL, gender="m", grounds=["drugs", "teleport"], ethnicity=""), False),
    Submission("pattern and length", _with(FULL, collar="12a", given_name="", family_name="x" * 61), False),
    Submission(
        "bad repeat item",
        _with(FULL, items=[_ITEMS[0], {"item_desc": "no kind"}, {"item_kind": "cash", "item_value": -5}]),
        False,
    ),
    Submission("unknown key", _with(FULL, shoe_size=9), False),
    Submission(
        "everything wrong",
        {"given_name": 5, "age": "old", "grounds": "drugs", "items": {"item_kind": "knife"}, "x": 1},
        False,
    ),
    Submission("future date of birth", _with(FULL, dob="2030-01-01"), False, expression_only=True),
    Submission(
        "constraint across fields", _with(FULL, items_found=50, officers=2), False, expression_only=True
    ),
    Submission("required when relevant", _with(FULL, grounds=["other"]), False, expression_only=True),
)
"""Five valid, nine structurally invalid and three invalid only by an expression."""


def _browser_value(value: Any) -> Any:
    """What a browser form posts for a typed answer: text, yes/no, lists of text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_browser_value(v) if not isinstance(v, dict) else browser(v) for v in value]
    return value


def browser(answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` as posted by the browser: every value text, dates as GOV.UK day/month/year,
    postcodes and phone numbers as typed by an officer."""
    out = {key: _browser_value(value) for key, value in answers.items()}
    if isinstance(answers.get("dob"), str):
        year, month, day = answers["dob"].split("-")
        out["dob"] = {"day": str(int(day)), "month": str(int(month)), "year": year}
    if isinstance(answers.get("postcode"), str):
        out["postcode"] = answers["postcode"].lower().replace(" ", "")
    if isinstance(answers.get("phone"), str):
        phone = answers["phone"]
        out["phone"] = f"{phone[:5]} {phone[5:]}"
    return out


__all__ = ["FORM_YAML", "FULL", "NOW", "SUBMISSIONS", "Submission", "browser"]
