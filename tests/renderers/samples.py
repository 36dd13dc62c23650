"""Small definitions for the renderer tests, loaded with the real loaders (no files)."""

from __future__ import annotations

from forms import Department, Form, load_department, load_form, load_list
from workflows import PluginSpec, RetryPolicy, Workflow, load_workflow

DEPARTMENT = """\
department: ppu
title: {en: Public Protection Unit, cy: Uned Diogelu'r Cyhoedd}
roles:
  officer: {title: Police officer}
  supervisor: {title: Sergeant or above}
connections:
  mail: {plugin: notify}
"""

FORM = """\
form: concern
version: "2.1"
title: {en: Concern for a person, cy: Pryder am berson}
description: About someone at risk.
classification: OFFICIAL-SENSITIVE
pages:
  - id: person
    title: The person
    fields:
      - {id: full_name, type: text, label: {en: Full name, cy: Enw llawn}, required: true,
         hint: As they gave it, max_length: 80, pattern: '[A-Za-z ]+'}
      - {id: age, type: integer, label: Age, min: 0, max: 120,
         constraint: "age >= 0", message: Check the age}
      - {id: offence, type: select_one, label: Offence, choices: offences}
      - id: risk
        type: select_one
        label: Risk
        choices: [low, {value: high, label: {en: High, cy: Uchel}}]
      - {id: at_risk, type: yesno, label: At risk now, required: "age != null and age < 18"}
  - id: more
    relevant: "at_risk == true"
    fields:
      - id: address
        type: group
        label: Address
        fields:
          - {id: postcode, type: uk_postcode, label: Postcode}
      - id: items
        type: repeat
        label: Items
        max: 5
        item_label: "{{ what }}"
        fields:
          - {id: what, type: text, label: What}
      - {id: score, type: calculate, value: "count(items)"}
      - {id: photo, type: photo, label: Photo, max: 2, max_size: 10MB}
"""

OFFENCES = "value,label\n" + "".join(f"o{n},Offence {n}\n" for n in range(30))

FLOW = """\
workflow: concern
version: "1"
title: Concern follow-up
on: {submitted: concern}
steps:
  triage:
    decide:
      - {when: "at_risk == true", goto: fan_out}
      - {goto: review}
  fan_out:
    parallel: [tell, pause]
  tell:
    call: notify
    connection: mail
    with: {to: "duty@example.org"}
    next: meet
  pause:
    wait: {for: 2h}
    next: meet
  meet:
    join: fan_out
    next: review
  review:
    task: {role: supervisor, form: concern, due: 4h, on_overdue: chase}
    next: done
  chase:
    call: notify
    connection: mail
    with: {to: "sergeant@example.org"}
    next: done
  done: {end: true}
"""

NOTIFY = PluginSpec(
    name="notify",
    config_schema={"type": "object"},
    input_schema={"type": "object", "properties": {"to": {"type": "string"}}},
    output_schema={"type": "object"},
    idempotent=True,
    retry=RetryPolicy(attempts=3),
)


def department() -> Department:
    """The sample department."""
    return load_department(DEPARTMENT, "ppu/department.yaml")


def form(text: str = FORM) -> Form:
    """The sample form (or ``text``), with its shared list of 30 offences."""
    return load_form(text, "ppu/forms/concern.yaml", lists={"offences": load_list(OFFENCES, "offences.csv")})


def workflow() -> Workflow:
    """The sample workflow: every kind of step."""
    return load_workflow(
        FLOW,
        "ppu/workflows/concern.yaml",
        department=department(),
        forms={"concern": form()},
        plugins={"notify": NOTIFY},
    )
