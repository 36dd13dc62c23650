"""UK formats: postcodes, phone numbers and e-mail addresses.

The same rules serve the expression functions (``is_postcode`` and friends) and the field types
``uk_postcode``, ``uk_phone`` and ``email``, which call the plain helpers here to validate and
normalise an answer, so a form and an expression never disagree about what is valid.

Postcodes follow Royal Mail's published shapes (A9, A99, AA9, AA99, A9A, AA9A, then 9AA, with the
letters each position never uses excluded) plus the special GIR 0AA; upper or lower case, one
optional space between the halves. Phone numbers are UK geographic and non-geographic (01, 02,
03, 08) and mobile (07) numbers of the right length, written with ``0`` or ``+44`` (``+44 (0)``
is understood); spaces, dashes and brackets are ignored, and short codes such as 999 are not
phone numbers. E-mail checking is pragmatic, not RFC 5322: ``local@domain.tld``, no spaces.
"""

from __future__ import annotations

import re
from typing import Any

from dsl._functions import Function, fixed
from dsl._types import BOOLEAN, TEXT

_OUTWARD = r"[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRV-Y])"
_POSTCODE = re.compile(rf"(?:({_OUTWARD}) ?([0-9][ABD-HJLNP-UW-Z]{{2}})|(GIR) ?(0AA))")
# 01 and 08 numbers have 10 or 11 digits (e.g. 016977 xxxx, 0800 xxx xxx); 02, 03 and 07 have 11.
_NATIONAL = re.compile(r"0(?:[18][0-9]{8,9}|[237][0-9]{9})")
_PHONE_CHARS = re.compile(r"\+?[0-9\s()-]+")
_PHONE_SEPARATORS = re.compile(r"[\s()-]")
_TRUNK_ZERO = re.compile(r"\+44\s*\(0\)")  # "+44 (0)20 ...": the bracketed 0 is dialled only at home
# Characters that are legal in a quoted RFC local part but in practice mean a pasted
# "Name <address>" or a typing slip; rejecting them keeps is_email useful.
_LOCAL = re.compile(r"[^\s\x00-\x1f\x7f@<>()\[\]\\,;:\"]+")
_LABEL = re.compile(r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?")  # letters/digits, inner hyphens
_MAX_EMAIL = 254


def normalise_postcode(text: str) -> str | None:
    """A UK postcode in upper case with one space before the inward code, or None if invalid.

    ``"sw1a1aa"`` and ``" SW1A 1AA "`` both give ``"SW1A 1AA"``.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    found = _POSTCODE.fullmatch(text.strip().upper())
    if found is None:
        return None
    outward = found[1] or found[3]
    inward = found[2] or found[4]
    return f"{outward} {inward}"


def normalise_uk_phone(text: str) -> str | None:
    """A UK phone number as digits with its leading ``0`` or ``+44`` kept, or None if invalid.

    ``"07700 900-123"`` gives ``"07700900123"``; ``"+44 (0)20 7946 0000"`` gives
    ``"+442079460000"``. Only numbers of a UK length starting 01, 02, 03, 07 or 08 are valid.
    """
    if not isinstance(text, str):
        return None
    compact = text.strip()
    if _PHONE_CHARS.fullmatch(compact) is None:
        return None
    compact = _PHONE_SEPARATORS.sub("", _TRUNK_ZERO.sub("+44", compact, count=1))
    if compact.startswith("+44"):
        rest = compact[3:]
        national = "0" + rest
        valid = not rest.startswith("0") and _NATIONAL.fullmatch(national) is not None
        return compact if valid else None
    return compact if _NATIONAL.fullmatch(compact) is not None else None


def is_valid_email(text: str) -> bool:
    """Whether ``text`` looks like an e-mail address: ``local@domain.tld``, no spaces.

    The local part has no spaces or ``<>()[]\\,;:"`` and no empty dot-separated piece; the domain
    has at least two labels of letters, digits and inner hyphens, the last one not all digits.
    """
    if not isinstance(text, str) or len(text) > _MAX_EMAIL or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if len(local) > 64 or _LOCAL.fullmatch(local) is None or "" in local.split("."):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or len(labels[-1]) < 2:
        return False
    return all(_LABEL.fullmatch(label) is not None for label in labels)


def _is_postcode(text: Any) -> bool:
    return normalise_postcode(text) is not None


def _is_uk_phone(text: Any) -> bool:
    return normalise_uk_phone(text) is not None


def _is_email(text: Any) -> bool:
    return is_valid_email(text)


def _format_postcode(text: Any) -> Any:
    normal = normalise_postcode(text)
    return text if normal is None else normal


_TEST = fixed([TEXT], BOOLEAN)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="is_postcode",
        category="formats",
        signature="is_postcode(text: text) -> boolean",
        summary="Whether the text is a UK postcode (any case, optional space); false for null.",
        example="is_postcode('sw1a1aa') → true",
        min_args=1,
        max_args=1,
        check=_TEST,
        impl=_is_postcode,
        propagate_null=False,
    ),
    Function(
        name="is_uk_phone",
        category="formats",
        signature="is_uk_phone(text: text) -> boolean",
        summary="Whether the text is a UK phone or mobile number (0 or +44, spaces allowed); null is false.",
        example="is_uk_phone('+44 7700 900123') → true",
        min_args=1,
        max_args=1,
        check=_TEST,
        impl=_is_uk_phone,
        propagate_null=False,
    ),
    Function(
        name="is_email",
        category="formats",
        signature="is_email(text: text) -> boolean",
        summary="Whether the text looks like an e-mail address: local@domain.tld, no spaces; null is false.",
        example="is_email('duty.sergeant@police.example.uk') → true",
        min_args=1,
        max_args=1,
        check=_TEST,
        impl=_is_email,
        propagate_null=False,
    ),
    Function(
        name="format_postcode",
        category="formats",
        signature="format_postcode(text: text) -> text",
        summary="A valid postcode in capitals with one space before the inward code; other text as it is.",
        example="format_postcode('sw1a1aa') → 'SW1A 1AA'",
        min_args=1,
        max_args=1,
        check=fixed([TEXT], TEXT),
        impl=_format_postcode,
    ),
)

__all__ = ["FUNCTIONS", "is_valid_email", "normalise_postcode", "normalise_uk_phone"]
