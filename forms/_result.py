"""What validating a submission gives back: normalised answers and the problems found.

An :class:`AnswerError` is an officer's mistake in a submission, a different thing from a
:class:`~dsl.DefinitionError` (an author's mistake in a definition): errors are plain data with a
path, so a renderer can show each message next to its field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AnswerError:
    """One problem with one answer.

    ``path`` leads to the answer: ``("child_dob",)``, ``("address", "postcode")`` or
    ``("exhibits", 2, "description")``. ``code`` is stable for programs (``required``,
    ``type``, ``constraint``, ``min``, ``max``, ``choice``, ``format``, ``min_items``,
    ``max_items``, ``unknown_field``, ``warning``, ...); ``message`` is for the officer.
    Warnings are not ``blocking``.
    """

    path: tuple[str | int, ...]
    code: str
    message: str
    blocking: bool = True


class ValidationResult:
    """The outcome of :meth:`forms.Form.validate`.

    ``answers`` are the normalised, typed answers (``datetime.date`` for dates, ``int`` for
    integers, ...): answers of fields that are not relevant are dropped and calculations are
    filled in. Answers that failed a check of their own (type, format, bounds, choice) are left
    out; answers that failed a constraint are kept. ``errors`` are in document order.

    (A plain slotted class rather than a dataclass: one is made per submission, and this is
    the cheapest to build.)
    """

    __slots__ = ("answers", "errors")

    def __init__(self, answers: dict[str, Any], errors: tuple[AnswerError, ...]) -> None:
        self.answers = answers
        self.errors = errors

    def __repr__(self) -> str:
        return f"ValidationResult(answers={self.answers!r}, errors={self.errors!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidationResult):
            return NotImplemented
        return self.answers == other.answers and self.errors == other.errors

    __hash__ = None  # type: ignore[assignment]  # holds a dict: not hashable

    @property
    def ok(self) -> bool:
        """True when no error blocks the submission (warnings alone do not)."""
        return not any(e.blocking for e in self.errors)

    @property
    def blocking(self) -> tuple[AnswerError, ...]:
        """Only the errors that block the submission."""
        return tuple(e for e in self.errors if e.blocking)

    @property
    def warnings(self) -> tuple[AnswerError, ...]:
        """Only the non-blocking warnings."""
        return tuple(e for e in self.errors if not e.blocking)

    def to_json(self) -> dict[str, Any]:
        """The answers as JSON-ready data: dates ``YYYY-MM-DD``, times ``HH:MM``, datetimes ISO
        8601 with their offset. This is the shape the form's JSON Schema describes."""
        return {key: json_value(value) for key, value in self.answers.items()}


def json_value(value: Any) -> Any:
    """One normalised answer as JSON-ready data."""
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value
