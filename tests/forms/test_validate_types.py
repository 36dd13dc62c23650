"""Reading answers of every type: what a browser sends (coerce) and strict JSON (API clients),
with the message an officer sees for each mistake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from forms import Form
from tests.forms.helpers import make_form, messages

SHA = "a" * 64
PHOTO = {
    "sha256": SHA,
    "filename": "p.jpg",
    "content_type": "image/jpeg",
    "size": 1000,
    "captured_at": "2024-03-01T10:00:00+00:00",
}


def _one(field: str, value: Any, *, coerce: bool = True) -> tuple[Any, list[tuple[Any, ...]]]:
    form = make_form(field)
    fid = next(iter(form.fields_by_id))
    result = form.validate({fid: value}, coerce=coerce)
    return result.answers.get(fid), [(code, message) for _, code, message in messages(result)]


INTEGER = "- {id: children, type: integer, label: Number of children, min: 0, max: 10}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3), (" 42 ".replace("42", "7"), 7), ("4.0", 4), (5, 5), (6.0, 6), ("+2", 2)],
)
def test_integer_from_browser_text(value: Any, expected: int) -> None:
    """Whole numbers are read from text, with spaces, a plus sign or a .0."""
    assert _one(INTEGER, value) == (expected, [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,000", "Enter number of children without commas, like 1500"),
        ("2.5", "Number of children must be a whole number"),
        ("two", "Number of children must be a number"),
        ("11", "Number of children must be between 0 and 10"),
        (True, "Number of children must be a whole number"),
        ("9" * 20, "Number of children must be a number with no more than 15 digits"),
    ],
)
def test_integer_mistakes(value: Any, message: str) -> None:
    """Commas are refused politely; decimals, words and out-of-range numbers are explained."""
    answer, errors = _one(INTEGER, value)
    assert answer is None
    assert [m for _, m in errors] == [message]


def test_integer_min_and_max_codes() -> None:
    """Bounds use the codes min and max."""
    assert _one("- {id: n, type: integer, label: Age, min: 18}", 17)[1] == [("min", "Age must be 18 or more")]
    assert _one("- {id: n, type: integer, label: Age, max: 65}", 70)[1] == [("max", "Age must be 65 or less")]


def test_decimal_places_and_bounds() -> None:
    """Decimals keep their value, allow the declared places and refuse more."""
    field = "- {id: v, type: decimal, label: Value, min: 0, places: 2}"
    assert _one(field, "12.50") == (12.5, [])
    assert _one(field, "7") == (7, [])
    assert _one(field, "1.234") == (None, [("places", "Value must have no more than 2 decimal places")])
    assert _one(field, "-1") == (None, [("min", "Value must be 0 or more")])
    assert _one(field, "1,234.5") == (None, [("type", "Enter value without commas, like 1500")])
    assert _one(field, float("nan"))[1] == [("type", "Value must be a number")]


DATE = "- {id: dob, type: date, label: Date of birth, min: 1900-01-01, max: 2030-12-31}"


@pytest.mark.parametrize(
    "value",
    [
        "2015-02-01",
        " 2015-02-01 ",
        "1/2/2015",
        "01/02/2015",
        {"day": "1", "month": "2", "year": "2015"},
        {"day": "01", "month": "feb", "year": "2015"},
        {"day": 1, "month": "February", "year": 2015},
        dt.date(2015, 2, 1),
    ],
)
def test_date_from_browser_input(value: Any) -> None:
    """Dates come as YYYY-MM-DD, UK day/month/year text, or a GOV.UK date input mapping."""
    assert _one(DATE, value) == (dt.date(2015, 2, 1), [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2015-02-30", "Date of birth must be a real date"),
        ("tomorrow", "Date of birth must be a real date"),
        ({"day": "1", "month": "", "year": ""}, "Date of birth must include a month and year"),
        ({"day": "", "month": "2", "year": "2015"}, "Date of birth must include a day"),
        ({"day": "1", "month": "2", "year": "15"}, "Date of birth must include a year with 4 numbers"),
        ({"day": "31", "month": "2", "year": "2015"}, "Date of birth must be a real date"),
        ("1899-12-31", "Date of birth must be the same as or after 1 January 1900"),
        ("2031-01-01", "Date of birth must be the same as or before 31 December 2030"),
    ],
)
def test_date_mistakes(value: Any, message: str) -> None:
    """Date messages follow the GOV.UK date input pattern."""
    assert _one(DATE, value)[1][0][1] == message


def test_empty_date_input_is_no_answer() -> None:
    """A GOV.UK date input left empty is no answer, so a required date says 'Enter ...'."""
    field = "- {id: dob, type: date, label: Date of birth, required: true}"
    assert _one(field, {"day": "", "month": "", "year": ""}) == (None, [("required", "Enter date of birth")])


def test_time_and_datetime() -> None:
    """Times are HH:MM (9:30 and seconds accepted from browsers); datetimes without an offset
    are UK local time."""
    field = "- {id: t, type: time, label: Time seen, min: '08:00'}"
    assert _one(field, "9:30") == (dt.time(9, 30), [])
    assert _one(field, "14:30:59") == (dt.time(14, 30), [])
    assert _one(field, {"hour": "10", "minute": "5"}) == (dt.time(10, 5), [])
    assert _one(field, "25:00") == (None, [("type", "Time seen must be a real time, like 14:30")])
    assert _one(field, "07:59") == (None, [("min", "Time seen must be 08:00 or later")])
    stamp = "- {id: s, type: datetime, label: Arrest time}"
    summer, _ = _one(stamp, "2024-07-01T10:30")
    assert summer == dt.datetime(2024, 7, 1, 9, 30, tzinfo=dt.UTC)  # BST
    assert _one(stamp, "2024-07-01 10:30Z")[0] == dt.datetime(2024, 7, 1, 10, 30, tzinfo=dt.UTC)
    assert _one(stamp, "2024-07-01T10:30", coerce=False)[1] == [
        ("type", "Arrest time must include a time zone offset, like 2024-03-01T14:30:00+00:00")
    ]
    assert _one(stamp, "2024-02-30T10:30")[1] == [("type", "Arrest time must be a real date and time")]


@pytest.mark.parametrize(
    ("value", "expected"), [("yes", True), ("No", False), ("true", True), (False, False)]
)
def test_yesno_from_text(value: Any, expected: bool) -> None:
    """yes/no and true/false are read in any case."""
    assert _one("- {id: a, type: yesno, label: Arrested}", value) == (expected, [])


def test_yesno_mistakes_and_strict_mode() -> None:
    """Anything else asks for yes or no; strict mode takes only JSON booleans."""
    field = "- {id: a, type: yesno, label: Arrested}"
    assert _one(field, "maybe") == (None, [("type", "Select yes or no")])
    assert _one(field, "yes", coerce=False) == (None, [("type", "Select yes or no")])


def test_select_one_and_many() -> None:
    """Choices must be listed; a single string is one selection; duplicates are merged."""
    one = "- {id: c, type: select_one, label: Colour, choices: [red, green]}"
    assert _one(one, " red ") == ("red", [])
    assert _one(one, "blue") == (None, [("choice", "Select colour from the list")])
    many = "- {id: c, type: select_many, label: Colours, choices: [red, green, blue], max_selected: 2}"
    assert _one(many, "red") == (["red"], [])
    assert _one(many, ["red", "red", " green"]) == (["red", "green"], [])
    assert _one(many, ["red", "green", "blue"])[1] == [("max", "Select no more than 2 options for colours")]
    assert _one(many, ["red", "red"], coerce=False)[1] == [("duplicate", "Select each option only once")]
    least = "- {id: c, type: select_many, label: Colours, choices: [red, green], min_selected: 2}"
    assert _one(least, ["red"])[1] == [("min", "Select at least 2 options for colours")]


def test_text_is_trimmed_and_bounded() -> None:
    """Browser text is trimmed (textarea line endings normalised) and checked against lengths
    and the author's pattern."""
    field = "- {id: ref, type: text, label: Exhibit reference, min_length: 4, pattern: '[A-Z]{2}/[0-9]+'}"
    assert _one(field, "  AB/12 ") == ("AB/12", [])
    assert _one(field, "ab/12")[1] == [("pattern", "Enter exhibit reference in the correct format")]
    assert _one(field, "A/1")[1] == [("min_length", "Exhibit reference must be 4 characters or more")]
    assert _one(field, "AB/12\n", coerce=False)[1] == [
        ("pattern", "Enter exhibit reference in the correct format")
    ]
    custom = "- {id: ref, type: text, label: Ref, pattern: '[0-9]+', pattern_message: Use digits only}"
    assert _one(custom, "x1")[1] == [("pattern", "Use digits only")]
    assert _one("- {id: s, type: textarea, label: Story}", "a\r\nb") == ("a\nb", [])
    assert _one("- {id: s, type: text, label: Name}", "x" * 501)[1] == [
        ("max_length", "Name must be 500 characters or fewer")
    ]
    assert _one("- {id: s, type: text, label: Name}", 12)[1] == [("type", "Name must be text")]


def test_uk_formats_are_normalised() -> None:
    """Postcodes, phone numbers and email addresses are normalised or explained."""
    postcode = "- {id: p, type: uk_postcode, label: Postcode}"
    assert _one(postcode, "sw1a1aa") == ("SW1A 1AA", [])
    assert _one(postcode, "nowhere") == (None, [("format", "Enter a real postcode, like SW1A 1AA")])
    assert _one(postcode, "sw1a 1aa", coerce=False)[1] == [("format", "Enter a real postcode, like SW1A 1AA")]
    phone = "- {id: p, type: uk_phone, label: Phone}"
    assert _one(phone, "07700 900-123") == ("07700900123", [])
    assert _one(phone, "+44 (0)20 7946 0000") == ("+442079460000", [])
    assert _one(phone, "999")[1][0][0] == "format"
    email = "- {id: e, type: email, label: Email}"
    assert _one(email, " duty.sergeant@police.example.uk ") == ("duty.sergeant@police.example.uk", [])
    assert _one(email, "not an email")[1] == [
        ("format", "Enter an email address in the correct format, like name@example.com")
    ]


def test_attachments() -> None:
    """Photos and files are lists of attachment records; size, type and count are checked."""
    photos = "- {id: p, type: photo, label: Photos, max: 2, max_size: 1KB}"
    answer, errors = _one(photos, [PHOTO])
    assert errors == []
    assert answer == [{**PHOTO, "captured_at": dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)}]
    assert _one(photos, [PHOTO] * 3)[1] == [("max", "Add no more than 2 photos")]
    assert _one(photos, [{**PHOTO, "size": 5000}])[1] == [
        ("max_size", "The selected file must be smaller than 1KB")
    ]
    assert _one(photos, [{**PHOTO, "content_type": "application/pdf"}])[1] == [
        ("file_type", "The selected file must be an image")
    ]
    assert _one(photos, [{**PHOTO, "sha256": "xyz"}])[1] == [
        ("type", "Photos is not a file uploaded from this form")
    ]
    assert _one(photos, PHOTO)[0] is not None  # one record is a list of one (browser)
    files = "- {id: f, type: file, label: Documents, accept: [application/pdf, image/*]}"
    assert _one(files, [{**PHOTO, "content_type": "text/plain"}])[1] == [
        ("file_type", "The selected file must be application/pdf or image file")
    ]
    signature = "- {id: s, type: signature, label: Signature}"
    assert _one(signature, {**PHOTO, "extra": 1})[1] == [
        ("type", "Signature is not a file uploaded from this form")
    ]


def test_geopoint() -> None:
    """A location has a latitude and longitude in range and an optional accuracy."""
    field = "- {id: g, type: geopoint, label: Location}"
    assert _one(field, {"lat": 51.5, "lon": -0.12, "accuracy": 8}) == (
        {"lat": 51.5, "lon": -0.12, "accuracy": 8},
        [],
    )
    assert _one(field, {"lat": "51.5", "lon": "-0.12"}) == ({"lat": 51.5, "lon": -0.12}, [])
    assert _one(field, {"lat": 95, "lon": 0})[1] == [
        ("type", "Location must be a location with a latitude and longitude")
    ]
    assert _one(field, {"lat": "51.5", "lon": 0}, coerce=False)[1][0][0] == "type"


def test_empty_values_are_no_answer() -> None:
    """Empty text, blank spaces, empty lists and null are no answer (required says so)."""
    form: Form = make_form("""\
    - {id: a, type: text, label: Name, required: true}
    - {id: b, type: integer, label: Age, required: true}
    - {id: c, type: select_many, label: Colours, choices: [x], required: true}
    - {id: d, type: yesno, label: "Are you sure?", required: true}
    - {id: e, type: photo, label: Photos, required: true}
    """)
    result = form.validate({"a": "   ", "b": "", "c": [], "d": None, "e": []})
    assert messages(result) == [
        (("a",), "required", "Enter name"),
        (("b",), "required", "Enter age"),
        (("c",), "required", "Select colours"),
        (("d",), "required", "Select yes or no"),
        (("e",), "required", "Add photos"),
    ]
    assert result.answers == {}
