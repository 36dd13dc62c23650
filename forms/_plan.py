"""The validation plan: compiled once per form, so validating a submission walks no schema.

For each level of answers (the form, a group, one item of a repeat) the plan holds a flat list
of *steps*, one closure per item, in document order. A step reads its answer from the submitted
mapping, runs the item's reader, writes the normalised value and records any error; it returns 1
when the key was present, so the level can tell unknown keys by counting instead of comparing
sets. Steps close over everything they need (reader, path, messages), allocate nothing for a
valid answer, and never raise.

What depends on other answers (relevance, calculations, ``required`` expressions, constraints,
warnings, choice filters) is in ``_late``; it runs only for forms that have such things.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forms._coerce import DATE_SHAPE, TIMES, Bad
from forms._fields import FieldType
from forms._late import LateCheck, Step, build_late, build_steps
from forms._messages import Wording, items_messages, required_message, wording
from forms._readers import reader_for
from forms._result import AnswerError

if TYPE_CHECKING:
    from forms._model import Field, Form, Group, Item, Repeat

FT = FieldType
Phase1 = Callable[[Mapping[str, Any], dict[str, Any], list[AnswerError], tuple[Any, ...]], int]
_MISSING: Any = object()
_DATE_SHAPE = DATE_SHAPE
_ISO_DATE = dt.date.fromisoformat


#: One row per item of a level: (id, JSON type of the fast test, which test, a, b, required, step).
Row = tuple[str, Any, int, Any, Any, bool, Phase1]


@dataclass(frozen=True, slots=True)
class Level:
    """The items of one level of answers (as :data:`Row` s) and the keys it accepts."""

    rows: tuple[Row, ...]
    known: frozenset[str]
    notes: frozenset[str]

    def unknown(self, src: Mapping[str, Any], errors: list[AnswerError], prefix: tuple[Any, ...]) -> None:
        """Record an ``unknown_field`` error for each key of ``src`` this level does not accept."""
        for key in src:
            if key in self.known:
                continue
            if key in self.notes:
                message = f"‘{key}’ is a note and takes no answer"
            else:
                message = f"‘{key}’ is not a question on this form"
            errors.append(AnswerError((*prefix, key), "unknown_field", message))

    def run(
        self, src: Mapping[str, Any], dst: dict[str, Any], errors: list[AnswerError], prefix: tuple[Any, ...]
    ) -> None:
        """Read every answer of this level from ``src`` into ``dst``.

        The most common valid answers (a boolean, a listed choice, a whole number in range, text
        of an allowed length) are accepted right here; anything else, and every error, goes to
        the item's step. This loop is the hot path of validation.
        """
        seen = 0
        get = src.get
        absent, kind, size = _MISSING, type, len  # locals: the loop runs once per answer
        for fid, fast_type, test, a, b, required, step in self.rows:
            value = get(fid, absent)
            if value is absent:
                if required:
                    step(src, dst, errors, prefix)
                continue
            if kind(value) is fast_type:
                if (
                    test == 0
                    or (test == 1 and value in a)
                    or (test == 3 and a <= size(value) <= b)
                    or (test == 2 and a <= value <= b)
                    or (
                        test == 5
                        and a <= size(value) <= b
                        and not value[0].isspace()
                        and not value[-1].isspace()
                    )
                    or (test == 6 and value - value == 0 and a <= value <= b)
                    or (
                        test == 9
                        and a <= size(value) <= b
                        and not value[0].isspace()
                        and not value[-1].isspace()
                        and "\r" not in value
                    )
                ):
                    dst[fid] = value
                    seen += 1
                    continue
                if test == 7 and value in a:
                    dst[fid] = a[value]
                    seen += 1
                    continue
                if test == 8 and value - value == 0 and a <= value <= b[0] and round(value, b[1]) == value:
                    dst[fid] = value
                    seen += 1
                    continue
                if test == 4 and _DATE_SHAPE(value) is not None:
                    try:
                        dst[fid] = _ISO_DATE(value)
                        seen += 1
                        continue
                    except ValueError:
                        pass  # not a real date: the step says so
            seen += step(src, dst, errors, prefix)
        if seen != len(src):
            self.unknown(src, errors, prefix)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything ``validate`` runs for one form in one mode (coerce or strict)."""

    top: Level
    evaluate: tuple[Step, ...]
    late: tuple[LateCheck, ...]
    page_of: Mapping[str, str]
    order: Mapping[str, int]
    clock: bool  # whether any expression validation runs reads the clock (today(), now())


def _fast_check(f: Field, strict: bool) -> tuple[Any, int, Any, Any] | None:
    """A cheap test that accepts the most common valid answers without calling the reader:
    (JSON type, kind of test, a, b). Whatever it does not accept goes to the reader."""
    if f.type is FT.YESNO:
        return (bool, 0, None, None)
    if f.type is FT.SELECT_ONE and f.choices is not None:
        return (str, 1, f.choices._index, None)
    low = f.min if f.min is not None else -math.inf
    high = f.max if f.max is not None else math.inf
    if f.type is FT.INTEGER:
        return (int, 2, low, high)
    longest = f.max_length if f.max_length is not None else 1 << 62
    if strict and f.type in (FT.TEXT, FT.TEXTAREA) and f.pattern is None:
        return (str, 3, max(f.min_length or 0, 1), longest)
    if f.type is FT.TEXT and f.pattern is None:  # coerce: also nothing to strip
        return (str, 5, max(f.min_length or 0, 1), longest)
    if f.type is FT.TEXTAREA:  # coerce: nothing to strip and no Windows line endings
        return (str, 9, max(f.min_length or 0, 1), longest)
    if f.type is FT.DECIMAL and f.places is None:
        return (float, 6, low, high)
    if f.type is FT.DECIMAL:
        return (float, 8, low, (high, f.places))
    if f.type is FT.DATE and f.min is None and f.max is None:
        return (str, 4, None, None)
    if f.type is FT.TIME and f.min is None and f.max is None:
        return (str, 7, TIMES, None)
    return None


def _field_step(f: Field, strict: bool) -> Phase1:
    words = wording(f.label, f.id)
    read = reader_for(f, strict, words)
    fid = f.id
    key_path = (fid,)
    missing = f.required_message.en if f.required_message else required_message(f.type, words)
    fill = words.fill
    required = f.required and f.type is not FT.CALCULATE

    def step(
        src: Mapping[str, Any], dst: dict[str, Any], errors: list[AnswerError], prefix: tuple[Any, ...]
    ) -> int:
        value = src.get(fid, _MISSING)
        if value is _MISSING:
            if required:
                errors.append(AnswerError(prefix + key_path, "required", missing))
            return 0
        found = read(value)
        if found is None:
            if required:
                errors.append(AnswerError(prefix + key_path, "required", missing))
        elif type(found) is Bad:
            errors.append(AnswerError(prefix + key_path, found.code, fill(found.template)))
        else:
            dst[fid] = found
        return 1

    return step


def _group_step(g: Group, strict: bool) -> Phase1:
    level = _level(g.fields, strict)
    gid = g.id
    own = (gid,)
    run = level.run
    words = wording(g.label, g.id)
    not_mapping = f"{words.subject} must be a set of answers"
    empty: Mapping[str, Any] = {}

    def step(
        src: Mapping[str, Any], dst: dict[str, Any], errors: list[AnswerError], prefix: tuple[Any, ...]
    ) -> int:
        value = src.get(gid, _MISSING)
        present = value is not _MISSING
        if value is _MISSING or value is None:
            value = empty
        elif type(value) is not dict:
            errors.append(AnswerError((*prefix, gid), "type", not_mapping))
            return 1
        sub: dict[str, Any] = {}
        run(value, sub, errors, (*prefix, gid) if prefix else own)
        if sub or present:
            dst[gid] = sub
        return 1 if present else 0

    return step


def _repeat_step(r: Repeat, strict: bool) -> Phase1:
    level = _level(r.fields, strict)
    rid = r.id
    words: Wording = wording(r.label, r.id)
    few, many = items_messages(words, r.min_items, r.max_items)
    low, high = r.min_items, r.max_items
    not_list = f"{words.subject} must be a list of items"
    not_item = f"Each item of {words.phrase} must be a set of answers"

    def step(
        src: Mapping[str, Any], dst: dict[str, Any], errors: list[AnswerError], prefix: tuple[Any, ...]
    ) -> int:
        value = src.get(rid, _MISSING)
        present = value is not _MISSING
        if value is _MISSING or value is None:
            value = []
        elif type(value) is not list:
            errors.append(AnswerError((*prefix, rid), "type", not_list))
            return 1
        items: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            if type(item) is not dict:
                errors.append(AnswerError((*prefix, rid, index), "type", not_item))
                item = {}
            sub: dict[str, Any] = {}
            level.run(item, sub, errors, (*prefix, rid, index))
            items.append(sub)
        if len(items) < low:
            errors.append(AnswerError((*prefix, rid), "min_items", few))
        elif high is not None and len(items) > high:
            errors.append(AnswerError((*prefix, rid), "max_items", many))
        if items or present:
            dst[rid] = items
        return 1 if present else 0

    return step


def _level(items: tuple[Item, ...], strict: bool) -> Level:
    from forms._model import Field, Group

    rows: list[Row] = []
    known: set[str] = set()
    notes: set[str] = set()
    for item in items:
        if isinstance(item, Field) and item.type is FT.NOTE:
            notes.add(item.id)
            continue
        known.add(item.id)
        fast: tuple[Any, int, Any, Any] = (None, -1, None, None)
        required = True  # groups and repeats always run their step (to check what is inside)
        if isinstance(item, Field):
            step = _field_step(item, strict)
            fast = _fast_check(item, strict) or fast
            required = item.required and item.type is not FT.CALCULATE
        elif isinstance(item, Group):
            step = _group_step(item, strict)
        else:
            step = _repeat_step(item, strict)
        rows.append((item.id, *fast, required, step))
    return Level(tuple(rows), frozenset(known), frozenset(notes))


def build_plan(form: Form, strict: bool) -> Plan:
    """The plan for one mode of ``form``."""
    top_items = tuple(item for page in form.pages for item in page.fields)
    page_of = {item.id: page.id for page in form.pages for item in page.fields}
    order = {item.id: index for index, item in enumerate(form.items())}
    clock = any(expr.uses_clock for expr in _expressions(form))
    return Plan(_level(top_items, strict), build_steps(form), build_late(form), page_of, order, clock)


def _expressions(form: Form) -> Iterator[Any]:
    """Every compiled expression that validation evaluates."""
    from forms._model import Field

    for page in form.pages:
        if page.relevant is not None:
            yield page.relevant
    for item in form.items():
        if item.relevant is not None:
            yield item.relevant
        if isinstance(item, Field):
            found = (
                item.required_expr,
                item.constraint,
                item.choice_filter,
                item.value,
                item.warning.when if item.warning else None,
            )
            yield from (e for e in found if e is not None)


def build_plans(form: Form) -> dict[bool, Plan]:
    """Both plans of ``form``, keyed by ``coerce``."""
    return {True: build_plan(form, strict=False), False: build_plan(form, strict=True)}
