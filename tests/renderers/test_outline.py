"""The author outlines of forms and workflows, and the department summary, as plain rows."""

from __future__ import annotations

from dsl import DefinitionError
from forms import Text
from renderers import form_outline, summarise_department, workflow_outline
from renderers._outline import MAX_CHOICES_SHOWN, Detail, ItemOutline
from tests.renderers import samples


def _item(outline_items: tuple[ItemOutline, ...], ident: str) -> ItemOutline:
    for item in outline_items:
        if item.id == ident:
            return item
        found = [c for c in item.children if c.id == ident]
        if found:
            return found[0]
    raise LookupError(ident)


def _terms(item: ItemOutline) -> dict[str, Detail]:
    return {d.term: d for d in item.details}


def test_form_outline_identity() -> None:
    """The outline carries the form's id, version, content hash, classification and counts."""
    form = samples.form()
    outline = form_outline(form)
    assert (outline.id, outline.version, outline.classification) == ("concern", "2.1", "OFFICIAL-SENSITIVE")
    assert outline.content_hash == form.content_hash
    assert len(outline.content_hash) == 64
    assert outline.title == Text("Concern for a person", "Pryder am berson")
    assert [p.id for p in outline.pages] == ["person", "more"]
    assert [p.number for p in outline.pages] == [1, 2]
    # full_name, age, offence, risk, at_risk, postcode, what, photo: not the group, repeat or calculation
    assert outline.question_count == 8


def test_field_rows_show_expressions_as_code() -> None:
    """Required, constraint and conditions are rows; expressions are marked as code, text is not."""
    person = form_outline(samples.form()).pages[0]
    name = _terms(_item(person.items, "full_name"))
    assert name["Required"] == Detail("Required", "Yes")
    assert name["Pattern"] == Detail("Pattern", "[A-Za-z ]+", code=True)
    assert name["Length"].value == "at most 80 characters"
    age = _terms(_item(person.items, "age"))
    assert age["Constraint"] == Detail("Constraint", "age >= 0", code=True)
    assert age["Constraint message"] == Detail("Constraint message", "Check the age")
    assert age["Bounds"].value == "0 to 120"
    at_risk = _terms(_item(person.items, "at_risk"))
    assert at_risk["Required when"] == Detail("Required when", "age != null and age < 18", code=True)
    assert "Required" not in at_risk


def test_labels_and_hints_keep_both_languages() -> None:
    """A field's label and hint are kept as Text, with the Welsh when the author wrote it."""
    name = _item(form_outline(samples.form()).pages[0].items, "full_name")
    assert name.label == Text("Full name", "Enw llawn")
    assert name.hint == Text("As they gave it")
    assert name.line == 10


def test_shared_list_is_named_and_cut_short() -> None:
    """A field on a shared list names the list and shows only the first choices, counting the rest."""
    offence = _item(form_outline(samples.form()).pages[0].items, "offence")
    assert offence.list_name == "offences"
    assert len(offence.choices) == MAX_CHOICES_SHOWN
    assert offence.more_choices == 30 - MAX_CHOICES_SHOWN
    assert offence.choices[0].value == "o0"


def test_inline_choices_are_all_shown() -> None:
    """Inline choices have no list name; each keeps its value and bilingual label."""
    risk = _item(form_outline(samples.form()).pages[0].items, "risk")
    assert risk.list_name is None
    assert [(c.value, c.label) for c in risk.choices] == [
        ("low", Text("low")),
        ("high", Text("High", "Uchel")),
    ]
    assert risk.more_choices == 0


def test_groups_repeats_and_page_conditions() -> None:
    """Pages keep their condition; groups and repeats nest their fields and show their own rows."""
    more = form_outline(samples.form()).pages[1]
    assert more.relevant == "at_risk == true"
    address = _item(more.items, "address")
    assert address.type == "group"
    postcode = address.children[0]
    assert postcode.id == "postcode"
    assert _terms(postcode)["Answer path"] == Detail("Answer path", "address.postcode", code=True)
    items = _terms(_item(more.items, "items"))
    assert items["Items"].value == "0 to 5"
    assert items["Item label"] == Detail("Item label", "{{ what }}", code=True)
    score = _terms(_item(more.items, "score"))
    assert score["Value"] == Detail("Value", "count(items)", code=True)
    assert "Required" not in score  # a calculation takes no answer
    photo = _terms(_item(more.items, "photo"))
    assert photo["Largest file"].value == "10MB"


def test_workflow_outline_steps_in_written_order() -> None:
    """Steps come in the order written, the first marked as the start, each with its kind."""
    outline = workflow_outline(samples.workflow())
    assert [s.id for s in outline.steps] == [
        "triage",
        "fan_out",
        "tell",
        "pause",
        "meet",
        "review",
        "chase",
        "done",
    ]
    assert [s.kind for s in outline.steps][:3] == ["decide", "parallel", "call"]
    assert [s.id for s in outline.steps if s.is_start] == ["triage"]
    assert outline.trigger_form == "concern"
    assert outline.version == "1"


def test_workflow_routes_say_when() -> None:
    """Conditional routes show their condition; defaults, next, branches and overdue are labelled."""
    steps = {s.id: s for s in workflow_outline(samples.workflow()).steps}
    triage = [(r.label, r.condition, r.goto) for r in steps["triage"].routes]
    assert triage == [("if", "at_risk == true", "fan_out"), ("otherwise", None, "review")]
    assert [(r.label, r.goto) for r in steps["fan_out"].routes] == [("branch", "tell"), ("branch", "pause")]
    assert [(r.label, r.goto) for r in steps["review"].routes] == [
        ("next", "done"),
        ("when overdue", "chase"),
    ]
    assert steps["done"].routes == ()


def test_workflow_step_details() -> None:
    """Calls name plugin, connection and inputs; tasks their role and form; waits their time."""
    steps = {s.id: {d.term: d.value for d in s.details} for s in workflow_outline(samples.workflow()).steps}
    assert steps["tell"]["Plugin"] == "notify"
    assert steps["tell"]["Connection"] == "mail"
    assert steps["tell"]["Inputs"] == "to"
    assert steps["tell"]["Attempts"].startswith("3 ")
    assert steps["review"]["Role"] == "supervisor (ppu)"
    assert steps["review"]["Due"] == "4h"
    assert steps["pause"]["Wait for"] == "2h"
    assert steps["meet"]["Joins"] == "fan_out"


def test_summary_of_a_clean_department() -> None:
    """A compiled department lists its forms and workflows with titles and says it has no problems."""
    summary = summarise_department(
        "ppu",
        "force/ppu",
        department=samples.department(),
        forms={"concern": samples.form()},
        workflows={"concern": samples.workflow()},
    )
    assert summary.ok
    assert summary.status == "No problems"
    assert summary.title == Text("Public Protection Unit", "Uned Diogelu'r Cyhoedd")
    assert [(f.name, f.title.en) for f in summary.forms] == [("concern", "Concern for a person")]
    assert summary.workflows[0].note == "starts when concern is submitted"
    assert [r for r, _ in summary.roles] == ["officer", "supervisor"]


def test_summary_of_a_broken_department() -> None:
    """A department that did not compile is named after its files and counts its problems."""
    try:
        samples.form(samples.FORM.replace("type: integer", "type: integr"))
    except DefinitionError as error:
        diagnostics = error.diagnostics
    else:
        raise AssertionError("the broken form loaded")
    summary = summarise_department(
        "ppu", "force/ppu", department=None, forms=["concern"], workflows=[], diagnostics=diagnostics
    )
    assert not summary.ok
    assert summary.status == f"{len(diagnostics)} problem" + ("s" if len(diagnostics) > 1 else "")
    assert summary.errors == len(diagnostics)
    assert summary.title == Text("ppu")
    assert summary.forms[0].title == Text("concern")
    assert summary.problems[0].startswith("ppu/forms/concern.yaml:12:25: error: unknown field type")
