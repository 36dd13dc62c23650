"""Which pages and items are relevant to the answers so far (forms.evaluate, relevant_pages)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forms import Form, evaluate, load_form, relevant_pages

FORM = """\
form: trip
title: A trip
pages:
  - id: start
    fields:
      - {id: travelling, type: yesno, label: Are you travelling?}
      - {id: companions, type: integer, label: How many companions?, relevant: "travelling"}
      - id: people
        type: repeat
        label: People
        fields:
          - {id: name, type: text, label: Name}
          - {id: age, type: integer, label: Age}
          - {id: guardian, type: text, label: Guardian, relevant: "age < 18"}
      - {id: total, type: calculate, value: "count(people) + 1"}
  - id: travel
    relevant: "travelling"
    fields:
      - {id: destination, type: text, label: Where to?}
  - id: end
    fields:
      - {id: notes, type: textarea, label: Notes}
"""
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(FORM, "trip.yaml")


def test_a_page_whose_condition_is_false_is_not_relevant(form: Form) -> None:
    assert [p.id for p in relevant_pages(form, {}, NOW)] == ["start", "end"]
    assert [p.id for p in relevant_pages(form, {"travelling": "yes"}, NOW)] == ["start", "travel", "end"]
    assert [p.id for p in relevant_pages(form, {"travelling": "no"}, NOW)] == ["start", "end"]


def test_hidden_items_inside_repeats_and_calculations(form: Form) -> None:
    answers = {"travelling": "no", "companions": "3", "people": [{"name": "A", "age": "12"}, {"age": "40"}]}
    found = evaluate(form, answers, now=NOW)
    assert found.is_hidden(("companions",))
    assert not found.is_hidden(("people", 0, "guardian"))
    assert found.is_hidden(("people", 1, "guardian"))
    assert found.is_hidden(("people", 1, "guardian", "deeper"))  # anything under a hidden item
    assert "companions" not in found.answers  # dropped, as validate drops it
    assert found.answers["total"] == 3
    assert found.answers["people"][0]["age"] == 12  # read as a browser sends it


def test_bad_answers_are_treated_as_not_given(form: Form) -> None:
    found = evaluate(form, {"travelling": "perhaps", "people": "not a list", "zzz": 1}, now=NOW)
    assert [p.id for p in found.pages()] == ["start", "end"]
    assert "travelling" not in found.answers


def test_now_must_be_aware(form: Form) -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(form, {}, now=datetime(2025, 1, 1))
