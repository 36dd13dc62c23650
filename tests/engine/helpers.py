"""Small department folders written to a temporary directory for the engine tests."""

from __future__ import annotations

from pathlib import Path

DEPARTMENT = """\
department: {id}
title: Public Protection Unit
roles:
  officer: {{title: Police officer}}
  supervisor: {{title: Sergeant or above}}
"""

FORM = """\
form: {id}
version: "1"
title: Concern for a person
pages:
  - id: person
    title: The person
    fields:
      - {{id: full_name, type: text, label: Full name, required: true}}
      - {{id: offence, type: select_one, label: Offence, choices: offences}}
      - {{id: seen_on, type: date, label: Date seen}}
"""

OFFENCES_CSV = "value,label,group\ntheft,Theft from a person,property\nassault,Common assault,violence\n"


def write(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path``, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_department(folder: Path, dept_id: str = "ppu", form_id: str = "concern") -> Path:
    """A valid department: department.yaml, lists/offences.csv and forms/<form_id>.yaml."""
    write(folder / "department.yaml", DEPARTMENT.format(id=dept_id))
    write(folder / "lists" / "offences.csv", OFFENCES_CSV)
    write(folder / "forms" / f"{form_id}.yaml", FORM.format(id=form_id))
    return folder
