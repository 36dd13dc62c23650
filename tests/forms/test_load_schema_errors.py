"""Shape problems found by the definition-format schema, mapped back to the YAML positions and
rewritten as sentences an author can act on."""

from __future__ import annotations

from tests.forms.helpers import field_errors, form_text, load_errors

ID_HINT = "use lower case letters, digits and _, starting with a letter (e.g. child_name)"


def test_unknown_field_type_with_did_you_mean() -> None:
    """An unknown type is named, positioned at the value, with the closest types as a hint."""
    assert field_errors("- {id: name, type: txt, label: Name}") == [
        (7, 26, "unknown field type 'txt'", "did you mean 'text'?"),
    ]
    assert (
        field_errors("- {id: when, type: datetme, label: When}")[0][3] == "did you mean 'datetime' or 'date'?"
    )


def test_unknown_key_with_did_you_mean_points_at_the_key() -> None:
    """A misspelt key is reported at the key itself."""
    assert field_errors("- {id: age, type: integer, label: Age, requried: true}") == [
        (7, 46, "unknown key 'requried' in field 'age'", "did you mean 'required'?"),
    ]


def test_key_of_another_type_says_where_it_applies() -> None:
    """A key valid for other types only names those types."""
    assert field_errors("- {id: age, type: integer, label: Age, min_length: 3}") == [
        (
            7,
            46,
            "unknown key 'min_length' in field 'age'",
            "'min_length' only applies to text, textarea fields",
        ),
    ]


def test_missing_label_id_and_type() -> None:
    """Every question needs a label; every item an id and a type."""
    assert field_errors("- {id: name, type: text}") == [
        (
            7,
            9,
            "missing 'label' in field 'name'",
            "every question needs a label, e.g. label: Child's full name",
        ),
    ]
    assert field_errors("- {type: text, label: Name}") == [
        (7, 9, "missing 'id' in item 1 of page 'main'", "add id: a unique name such as child_name"),
    ]
    assert field_errors("- {id: name, label: Name}") == [
        (7, 9, "missing 'type' in field 'name'", "add type: text (or another field type)"),
    ]


def test_invalid_id() -> None:
    """Ids are lower case letters, digits and _."""
    assert field_errors("- {id: Child Name, type: text, label: Name}") == [
        (7, 14, "'Child Name' is not a valid id", ID_HINT)
    ]


def test_field_written_as_text() -> None:
    """A bare word where a field mapping belongs gets a hint showing the mapping form."""
    assert field_errors("- child_name") == [
        (
            7,
            9,
            "item 1 of page 'main' must be a mapping, not text",
            "write it as a mapping, e.g. {id: child_name, type: text, label: Name}",
        ),
    ]


def test_yaml_booleans_and_numbers_where_text_belongs() -> None:
    """A YAML 1.1 boolean where text is expected explains quoting; a numeric version too."""
    assert field_errors("- {id: ok, type: yesno, label: Ok, pattern_message: x}")[0][2] == (
        "unknown key 'pattern_message' in field 'ok'"
    )
    got = load_errors(form_text("- {id: a, type: text, label: A}", head="version: 1.2\n"))
    assert got == [
        (
            3,
            10,
            "'version' in the form must be text, not a number",
            'write the version in quotes, e.g. version: "1.2"',
        )
    ]
    got = field_errors("- {id: a, type: text, label: A, pattern: yes}")
    assert got == [
        (
            7,
            48,
            "'pattern' in field 'a' must be text, not a boolean",
            "YAML reads yes, no, on, off, true and false as booleans: put the text in quotes",
        ),
    ]


def test_yes_and_no_labels_may_be_bare_words() -> None:
    """Text keys accept what YAML reads as booleans and keep the author's words."""
    from tests.forms.helpers import field_of, make_form

    form = make_form("- {id: ok, type: yesno, label: Agreed, yes_label: Yes, no_label: No}")
    field = field_of(form, "ok")
    assert field.yes_label is not None
    assert field.yes_label.en == "Yes"
    assert field.no_label is not None
    assert field.no_label.en == "No"


def test_enum_values_with_did_you_mean() -> None:
    """A wrong appearance lists the allowed values and suggests the closest."""
    got = field_errors("- {id: s, type: select_one, label: S, choices: [a], appearance: radoi}")
    assert got == [
        (
            7,
            71,
            "'appearance' in field 's' must be one of 'radio', 'dropdown', 'autocomplete', not 'radoi'",
            "did you mean 'radio'?",
        ),
    ]


def test_bilingual_text_mapping_problems() -> None:
    """A text mapping needs en and takes only en and cy."""
    got = field_errors("- {id: a, type: text, label: {cy: Enw, fr: Nom}}")
    assert got == [
        (7, 36, "missing 'en' in 'label' of field 'a'", None),
        (7, 46, "unknown key 'fr' in 'label' of field 'a'", None),
    ]


def test_empty_pages_fields_and_choices() -> None:
    """A form needs a page, a page a field, a select a choice."""
    assert load_errors("form: f\ntitle: T\npages: []\n") == [(3, 8, "a form needs at least one page", None)]
    assert load_errors("form: f\ntitle: T\npages:\n  - {id: p, fields: []}\n") == [
        (4, 21, "page 'p' needs at least one field", None),
    ]
    assert field_errors("- {id: s, type: select_one, label: S, choices: []}") == [
        (7, 54, "field 's' needs at least one choice", None),
    ]


def test_form_level_keys() -> None:
    """Missing form keys and unknown ones are reported on the form."""
    got = load_errors("form: f\ntitel: T\npages:\n  - {id: p, fields: [{id: a, type: note, label: Hi}]}\n")
    assert got == [
        (1, 1, "missing 'title' in the form", None),
        (2, 1, "unknown key 'titel' in the form", "did you mean 'title'?"),
    ]
    assert load_errors("- a\n") == [(1, 1, "the form must be a mapping, not a list", None)]


def test_sizes_mime_types_and_lengths() -> None:
    """max_size is a size, accept a list of MIME types, lengths are not negative."""
    got = field_errors("- {id: f, type: file, label: F, max_size: lots, accept: [pdf]}")
    assert got == [
        (7, 49, "'lots' is not a size", "write a size such as 10MB or 512KB"),
        (7, 64, "'pdf' is not a MIME type", "e.g. application/pdf or image/*"),
    ]
    assert field_errors("- {id: t, type: text, label: T, max_length: 0}") == [
        (7, 51, "'max_length' in field 't' must be at least 1", None),
    ]


def test_warning_needs_when_and_message() -> None:
    """A warning is a mapping with when and message."""
    assert field_errors("- {id: a, type: integer, label: A, warning: {when: 'a > 3'}}") == [
        (7, 51, "missing 'message' in the warning of field 'a'", "add message: the text the officer sees"),
    ]


def test_items_inside_groups_are_checked_and_named() -> None:
    """Problems inside a group or repeat name the item, with its own position."""
    fields = """\
    - id: address
      type: group
      label: Address
      fields:
        - {id: street, type: text, lable: Street}
    """
    got = field_errors(fields)
    assert (11, 38, "unknown key 'lable' in field 'street'", "did you mean 'label'?") in got
    assert (
        11,
        13,
        "missing 'label' in field 'street'",
        "every question needs a label, e.g. label: Child's full name",
    ) in got
