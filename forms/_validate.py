"""``Form.validate``: check a submission and normalise it.

The work, in order: read every answer (the plan's steps: type, format, bounds, choices; unknown
keys), evaluate relevance and calculations in dependency order (dropping answers of items that
are not relevant), run the late checks (``required`` expressions, constraints, choice filters,
warnings), then drop errors of hidden items and of pages not asked for. Errors come back in
document order.

What "structural" means (the part the exported JSON Schema also checks, so that
``validate(coerce=False)`` and a JSON Schema validator on ``form.json_schema()`` give the same
verdict for every form without expressions): JSON types; unconditional ``required``; choices;
``min``/``max`` of numbers; text lengths and patterns (the author's, and the shapes of
postcodes, phone numbers, email addresses, dates, times and datetimes); the number of selected
options, files and repeat items; file size and type; attachment and location records; and
unknown keys. Not structural (validate only): ``places``, ``min``/``max`` of dates, times and
datetimes, relevance, ``required`` expressions, constraints, choice filters and warnings.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import Env
from dsl._env import LONDON
from forms._result import AnswerError, ValidationResult

if TYPE_CHECKING:
    from forms._model import Form
    from forms._plan import Plan

# When no expression reads the clock, any time will do: spare asking the system for it.
_NO_CLOCK = datetime(2000, 1, 1, tzinfo=LONDON)
# Without relevance steps nothing is ever hidden: share one empty set instead of making one.
_NOTHING_HIDDEN: frozenset[tuple[Any, ...]] = frozenset()


def validate(
    form: Form,
    answers: Mapping[str, Any],
    *,
    now: datetime | None = None,
    pages: Collection[str] | None = None,
    acknowledged: Collection[str] = (),
    coerce: bool = True,
) -> ValidationResult:
    """Validate ``answers`` against ``form``.

    ``coerce`` (the default) reads what a browser sends: numbers and dates as text, GOV.UK
    day/month/year inputs, ``"yes"``/``"no"``, a lone string for a multiple choice, postcodes
    and phone numbers as typed. ``coerce=False`` is strict JSON for API clients: values must
    already have the normalised JSON shapes of :meth:`Form.json_schema`.

    ``now`` is the time ``today()`` and ``now()`` see (default: the current time). ``pages``
    limits the errors reported to those pages' items (for filling page by page; relevance and
    calculations still use every answer). ``acknowledged`` lists field ids whose warnings the
    officer has acknowledged.
    """
    plan: Plan = form._plans[coerce]
    if pages is not None:
        unknown = [p for p in pages if p not in {page.id for page in form.pages}]
        if unknown:
            raise ValueError(f"form '{form.id}' has no page {unknown[0]!r}")
    errors: list[AnswerError] = []
    out: dict[str, Any] = {}
    plan.top.run(answers, out, errors, ())
    hidden: set[tuple[Any, ...]] | frozenset[tuple[Any, ...]] = _NOTHING_HIDDEN
    if plan.evaluate or plan.late:
        # The clock in London time: the same instant, and today() needs no conversion.
        if now is None:
            clock = datetime.now(LONDON) if plan.clock else _NO_CLOCK
        elif now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        else:
            clock = now.astimezone(LONDON)
        env = Env((out,), clock, LONDON)
        if plan.evaluate:
            hidden = set()
            for step in plan.evaluate:
                step(env, out, hidden)
        for check in plan.late:
            check(env, out, errors, (), hidden, acknowledged)
    if errors:
        errors = _tidy(plan, errors, hidden, pages)
    return ValidationResult(out, tuple(errors))


def _tidy(
    plan: Plan, errors: list[AnswerError], hidden: AbstractSet[tuple[Any, ...]], pages: Collection[str] | None
) -> list[AnswerError]:
    if hidden:
        errors = [e for e in errors if not any(e.path[:n] in hidden for n in range(1, len(e.path) + 1))]
    if pages is not None:
        wanted = set(pages)
        errors = [
            e for e in errors if e.code == "unknown_field" or plan.page_of.get(str(e.path[0])) in wanted
        ]
    if len(errors) > 1:
        order = plan.order
        late = len(order)
        errors.sort(
            key=lambda e: [(order.get(p, late), 0) if isinstance(p, str) else (-1, p) for p in e.path]
        )
    return errors
