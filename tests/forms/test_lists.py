"""Shared choice lists: CSV and YAML list files, and bilingual text."""

from __future__ import annotations

import pytest

from dsl import DefinitionError
from forms import ChoiceList, Text, load_list


def _errors(text: str, name: str) -> list[tuple[int, str, str | None]]:
    with pytest.raises(DefinitionError) as caught:
        load_list(text, name)
    return [(d.position.line if d.position else 0, d.message, d.hint) for d in caught.value.diagnostics]


def test_text_falls_back_to_english() -> None:
    """Text.get gives Welsh when written, else English, and English for any other language."""
    both = Text("Date of birth", "Dyddiad geni")
    assert both.get("cy") == "Dyddiad geni"
    assert both.get("en") == "Date of birth"
    assert both.get("fr") == "Date of birth"
    assert Text("Name").get("cy") == "Name"
    assert str(both) == "Date of birth"


def test_csv_list_with_bom_welsh_and_extra_columns() -> None:
    """A CSV list keeps value, label (with label_cy as Welsh) and other columns as text data."""
    text = "\ufeffvalue,label,label_cy,category\ntheft,Theft,Lladrad,acquisitive\nassault,Assault,,violence\n"
    found = load_list(text, "lists/offences.csv")
    assert isinstance(found, ChoiceList)
    assert found.name == "offences"
    assert found.columns == ("category",)
    assert found.values == ("theft", "assault")
    theft = found.get("theft")
    assert theft is not None
    assert theft.label == Text("Theft", "Lladrad")
    assert theft.data == {"category": "acquisitive"}
    assert theft.position is not None
    assert theft.position.line == 2
    assert found.get("assault").label.get("cy") == "Assault"  # type: ignore[union-attr]
    assert "theft" in found
    assert "burglary" not in found
    assert len(found) == 2
    assert theft.record() == {"value": "theft", "label": "Theft", "category": "acquisitive"}


def test_csv_quoted_commas_blank_lines_and_spaces() -> None:
    """Quoted cells may hold commas and newlines; blank lines are skipped; cells are trimmed."""
    text = 'value,label\n a , "Alpha, first"\n\n"b","Two\nlines"\nc,Gamma\n'
    found = load_list(text, "letters.csv")
    assert found.values == ("a", "b", "c")
    assert found.get("a").label.en == "Alpha, first"  # type: ignore[union-attr]
    assert found.get("c").position.line == 6  # type: ignore[union-attr]


def test_csv_errors_point_at_rows() -> None:
    """Every bad row is reported at its own line: duplicates name the first line."""
    text = "value,label\na,A\na,Again\n,No value\nb\nc,\n"
    assert _errors(text, "x.csv") == [
        (3, "duplicate value 'a' (first at line 2)", "values are unique within a list"),
        (4, "this row has no value", None),
        (
            5,
            "this row has 1 cell but the header has 2 columns",
            "put a value containing a comma in double quotes",
        ),
        (6, "the row for 'c' has no label", None),
    ]


def test_csv_header_problems() -> None:
    """A header without value or label is refused with a did-you-mean; bad column names too."""
    assert _errors("value,lable\na,b\n", "x.csv") == [
        (1, "the header row has no 'label' column", "did you mean 'lable'? (rename it to 'label')"),
    ]
    problems = _errors("value,label,value,Main Group\n", "x.csv")
    assert (1, "the header row names column 'value' twice", None) in problems
    assert any("column 'Main Group' cannot be used in a choice_filter" in m for _, m, _ in problems)
    assert _errors("", "x.csv")[0][1] == "the list is empty: the first row must name the columns"
    assert _errors("value,label\n", "x.csv") == [
        (1, "the list has no rows", "add one row per choice under the header")
    ]


def test_large_csv_list_loads_and_looks_up() -> None:
    """A 20,000-row list loads in one pass and looks values up by dictionary."""
    rows = "\n".join(f"v{i},Label {i},g{i % 7}" for i in range(20_000))
    found = load_list("value,label,group\n" + rows + "\n", "big.csv")
    assert len(found) == 20_000
    assert found.get("v19999").data == {"group": "g0"}  # type: ignore[union-attr]
    assert found.get("v20000") is None


def test_yaml_list_bare_values_and_mappings() -> None:
    """A YAML list takes bare values (their own label) and mappings; YAML booleans stay as written."""
    text = "- yes\n- {value: 01, label: {en: One, cy: Un}, group: 2}\n- {value: c}\n"
    found = load_list(text, "lists/things.yml")
    assert found.name == "things"
    assert found.values == ("yes", "01", "c")
    assert found.get("01").label == Text("One", "Un")  # type: ignore[union-attr]
    assert found.get("01").data == {"group": "2"}  # type: ignore[union-attr]
    assert found.get("c").label == Text("c")  # type: ignore[union-attr]
    assert found.columns == ("group",)


def test_yaml_list_errors() -> None:
    """Duplicates, a misspelt label key and an unusable column name are positioned errors."""
    text = "- a\n- {value: b, lable: B}\n- a\n- {value: c, 'bad col': 1}\n"
    assert _errors(text, "l.yaml") == [
        (2, "unknown key 'lable' in choice 2 of the list", "did you mean 'label'?"),
        (
            3,
            "duplicate choice value 'a' in the list (choice 1, line 1, has it too)",
            "values are unique within a list",
        ),
        (
            4,
            "column 'bad col' cannot be used in a choice_filter",
            "a column name is letters, digits and _, starting with a letter, so that choice.<column> works",
        ),
    ]
    assert _errors("{value: a}\n", "l.yaml") == [(1, "the list must be a list, not a mapping", None)]
    assert _errors("- {label: A}\n", "l.yaml") == [
        (1, "missing 'value' in choice 1", "a choice needs value: the text stored in the answers")
    ]


def test_unknown_list_extension() -> None:
    """Only .csv, .yaml and .yml lists can be loaded."""
    assert _errors("a,b", "x.txt") == [
        (1, "cannot load list 'x.txt': a list file ends in .csv, .yaml or .yml", None)
    ]
