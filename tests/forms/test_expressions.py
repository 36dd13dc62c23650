"""Expressions in forms: scopes (groups, repeat items, choice filters), calculations in
dependency order, and the evaluation order."""

from __future__ import annotations

import datetime as dt

from dsl._types import Kind
from forms import load_list
from tests.forms.helpers import field_errors, make_form, messages

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_calculations_are_compiled_in_dependency_order() -> None:
    """A calculation used before it is defined still has its type, so misuse is caught."""
    fields = """\
    - {id: greeting, type: calculate, value: "name_upper + '!'"}
    - {id: name_upper, type: calculate, value: "upper(name)"}
    - {id: name, type: text, label: Name}
    """
    form = make_form(fields)
    assert form.fields_by_id["greeting"].expr_type.kind is Kind.TEXT
    assert form.evaluation_order == (("value", "name_upper"), ("value", "greeting"))
    result = form.validate({"name": "ann"})
    assert result.answers == {"name": "ann", "name_upper": "ANN", "greeting": "ANN!"}
    bad = """\
    - {id: greeting, type: calculate, value: "name_upper + '!'"}
    - {id: name_upper, type: calculate, value: "upper(name)"}
    - {id: name, type: text, label: Name, constraint: "greeting > 3"}
    """
    assert [m for _, _, m, _ in field_errors(bad)] == ["cannot compare text with number"]


def test_group_fields_are_reached_through_the_group() -> None:
    """Outside and inside a group its fields are group.field."""
    fields = """\
    - id: address
      type: group
      label: Address
      fields:
        - {id: street, type: text, label: Street}
        - {id: postcode, type: uk_postcode, label: Postcode, relevant: "address.street != null"}
    - {id: has_postcode, type: calculate, value: "address.postcode != null"}
    """
    form = make_form(fields)
    result = form.validate({"address": {"street": "1 High St", "postcode": "sw1a 1aa"}})
    assert result.answers == {
        "address": {"street": "1 High St", "postcode": "SW1A 1AA"},
        "has_postcode": True,
    }
    hidden = form.validate({"address": {"postcode": "sw1a 1aa"}})
    assert hidden.answers == {"address": {}, "has_postcode": False}
    got = field_errors(
        "- {id: g, type: group, fields: [{id: inner, type: text, label: I}]}\n"
        '- {id: c, type: calculate, value: "inner"}'
    )
    assert got[0][2] == "unknown name 'inner'"


def test_repeat_items_see_their_own_fields_and_outer_ones() -> None:
    """Inside a repeat a bare name is the item's field; outer names stay visible; outside,
    the repeat is a list (count, any, projections)."""
    fields = """\
    - {id: limit, type: integer, label: Limit}
    - id: items
      type: repeat
      label: Items
      item_label: "{{ item_name }} x{{ qty }}"
      fields:
        - {id: item_name, type: text, label: Item}
        - {id: qty, type: integer, label: Quantity, constraint: "qty <= limit", message: Too many}
        - {id: big, type: calculate, value: "qty > 5"}
        - {id: note, type: text, label: Note, relevant: "big"}
    - {id: total, type: calculate, value: "sum(items.qty)"}
    - {id: n_big, type: calculate, value: "count(items, big)"}
    - {id: any_missing, type: calculate, value: "any(items, item_name == null)"}
    """
    form = make_form(fields)
    answers = {
        "limit": 8,
        "items": [
            {"item_name": "a", "qty": 2, "note": "dropped"},
            {"item_name": "b", "qty": 9, "note": "kept"},
            {"qty": 6},
        ],
    }
    result = form.validate(answers, now=NOW)
    assert result.answers["items"] == [
        {"item_name": "a", "qty": 2, "big": False},
        {"item_name": "b", "qty": 9, "note": "kept", "big": True},
        {"qty": 6, "big": True},
    ]
    assert (result.answers["total"], result.answers["n_big"], result.answers["any_missing"]) == (17, 2, True)
    assert messages(result) == [(("items", 1, "qty"), "constraint", "Too many")]
    assert form.fields_by_id["items"].item_label is not None  # type: ignore[union-attr]
    got = field_errors(
        "- id: r\n  type: repeat\n  item_label: '{{ nme }}'\n  fields: [{id: name, type: text, label: N}]"
    )
    assert got == [(9, 25, "unknown name 'nme'", "did you mean 'name'?")]


def test_nested_repeats_push_a_frame_per_level() -> None:
    """A repeat inside a repeat sees its own item, its parent's item and the form."""
    fields = """\
    - {id: factor, type: integer, label: Factor}
    - id: people
      type: repeat
      fields:
        - {id: person, type: text, label: Person}
        - id: calls
          type: repeat
          fields:
            - {id: minutes, type: integer, label: Minutes}
            - {id: cost, type: calculate, value: "minutes * factor"}
            - {id: who, type: calculate, value: "person"}
    """
    form = make_form(fields)
    result = form.validate(
        {"factor": 2, "people": [{"person": "ann", "calls": [{"minutes": 3}, {"minutes": 4}]}]}
    )
    assert result.answers["people"][0]["calls"] == [
        {"minutes": 3, "cost": 6, "who": "ann"},
        {"minutes": 4, "cost": 8, "who": "ann"},
    ]


def test_cascading_select_with_choice_filter() -> None:
    """A choice_filter sees the choice's columns as choice.<column>, as text."""
    groups = load_list("value,label\nviolence,Violence\ntheft,Theft\n", "offence_groups.csv")
    offences = load_list(
        "value,label,group\ngbh,GBH,violence\nshoplifting,Shoplifting,theft\n", "offences.csv"
    )
    fields = """\
    - {id: offence_group, type: select_one, label: Offence group, choices: offence_groups}
    - {id: offence, type: select_one, label: Offence, choices: offences,
       choice_filter: "choice.group == offence_group"}
    """
    lists = {"offence_groups": groups, "offences": offences}
    form = make_form(fields, lists=lists)
    assert form.validate({"offence_group": "theft", "offence": "shoplifting"}).ok
    wrong = form.validate({"offence_group": "theft", "offence": "gbh"})
    assert messages(wrong) == [(("offence",), "choice", "Select offence from the list")]
    got = field_errors(fields.replace("choice.group", "choice.grp"), lists=lists)
    assert got == [(9, 33, "'choice' has no field 'grp'", "did you mean 'group'?")]


def test_choice_filter_on_inline_choices_and_select_many() -> None:
    """Inline choices may carry extra columns for a filter; every selected value is checked."""
    fields = """\
    - {id: size, type: select_one, label: Size, choices: [small, large]}
    - {id: extras, type: select_many, label: Extras,
       choices: [{value: bag, label: Bag, fits: small}, {value: trolley, label: Trolley, fits: large}],
       choice_filter: "choice.fits == size"}
    """
    form = make_form(fields)
    assert form.validate({"size": "large", "extras": ["trolley"]}).ok
    assert messages(form.validate({"size": "small", "extras": ["bag", "trolley"]})) == [
        (("extras",), "choice", "Select extras from the list")
    ]


def test_evaluation_order_puts_relevance_and_calculations_after_what_they_read() -> None:
    """Page relevance, item relevance and calculations are ordered by what they read."""
    pages = (
        "  - id: one\n    fields:\n"
        '      - {id: late, type: text, label: Late, relevant: "flag"}\n'
        '      - {id: flag, type: calculate, value: "age >= 18"}\n'
        "      - {id: age, type: integer, label: Age}\n"
        '  - id: two\n    relevant: "flag"\n    fields:\n'
        "      - {id: extra, type: text, label: Extra}\n"
    )
    form = make_form("", pages=pages)
    order = form.evaluation_order
    assert order.index(("value", "flag")) < order.index(("relevant", "late"))
    assert order.index(("value", "flag")) < order.index(("page", "two"))
    result = form.validate({"age": 17, "late": "x", "extra": "y"})
    assert result.answers == {"age": 17, "flag": False}
    assert form.validate({"age": 30, "late": "x", "extra": "y"}).answers == {
        "age": 30,
        "flag": True,
        "late": "x",
        "extra": "y",
    }
