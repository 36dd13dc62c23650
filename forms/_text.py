"""Small value objects shared by every definition: bilingual text, choices and choice lists."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dsl import Position

#: The languages a definition may be written in. English is required; Welsh falls back to it.
LANGUAGES = ("en", "cy")


@dataclass(frozen=True, slots=True)
class Text:
    """Text shown to a person, in English and optionally Welsh.

    ``get("cy")`` gives the Welsh text when the author wrote one, else the English; any other
    language also falls back to English.
    """

    en: str
    cy: str | None = None

    def get(self, lang: str = "en") -> str:
        """The text in ``lang`` (``"en"`` or ``"cy"``), falling back to English."""
        if lang == "cy" and self.cy is not None:
            return self.cy
        return self.en

    def __str__(self) -> str:
        return self.en


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a select field: the stored ``value``, its ``label`` and any extra columns.

    ``data`` holds the other columns of a shared list (e.g. ``category``), always as text, so a
    ``choice_filter`` can compare them.
    """

    value: str
    label: Text
    data: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    position: Position | None = field(default=None, repr=False, compare=False)

    def record(self) -> dict[str, Any]:
        """The choice as a ``choice`` record for a ``choice_filter``: value, label and columns."""
        row: dict[str, Any] = dict(self.data)
        row["value"] = self.value
        row["label"] = self.label.en
        return row


@dataclass(frozen=True, slots=True)
class ChoiceList:
    """A named, ordered list of choices: a shared list file, or the inline choices of one field.

    ``columns`` names the extra columns beyond ``value`` and ``label``. Values are unique; look
    one up with :meth:`get` (a dictionary lookup, so lists of many thousands of rows stay fast).
    """

    name: str
    choices: tuple[Choice, ...]
    columns: tuple[str, ...] = ()
    position: Position | None = field(default=None, repr=False, compare=False)
    _index: Mapping[str, Choice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.value: c for c in self.choices})

    def __repr__(self) -> str:
        # A list may have tens of thousands of choices: name the list, do not print it.
        return f"ChoiceList(name={self.name!r}, {len(self.choices)} choices, columns={self.columns!r})"

    def __iter__(self) -> Iterator[Choice]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def __contains__(self, value: object) -> bool:
        return value in self._index

    def get(self, value: str) -> Choice | None:
        """The choice whose value is ``value``, or None."""
        return self._index.get(value)

    @property
    def values(self) -> tuple[str, ...]:
        """Every value, in list order."""
        return tuple(c.value for c in self.choices)
