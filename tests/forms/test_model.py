"""The model built from a form: every field type and every key, positions, paths, types that
expressions see, Welsh text and the content hash."""

from __future__ import annotations

import datetime as dt

from dsl._types import Kind
from forms import Field, FieldType, Form, Group, Page, Repeat, Text, load_form, load_list
from tests.forms.helpers import field_of, form_text, make_form

EVERY_TYPE = """\
form: every_type
version: "2.0"
title: {en: Every type, cy: Pob math}
description: A form with one of everything.
classification: OFFICIAL-SENSITIVE
statement: true
pages:
  - id: first
    title: {en: First page, cy: Tudalen gyntaf}
    description: Start here.
    fields:
      - {id: name, type: text, label: {en: Name, cy: Enw}, hint: Full name, required: true,
         required_message: Enter the name, min_length: 2, max_length: 80, pattern: '[A-Za-z ]+',
         pattern_message: Letters only, default: Anon, read_only: false}
      - {id: story, type: textarea, label: Story, rows: 8, max_length: 2000}
      - {id: count, type: integer, label: Count, min: 0, max: 9, constraint: "count != 4",
         message: Not four, warning: {when: "count > 7", message: That is a lot}}
      - {id: amount, type: decimal, label: Amount, min: 0.5, max: 99.5, places: 2, default: 1.25}
      - {id: day, type: date, label: Day, min: 2020-01-01, max: "2030-12-31", default_expr: "today()"}
      - {id: at, type: time, label: At, min: "08:00", max: "18:30"}
      - {id: stamp, type: datetime, label: Stamp, min: 2024-01-01T09:00}
      - {id: ok, type: yesno, label: "OK?", yes_label: {en: Yes, cy: Ie}, no_label: Nope, default: true}
      - {id: colour, type: select_one, label: Colour, choices: [red, {value: green, label: Green}],
         appearance: radio, default: red}
      - {id: tags, type: select_many, label: Tags, choices: tags, min_selected: 1, max_selected: 2,
         choice_filter: "choice.kind == 'x'"}
      - {id: mail, type: email, label: Email, max_length: 100, default: a@example.com}
      - {id: phone, type: uk_phone, label: Phone, default: 07700 900123}
      - {id: postcode, type: uk_postcode, label: Postcode, default: sw1a1aa}
  - id: second
    relevant: "ok"
    fields:
      - {id: pics, type: photo, label: Photos, max: 5, max_size: 5MB}
      - {id: docs, type: file, label: Documents, accept: [application/pdf, image/*]}
      - {id: sig, type: signature, label: Signature, required: "ok"}
      - {id: where, type: geopoint, label: Location, max_accuracy: 50}
      - {id: intro, type: note, label: Read this first}
      - {id: total, type: calculate, label: Total, value: "count + amount"}
      - id: address
        type: group
        label: Address
        hint: Where it happened
        relevant: "ok"
        fields:
          - {id: street, type: text, label: Street}
      - id: items
        type: repeat
        label: Items
        min: 1
        max: 3
        item_label: "{{ item_name }} ({{ qty }})"
        fields:
          - {id: item_name, type: text, label: Item}
          - {id: qty, type: integer, label: Quantity}
"""
TAGS = load_list("value,label,kind\na,A,x\nb,B,y\n", "lists/tags.csv")


def _load() -> Form:
    return load_form(EVERY_TYPE, "every_type.yaml", lists={"tags": TAGS})


def test_form_level_keys() -> None:
    """Form id, version, Welsh title, classification, statement and hash are kept."""
    form = _load()
    assert (form.id, form.version, form.classification, form.statement) == (
        "every_type",
        "2.0",
        "OFFICIAL-SENSITIVE",
        True,
    )
    assert form.title == Text("Every type", "Pob math")
    assert form.description == Text("A form with one of everything.")
    assert len(form.content_hash) == 64
    assert form.position.line == 1
    assert [p.id for p in form.pages] == ["first", "second"]
    first = form.pages[0]
    assert isinstance(first, Page)
    assert first.title is not None
    assert first.title.get("cy") == "Tudalen gyntaf"
    assert first.description == Text("Start here.")
    assert form.pages[1].relevant is not None
    assert form.pages[1].title is None
    assert dict(form.lists) == {"tags": TAGS}


def test_defaults_for_optional_form_keys() -> None:
    """A form without version, classification or statement gets the documented defaults."""
    form = make_form("- {id: a, type: text, label: A}")
    assert (form.version, form.classification, form.statement, form.description) == (
        None,
        "OFFICIAL",
        False,
        None,
    )


def test_every_field_type_loads_with_its_keys() -> None:
    """Every documented key of every type ends up on the model, typed."""
    form = _load()
    f = form.fields_by_id
    name = f["name"]
    assert isinstance(name, Field)
    assert name.type is FieldType.TEXT
    assert name.label == Text("Name", "Enw")
    assert name.hint == Text("Full name")
    assert (name.required, name.min_length, name.max_length, name.pattern) == (True, 2, 80, "[A-Za-z ]+")
    assert name.required_message == Text("Enter the name")
    assert name.pattern_message == Text("Letters only")
    assert (name.default, name.read_only) == ("Anon", False)
    assert (f["story"].rows, f["story"].max_length) == (8, 2000)  # type: ignore[union-attr]
    count = f["count"]
    assert isinstance(count, Field)
    assert (count.min, count.max) == (0, 9)
    assert count.constraint is not None
    assert count.constraint.source == "count != 4"
    assert count.message == Text("Not four")
    assert count.warning is not None
    assert count.warning.message == Text("That is a lot")
    assert count.warning.when.source == "count > 7"
    assert (f["amount"].min, f["amount"].max, f["amount"].places, f["amount"].default) == (0.5, 99.5, 2, 1.25)  # type: ignore[union-attr]
    day = f["day"]
    assert isinstance(day, Field)
    assert (day.min, day.max) == (dt.date(2020, 1, 1), dt.date(2030, 12, 31))
    assert day.default_expr is not None
    assert day.default_expr.uses_clock
    assert (f["at"].min, f["at"].max) == (dt.time(8, 0), dt.time(18, 30))  # type: ignore[union-attr]
    stamp_min = f["stamp"].min  # type: ignore[union-attr]
    assert stamp_min == dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)  # UK local: GMT in January
    ok = f["ok"]
    assert isinstance(ok, Field)
    assert ok.yes_label == Text("Yes", "Ie")
    assert ok.no_label == Text("Nope")
    assert ok.default is True
    colour = f["colour"]
    assert isinstance(colour, Field)
    assert colour.choices is not None
    assert colour.choices.values == ("red", "green")
    assert colour.list_name is None
    assert (colour.appearance, colour.default) == ("radio", "red")
    tags = f["tags"]
    assert isinstance(tags, Field)
    assert tags.choices is TAGS
    assert tags.list_name == "tags"
    assert (tags.min_selected, tags.max_selected) == (1, 2)
    assert tags.choice_filter is not None
    assert (f["mail"].max_length, f["mail"].default) == (100, "a@example.com")  # type: ignore[union-attr]
    assert f["phone"].default == "07700900123"  # type: ignore[union-attr]
    assert f["postcode"].default == "SW1A 1AA"  # type: ignore[union-attr]
    assert (f["pics"].max, f["pics"].max_size) == (5, 5 * 1024 * 1024)  # type: ignore[union-attr]
    docs = f["docs"]
    assert isinstance(docs, Field)
    assert docs.accept == ("application/pdf", "image/*")
    assert (docs.max, docs.max_size) == (1, 20 * 1024 * 1024)
    assert field_of(form, "sig").required_expr is not None
    assert field_of(form, "sig").required is False
    assert f["where"].max_accuracy == 50  # type: ignore[union-attr]
    assert field_of(form, "intro").type is FieldType.NOTE
    assert not field_of(form, "intro").takes_answer
    total = f["total"]
    assert isinstance(total, Field)
    assert total.value is not None
    assert total.expr_type.kind is Kind.NUMBER


def test_groups_and_repeats() -> None:
    """Groups and repeats hold their fields; paths lead from the form's answers."""
    form = _load()
    address = form.fields_by_id["address"]
    assert isinstance(address, Group)
    assert address.type is FieldType.GROUP
    assert address.label == Text("Address")
    assert address.hint == Text("Where it happened")
    assert address.relevant is not None
    assert [x.id for x in address.fields] == ["street"]
    assert form.fields_by_id["street"].path == ("address", "street")
    items = form.fields_by_id["items"]
    assert isinstance(items, Repeat)
    assert items.type is FieldType.REPEAT
    assert (items.min_items, items.max_items) == (1, 3)
    assert items.item_label is not None
    assert items.item_label.source == "{{ item_name }} ({{ qty }})"
    assert form.fields_by_id["qty"].path == ("items", "qty")
    assert [i.id for i in form.items()][-5:] == ["address", "street", "items", "item_name", "qty"]


def test_expression_types_of_fields() -> None:
    """Each field type has the documented type in expressions; groups are records."""
    form = _load()
    frame = form.record_type
    kinds = {name: str(frame.symbols[name].type) for name in frame.symbols}
    assert kinds["name"] == "text"
    assert kinds["count"] == "number"
    assert kinds["day"] == "date"
    assert kinds["at"] == "time"
    assert kinds["stamp"] == "datetime"
    assert kinds["ok"] == "boolean"
    assert kinds["tags"] == "list of text"
    assert kinds["pics"] == "list of attachment"
    assert kinds["sig"] == "attachment"
    assert kinds["where"] == "geopoint"
    assert kinds["address"] == "record"
    assert kinds["items"] == "list of record"
    assert kinds["total"] == "number"
    assert "intro" not in frame.symbols  # a note has no value
    assert "street" not in frame.symbols  # inside a group: address.street


def test_positions_are_kept() -> None:
    """Every item keeps the position of its YAML mapping."""
    form = _load()
    assert form.fields_by_id["name"].position.line == 12
    assert form.fields_by_id["street"].position.line == 45
    assert form.pages[1].position.line == 30


def test_content_hash_ignores_formatting() -> None:
    """The same definition written differently (flow vs block, comments, key order, quoting)
    has the same hash; any change of meaning changes it."""
    one = form_text("- {id: a, type: text, label: A, required: true}")
    two = (
        "# a comment\ntitle: 'Test form'\nform: test_form\npages:\n"
        '  - fields:\n      - required: true\n        label: "A"\n        type: text\n        id: a\n'
        "    title: Main\n    id: main\n"
    )
    three = form_text("- {id: a, type: text, label: B, required: true}")
    h1 = load_form(one, "x.yaml").content_hash
    assert h1 == load_form(two, "y.yaml").content_hash
    assert h1 != load_form(three, "x.yaml").content_hash
    # Dates written bare or quoted are the same definition.
    d1 = make_form("- {id: d, type: date, label: D, min: 2024-01-01}").content_hash
    d2 = make_form("- {id: d, type: date, label: D, min: '2024-01-01'}").content_hash
    assert d1 == d2


def test_forms_compare_by_content_hash() -> None:
    """Two loads of one definition are equal and hash alike."""
    text = form_text("- {id: a, type: text, label: A}")
    a, b = load_form(text, "a.yaml"), load_form(text, "b.yaml")
    assert a == b
    assert hash(a) == hash(b)
    assert a is not b
    assert a != make_form("- {id: b, type: text, label: B}")


def test_repr_does_not_print_sources() -> None:
    """Reprs stay short: positions (which carry the whole source text) are left out."""
    field = _load().fields_by_id["name"]
    assert "every_type" not in repr(field)
    assert "choices" in repr(TAGS)
    assert len(repr(TAGS)) < 100
