"""UK formats: postcodes, phone numbers, e-mail addresses (dsl/_lib_formats.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from dsl._functions import ArgTypeError
from dsl._lib_formats import FUNCTIONS, is_valid_email, normalise_postcode, normalise_uk_phone
from dsl._types import BOOLEAN, NUMBER, TEXT
from tests.dsl._lib_support import (
    WellTyped,
    apply,
    caller,
    compile_error,
    conforms,
    evaluate,
    examples,
    same_value,
    well_typed_calls,
)

BY_NAME = {f.name: f for f in FUNCTIONS}


call = caller(FUNCTIONS)


def test_module_exposes_exactly_the_contract_names() -> None:
    """The formats module provides is_postcode, is_uk_phone, is_email and format_postcode."""
    assert set(BY_NAME) == {"is_postcode", "is_uk_phone", "is_email", "format_postcode"}
    assert all(f.category == "formats" for f in FUNCTIONS)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        (" ec1a 1bb ", "EC1A 1BB"),
        ("M1 1AE", "M1 1AE"),  # A9
        ("B33 8TH", "B33 8TH"),  # A99
        ("CR2 6XH", "CR2 6XH"),  # AA9
        ("DN55 1PT", "DN55 1PT"),  # AA99
        ("W1A 0AX", "W1A 0AX"),  # A9A
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A
        ("GIR 0AA", "GIR 0AA"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_valid_postcodes_normalise(text: str, normal: str) -> None:
    """Every official postcode shape is valid, in any case, with or without the space."""
    assert normalise_postcode(text) == normal
    assert call("is_postcode", text) is True
    assert call("format_postcode", text) == normal


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SW1A",
        "SW1A  1AA",  # two spaces
        "SW1A-1AA",
        "QA1 1AA",  # Q never starts a postcode
        "AI1 1AA",  # I never comes second
        "W1I 1AA",  # I is not a third-position letter
        "SW1A 1AC",  # C is not used in the inward code
        "SW1A 1AAA",
        "12345",
        "gır 0aa",  # dotless i upper-cases to I; still not a postcode
        "SW1A\n1AA",  # only a space may separate the halves
    ],
)
def test_invalid_postcodes(text: str) -> None:
    """Other text is not a postcode, and format_postcode leaves it unchanged."""
    assert normalise_postcode(text) is None
    assert call("is_postcode", text) is False
    assert call("format_postcode", text) == text


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("07700 900123", "07700900123"),
        ("07700-900-123", "07700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("+44(0)2079460000", "+442079460000"),
        ("(020) 7946 0000", "02079460000"),
        ("0117 496 0000", "01174960000"),
        ("016977 1234", "0169771234"),  # a 10-digit 01 number
        ("0800 123 456", "0800123456"),  # a 10-digit 0800 number
        ("0300 123 1234", "03001231234"),
    ],
)
def test_valid_uk_phone_numbers(text: str, normal: str) -> None:
    """UK numbers with 0 or +44 are valid; spaces, dashes and brackets are dropped."""
    assert normalise_uk_phone(text) == normal
    assert call("is_uk_phone", text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "999",
        "112",
        "101",
        "07700 90012",  # too short for a mobile
        "077009001234",  # too long
        "0207946000",  # 02 numbers have 11 digits
        "+44 07700 900123",  # +44 then the trunk 0
        "+1 202 555 0100",
        "0044 7700 900123",
        "04700 900123",  # 04 and 05 are not in use
        "07700a900123",
        "07700.900.123",
        "++447700900123",
        "0770０900123",  # a full-width digit
    ],
)
def test_invalid_uk_phone_numbers(text: str) -> None:
    """Short codes, wrong lengths, unused prefixes and other characters are rejected."""
    assert normalise_uk_phone(text) is None
    assert call("is_uk_phone", text) is False


@pytest.mark.parametrize(
    "text",
    ["a@b.co", "duty.sergeant@police.example.uk", "x+tag@mail-host.org", "o'brien@example.ie", "a@bücher.de"],
)
def test_valid_email(text: str) -> None:
    """Ordinary addresses are valid."""
    assert is_valid_email(text)
    assert call("is_email", text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a@b",
        "a@b.c",
        "a@@b.com",
        "a@b@c.com",
        "a b@c.com",
        "a@b .com",
        " a@b.com",
        "Name <a@b.com>",
        "a..b@c.com",
        ".a@c.com",
        "a.@c.com",
        "@b.com",
        "a@.com",
        "a@b..com",
        "a@-b.com",
        "a@b-.com",
        "a@b_c.com",
        "a@b.123",
        "a@\x00b.com",
        "a" * 65 + "@b.com",
        "a@" + "b" * 64 + ".com",
        "a@" + "b." * 130 + "com",
    ],
)
def test_invalid_email(text: str) -> None:
    """Addresses without local@domain.tld shape, with spaces or over-long parts are rejected."""
    assert not is_valid_email(text)
    assert call("is_email", text) is False


def test_null_handling() -> None:
    """The is_* tests are false for null; format_postcode of null is null."""
    for name in ("is_postcode", "is_uk_phone", "is_email"):
        assert not BY_NAME[name].propagate_null
        assert call(name, None) is False
    assert call("format_postcode", None) is None


def test_helpers_take_non_text_safely() -> None:
    """The plain helpers reject non-text values instead of raising."""
    bad: Any = 7700900123
    assert normalise_postcode(bad) is None
    assert normalise_uk_phone(bad) is None
    assert is_valid_email(bad) is False
    assert BY_NAME["format_postcode"].impl(bad) == bad


def test_type_rules() -> None:
    """The functions take text; a number argument is a type error at index 0."""
    assert BY_NAME["is_postcode"].check([TEXT]) == BOOLEAN
    assert BY_NAME["format_postcode"].check([TEXT]) == TEXT
    with pytest.raises(ArgTypeError) as err:
        BY_NAME["is_uk_phone"].check([NUMBER])
    assert err.value.index == 0


@settings(max_examples=400, deadline=None)
@given(well_typed_calls(FUNCTIONS))
def test_no_well_typed_call_raises(case: WellTyped) -> None:
    """Any values of the types the type rule accepts give a result of the declared type or null."""
    fn, returns, args = case
    assert conforms(apply(fn, *args), returns), (fn.name, args)


@pytest.mark.parametrize(("name", "expr", "result"), examples(FUNCTIONS))
def test_documented_example_holds(name: str, expr: str, result: str) -> None:
    """Each function's documented example, compiled and evaluated, gives the documented result."""
    assert same_value(evaluate(expr), evaluate(result)), name


def test_end_to_end_on_answers() -> None:
    """The format checks work on answers and treat an unanswered field as not valid."""
    fields = {"postcode": TEXT, "phone": TEXT, "email": TEXT}
    assert evaluate("is_postcode(postcode)", fields, {"postcode": "ls14ap"}) is True
    assert evaluate("format_postcode(postcode)", fields, {"postcode": "ls14ap"}) == "LS1 4AP"
    assert evaluate("is_postcode(postcode) or is_uk_phone(phone) or is_email(email)", fields) is False
    assert evaluate("format_postcode(postcode)", fields) is None
    assert evaluate("is_uk_phone(phone)", fields, {"phone": "+44 (0)113 496 0000"}) is True
    assert evaluate("is_email(email)", fields, {"email": "pc.bowen@police.example.uk"}) is True


def test_end_to_end_type_errors() -> None:
    """A number argument to a format check is a load-time error."""
    assert "must be a text" in str(compile_error("is_uk_phone(7700900123)"))
    assert "must be a text" in str(compile_error("format_postcode(1)"))
