"""Error messages an officer can act on, following the GOV.UK Design System's error-message
guidance: say what to do, use the question's own words, no codes or jargon.

Messages are built only when an answer is wrong, from the field's label: "Enter date of birth",
"Date of birth must be a real date", "Number of children must be 10 or less". A label written as
a question ("Is the child at risk?") cannot be fitted into a sentence, so it is quoted instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from forms._fields import FieldType
from forms._text import Text

FT = FieldType
_ENTER = frozenset(
    {
        FT.TEXT,
        FT.TEXTAREA,
        FT.INTEGER,
        FT.DECIMAL,
        FT.DATE,
        FT.TIME,
        FT.DATETIME,
        FT.EMAIL,
        FT.UK_PHONE,
        FT.UK_POSTCODE,
    }
)
_ADD = frozenset({FT.PHOTO, FT.FILE, FT.SIGNATURE})

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
PHONE_FORMAT = "Enter a UK telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
POSTCODE_FORMAT = "Enter a real postcode, like SW1A 1AA"
CHECK_ANSWER = "Check this answer"


@dataclass(frozen=True, slots=True)
class Wording:
    """How one field is named in messages: ``subject`` starts a sentence ("Date of birth"),
    ``phrase`` follows a verb ("date of birth")."""

    subject: str
    phrase: str
    question: bool

    def fill(self, template: str) -> str:
        """Fill ``{subject}`` and ``{phrase}`` in a message template."""
        return template.replace("{subject}", self.subject).replace("{phrase}", self.phrase)


def wording(label: Text | None, field_id: str) -> Wording:
    """The wording for a field with ``label`` (or, without one, its id in words)."""
    text = (label.en if label is not None else field_id.replace("_", " ")).strip().rstrip(":.")
    text = " ".join(text.split()) or field_id
    if text.endswith("?"):
        return Wording("The answer", f"an answer to ‘{text}’", True)
    first = text.split(" ", 1)[0]
    acronym = len(first) > 1 and first[:2].isupper()
    phrase = text if acronym else text[0].lower() + text[1:]
    return Wording(text[0].upper() + text[1:], phrase, False)


def not_listed_message(words: Wording) -> str:
    """The message for a choice that is not in the field's list (or not offered by its filter)."""
    return f"Select {words.phrase} from the list"  # noqa: S608 - a sentence, not SQL


def required_message(ftype: FieldType, words: Wording) -> str:
    """The default message for a required answer that is missing."""
    if ftype in _ENTER:
        return f"Enter {words.phrase}"
    if ftype is FT.YESNO:
        return "Select yes or no" if words.question else f"Select yes or no for {words.phrase}"
    if ftype in _ADD:
        return f"Add {words.phrase}"
    if ftype is FT.GEOPOINT:
        return f"Record {words.phrase}"
    return f"Select {words.phrase}"


def show(value: Any) -> str:
    """A bound as an officer reads it: ``1 January 2024``, ``14:30``, ``1500``, ``2.5``."""
    if isinstance(value, dt.datetime):
        return f"{value.day} {value:%B %Y} at {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def range_messages(ftype: FieldType, words: Wording, low: Any, high: Any) -> tuple[str, str]:
    """The messages for an answer below ``low`` and above ``high`` (either may be None)."""
    s = words.subject
    if ftype in (FT.DATE, FT.DATETIME):
        return (
            f"{s} must be the same as or after {show(low)}",
            f"{s} must be the same as or before {show(high)}",
        )
    if ftype is FT.TIME:
        return f"{s} must be {show(low)} or later", f"{s} must be {show(high)} or earlier"
    if low is not None and high is not None:
        both = f"{s} must be between {show(low)} and {show(high)}"
        return both, both
    return f"{s} must be {show(low)} or more", f"{s} must be {show(high)} or less"


def length_messages(words: Wording, low: int | None, high: int | None) -> tuple[str, str]:
    """Messages for text that is too short and too long."""
    s = words.subject
    return (f"{s} must be {low} characters or more", f"{s} must be {high} characters or fewer")


def selected_messages(words: Wording, low: int | None, high: int | None) -> tuple[str, str]:
    """Messages for too few and too many selected options."""

    def options(n: int | None) -> str:
        return f"{n} option" + ("" if n == 1 else "s")

    return (
        f"Select at least {options(low)} for {words.phrase}",
        f"Select no more than {options(high)} for {words.phrase}",
    )


def items_messages(words: Wording, low: int, high: int | None) -> tuple[str, str]:
    """Messages for a repeat with too few and too many items."""

    def items(n: int | None) -> str:
        return f"{n} item" + ("" if n == 1 else "s")

    return (
        f"Add at least {items(low)} to {words.phrase}",
        f"{words.subject} can have no more than {items(high)}",
    )


def size_text(size: int) -> str:
    """A byte count as ``10MB`` / ``512KB``."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            amount = size / scale
            return f"{amount:g}{unit}"
    return f"{size} bytes"


def files_message(ftype: FieldType, count: int) -> str:
    """The message for too many photos or files."""
    noun = "photo" if ftype is FT.PHOTO else "file"
    return f"Add no more than {count} {noun}" + ("" if count == 1 else "s")
