"""Moving through a form page by page: which pages and items are relevant to the answers so far.

A form filled on a tablet is asked one page at a time. Before each page the server works out,
from every answer given so far, which pages are relevant (a page whose ``relevant`` condition is
not true is skipped) and, on the page shown, which items are hidden. :func:`evaluate` does that
work once, with exactly the rules :meth:`Form.validate` uses (it runs the same plan), and
returns an :class:`Evaluation` to ask; :func:`relevant_pages` is the common question.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import Env
from dsl._env import LONDON
from forms._result import AnswerError

if TYPE_CHECKING:
    from forms._model import Form, Page

__all__ = ["Evaluation", "evaluate", "relevant_pages"]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a form's expressions make of a set of answers.

    ``answers`` are the normalised answers with calculations filled in and the answers of hidden
    items dropped (as :meth:`Form.validate` gives them); ``hidden`` holds the paths of items that
    are not relevant (``("interpreter",)``, ``("suspects", 0, "suspect_name")``); ``env`` is the
    environment the expressions ran in (frame 0 is ``answers``), for evaluating more of them.
    """

    form: Form
    answers: dict[str, Any]
    hidden: frozenset[tuple[Any, ...]]
    env: Env

    def is_hidden(self, path: tuple[Any, ...]) -> bool:
        """True when the item at ``path``, or any group or repeat item around it, is hidden."""
        if not self.hidden:
            return False
        return any(path[:n] in self.hidden for n in range(1, len(path) + 1))

    def page_is_relevant(self, page: Page) -> bool:
        """True when ``page`` is asked: it has no condition, or its condition is true."""
        return page.relevant is None or page.relevant(self.env) is True

    def pages(self) -> tuple[Page, ...]:
        """The pages asked, in form order."""
        return tuple(page for page in self.form.pages if self.page_is_relevant(page))


def evaluate(form: Form, answers: Mapping[str, Any], *, now: datetime | None = None) -> Evaluation:
    """Read ``answers`` as a browser sends them (coerce mode) and evaluate relevance and
    calculations in the form's evaluation order. Never raises for bad answers: an answer that
    does not read is treated as not given."""
    plan = form._plans[True]
    out: dict[str, Any] = {}
    errors: list[AnswerError] = []
    plan.top.run(answers, out, errors, ())
    if now is None:
        clock = datetime.now(LONDON)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    else:
        clock = now.astimezone(LONDON)
    env = Env((out,), clock, LONDON)
    hidden: set[tuple[Any, ...]] = set()
    for step in plan.evaluate:
        step(env, out, hidden)
    return Evaluation(form, out, frozenset(hidden), env)


def relevant_pages(form: Form, answers: Mapping[str, Any], now: datetime | None = None) -> tuple[Page, ...]:
    """The pages of ``form`` that are asked, given ``answers`` (browser-shaped, coerce mode)."""
    return evaluate(form, answers, now=now).pages()
