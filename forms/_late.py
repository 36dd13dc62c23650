"""The parts of validation that depend on other answers.

*Steps* follow the form's ``evaluation_order``: a relevance condition that is not true drops the
item's answer (the ODK rule: not relevant means not required, not validated, not kept) and
records its path in ``hidden``; a calculation stores its result. *Late checks* then run over the
normalised answers: ``required`` expressions, constraints, choice filters and warnings. Both are
built once per form; a form without expressions has none and pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from dsl import Env
from forms._fields import FieldType
from forms._messages import CHECK_ANSWER, not_listed_message, required_message, wording
from forms._result import AnswerError

if TYPE_CHECKING:
    from forms._model import Field, Form, Item

#: Paths of answers dropped because their item is not relevant (steps add; checks only read).
Hidden = set[tuple[Any, ...]]
Seen = AbstractSet[tuple[Any, ...]]
Step = Callable[[Env, dict[str, Any], Hidden], None]
LateCheck = Callable[[Env, dict[str, Any], list[AnswerError], tuple[Any, ...], Seen, Collection[str]], None]
Chain = tuple[tuple[str, bool], ...]
_EMPTY: dict[str, Any] = {}


def _instances(
    env: Env, answers: dict[str, Any], chain: Chain, attach: bool, hidden: Hidden
) -> list[tuple[Env, dict[str, Any], tuple[Any, ...]]]:
    """Every (env, container, path) where an item with ancestors ``chain`` has its answer.

    A group with no answers yet is made (and kept only when ``attach``, for calculations)."""
    level: list[tuple[Env, dict[str, Any], tuple[Any, ...]]] = [(env, answers, ())]
    for cid, is_repeat in chain:
        following: list[tuple[Env, dict[str, Any], tuple[Any, ...]]] = []
        for e, container, prefix in level:
            sub = container.get(cid)
            if is_repeat:
                for index, item in enumerate(sub or ()):
                    following.append((e.push(item), item, (*prefix, cid, index)))
                continue
            if sub is None:
                if hidden and (*prefix, cid) in hidden:
                    continue
                sub = {}
                if attach:
                    container[cid] = sub
            following.append((e, sub, (*prefix, cid)))
        level = following
    return level


def _chain(form: Form, item: Item) -> Chain:
    return tuple((a, form.fields_by_id[a].type is FieldType.REPEAT) for a in item.path[:-1])


def build_steps(form: Form) -> tuple[Step, ...]:
    """One step per entry of ``form.evaluation_order``."""
    pages = {p.id: p for p in form.pages}
    steps: list[Step] = []
    for kind, name in form.evaluation_order:
        if kind == "page":
            steps.append(_page_step(pages[name].relevant, tuple(i.id for i in pages[name].fields)))
            continue
        item = form.fields_by_id[name]
        expr = item.relevant if kind == "relevant" else getattr(item, "value", None)
        if expr is not None:
            steps.append(
                (_relevant_step if kind == "relevant" else _value_step)(item.id, expr, _chain(form, item))
            )
    return tuple(steps)


def _page_step(relevant: Any, ids: tuple[str, ...]) -> Step:
    def step(env: Env, answers: dict[str, Any], hidden: Hidden) -> None:
        if relevant(env) is not True:
            for ident in ids:
                answers.pop(ident, None)
                hidden.add((ident,))

    return step


def _relevant_step(fid: str, relevant: Any, chain: Chain) -> Step:
    def step(env: Env, answers: dict[str, Any], hidden: Hidden) -> None:
        for e, container, prefix in _instances(env, answers, chain, False, hidden):
            if relevant(e) is not True:
                container.pop(fid, None)
                hidden.add((*prefix, fid))

    return step


def _value_step(fid: str, value: Any, chain: Chain) -> Step:
    def step(env: Env, answers: dict[str, Any], hidden: Hidden) -> None:
        for e, container, prefix in _instances(env, answers, chain, True, hidden):
            if hidden and (*prefix, fid) in hidden:
                continue
            result = value(e)
            if result is None:
                container.pop(fid, None)
            else:
                container[fid] = result

    return step


def build_late(form: Form) -> tuple[LateCheck, ...]:
    """The late checks of the top level (nested levels are inside their group's check)."""
    return _late_level(tuple(i for p in form.pages for i in p.fields))


def _late_level(items: tuple[Item, ...]) -> tuple[LateCheck, ...]:
    from forms._model import Field, Group

    checks: list[LateCheck] = []
    for item in items:
        if isinstance(item, Field):
            check = _field_check(item)
            if check is not None:
                checks.append(check)
            continue
        inner = _late_level(item.fields)
        if inner:
            checks.append((_group_check if isinstance(item, Group) else _repeat_check)(item.id, inner))
    return tuple(checks)


def _group_check(gid: str, inner: tuple[LateCheck, ...]) -> LateCheck:
    def check(
        env: Env,
        container: dict[str, Any],
        errors: list[AnswerError],
        prefix: tuple[Any, ...],
        hidden: Seen,
        acknowledged: Collection[str],
    ) -> None:
        path = (*prefix, gid)
        if hidden and path in hidden:
            return
        sub = container.get(gid)
        for c in inner:
            c(env, sub if sub is not None else _EMPTY, errors, path, hidden, acknowledged)

    return check


def _repeat_check(rid: str, inner: tuple[LateCheck, ...]) -> LateCheck:
    def check(
        env: Env,
        container: dict[str, Any],
        errors: list[AnswerError],
        prefix: tuple[Any, ...],
        hidden: Seen,
        acknowledged: Collection[str],
    ) -> None:
        for index, item in enumerate(container.get(rid) or ()):
            e = env.push(item)
            path = (*prefix, rid, index)
            for c in inner:
                c(e, item, errors, path, hidden, acknowledged)

    return check


def _field_check(f: Field) -> LateCheck | None:
    accuracy = f.max_accuracy if f.type is FieldType.GEOPOINT else None
    if not (f.required_expr or f.constraint or f.choice_filter or f.warning or accuracy):
        return None
    fid = f.id
    words = wording(f.label, f.id)
    if f.constraint is not None and not (f.required_expr or f.choice_filter or f.warning or accuracy):
        return _constraint_check(fid, f.constraint, f.message.en if f.message else CHECK_ANSWER)
    required_expr, constraint, choice_filter = f.required_expr, f.constraint, f.choice_filter
    missing = f.required_message.en if f.required_message else required_message(f.type, words)
    failed = f.message.en if f.message else CHECK_ANSWER
    not_offered = not_listed_message(words)
    choices = f.choices
    warning = f.warning
    warned = warning.message.en if warning else ""
    rough = (
        f"The location is accurate only to {{}} metres: try again for a better fix (best {accuracy:g} metres)"
        if accuracy
        else ""
    )

    def check(
        env: Env,
        container: dict[str, Any],
        errors: list[AnswerError],
        prefix: tuple[Any, ...],
        hidden: Seen,
        acknowledged: Collection[str],
    ) -> None:
        if hidden and (*prefix, fid) in hidden:
            return
        value = container.get(fid)
        if value is None:
            if required_expr is not None and required_expr(env) is True:
                path = (*prefix, fid)
                if not any(e.path == path for e in errors):
                    errors.append(AnswerError(path, "required", missing))
        else:
            if constraint is not None and constraint(env) is not True:
                errors.append(AnswerError((*prefix, fid), "constraint", failed))
            if choice_filter is not None and choices is not None:
                for chosen in value if type(value) is list else (value,):
                    found = choices.get(chosen)
                    if found is None or choice_filter(env.push({"choice": found.record()})) is not True:
                        errors.append(AnswerError((*prefix, fid), "choice", not_offered))
                        break
            if accuracy and fid not in acknowledged and value.get("accuracy", 0) > accuracy:
                shown = f"{value['accuracy']:g}"
                errors.append(AnswerError((*prefix, fid), "warning", rough.format(shown), blocking=False))
        if warning is not None and fid not in acknowledged and warning.when(env) is True:
            errors.append(AnswerError((*prefix, fid), "warning", warned, blocking=False))

    return check


def _constraint_check(fid: str, constraint: Any, failed: str) -> LateCheck:
    """The common case of a field whose only late check is its constraint."""

    def check(
        env: Env,
        container: dict[str, Any],
        errors: list[AnswerError],
        prefix: tuple[Any, ...],
        hidden: Seen,
        acknowledged: Collection[str],
    ) -> None:
        if (
            container.get(fid) is not None
            and constraint(env) is not True
            and not (hidden and (*prefix, fid) in hidden)
        ):
            errors.append(AnswerError((*prefix, fid), "constraint", failed))

    return check
