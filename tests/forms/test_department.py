"""department.yaml: id, title, roles and connections."""

from __future__ import annotations

import pytest

from dsl import DefinitionError
from forms import Department, Text, load_department

GOOD = """\
department: public_protection
title: {en: Public Protection Unit, cy: Uned Diogelu'r Cyhoedd}
description: Safeguarding children and vulnerable adults.
roles:
  officer: {title: Police officer}
  supervisor: {title: Sergeant or above, description: Reviews referrals}
connections:
  mash: {url: "https://mash.example", token: "${env:MASH_TOKEN}"}
"""


def test_department_loads_roles_and_welsh_title() -> None:
    """A department has an id, bilingual title, roles by id (with positions) and connections."""
    dept = load_department(GOOD, "department.yaml")
    assert isinstance(dept, Department)
    assert dept.id == "public_protection"
    assert dept.title.get("cy") == "Uned Diogelu'r Cyhoedd"
    assert dict(dept.roles) == {"officer": Text("Police officer"), "supervisor": Text("Sergeant or above")}
    assert dept.role_positions["supervisor"].line == 6
    assert dept.connections["mash"]["token"] == "${env:MASH_TOKEN}"  # noqa: S105 - a reference, not a secret
    assert dept.description == Text("Safeguarding children and vulnerable adults.")
    assert dept.position.line == 1


def test_department_without_roles() -> None:
    """Roles are optional."""
    dept = load_department("department: traffic\ntitle: Roads policing\n", "department.yaml")
    assert dict(dept.roles) == {}


def test_department_errors_are_all_reported() -> None:
    """Bad ids, a missing title and unknown keys are reported together, each at its place."""
    text = "department: Bad\nroles:\n  Officer: {title: x}\n  sup: {titel: y}\n"
    with pytest.raises(DefinitionError) as caught:
        load_department(text, "department.yaml")
    got = [(d.position.line, d.position.column, d.message, d.hint) for d in caught.value.diagnostics]  # type: ignore[union-attr]
    id_hint = "use lower case letters, digits and _, starting with a letter (e.g. child_name)"
    assert got == [
        (1, 1, "missing 'title' in the department", None),
        (1, 13, "'Bad' is not a valid id", id_hint),
        (3, 3, "'Officer' is not a valid role id", id_hint),
        (4, 8, "missing 'title' in role 'sup'", None),
        (4, 9, "unknown key 'titel' in role 'sup'", "did you mean 'title'?"),
    ]


def test_department_must_be_a_mapping() -> None:
    """A list instead of a mapping is one clear error."""
    with pytest.raises(DefinitionError, match="the department must be a mapping, not a list"):
        load_department("- a\n", "department.yaml")
