"""Graph checks: targets, reachability, ends, loops, decide defaults, parallel/join pairing."""

from __future__ import annotations

import pytest

from ._fixtures import col_of, flow, load, messages, one, problems, where


def test_unknown_target_with_did_you_mean() -> None:
    """A goto to a step that does not exist is reported at the name, with the closest step."""
    text = flow(
        """
        triage:
          decide:
            - {when: immediate_risk, goto: refer_to_mas}
            - {goto: done}
        refer_to_mash: {call: log, next: done}
        done: {end: true}
        """
    )
    diag = one(text)
    assert diag.message == "unknown step 'refer_to_mas'"
    assert diag.hint == "did you mean 'refer_to_mash'?"
    assert where(diag) == col_of(text, "refer_to_mas}")


def test_unknown_target_without_a_close_name_lists_the_steps() -> None:
    """With nothing close, the hint lists the steps."""
    diag = one(flow("a: {call: log, next: zzz}\nb: {end: true}\n"))
    assert diag.message == "unknown step 'zzz'"
    assert diag.hint == "the steps are: a, b"


@pytest.mark.parametrize(
    ("steps", "needle"),
    [
        ("a: {call: log, next: b}\nb: {end: true}\nc: {call: log, next: b}\n", "c:"),
        ("a: {end: true}\nb: {end: true}\n", "b:"),
    ],
)
def test_unreachable_step(steps: str, needle: str) -> None:
    """A step no route leads to from the start is reported at its id."""
    text = flow(steps)
    diag = one(text)
    step = needle.rstrip(":")
    assert diag.message == f"step '{step}' is never reached"
    assert diag.hint == "no route leads to it from the start step 'a': route to it, or remove it"
    assert where(diag) == col_of(text, needle)


def test_start_makes_a_step_reachable() -> None:
    """The start step, not the first written, is where reachability begins."""
    text = flow("a: {end: true}\nb: {call: log, next: a}\n").replace("steps:", "start: b\nsteps:")
    assert load(text).start == "b"


def test_unknown_start_step() -> None:
    """'start' must name a step."""
    text = flow("a: {end: true}\n").replace("steps:", "start: aa\nsteps:")
    found = problems(text)
    assert [d.message for d in found] == ["unknown step 'aa'"]
    assert found[0].hint == "did you mean 'a'?"


def test_step_that_cannot_reach_an_end() -> None:
    """A loop between a task and a call with no way out never ends."""
    text = flow(
        """
        a:
          decide:
            - {when: immediate_risk, goto: review}
            - {goto: done}
        review: {task: {role: supervisor, form: supervisor_review}, next: chase}
        chase: {call: log, next: review}
        done: {end: true}
        """
    )
    found = problems(text)
    assert [d.message for d in found] == [
        "step 'review' can never reach an end step",
        "step 'chase' can never reach an end step",
    ]
    assert where(found[0]) == col_of(text, "review:")


def test_loop_back_to_a_task_is_allowed() -> None:
    """Sending work back for more information is a legitimate loop."""
    text = flow(
        """
        review:
          task: {role: supervisor, form: supervisor_review}
          decide:
            - {when: "review.decision == 'more_info'", goto: ask_officer}
            - {goto: done}
        ask_officer: {call: log, with: {message: more please}, next: review}
        done: {end: true}
        """
    )
    assert load(text).step("ask_officer").next == "review"


def test_instant_loop_is_an_error() -> None:
    """A loop of decide steps would spin for ever."""
    text = flow(
        """
        a:
          decide:
            - {when: immediate_risk, goto: b}
            - {goto: done}
        b:
          decide:
            - {when: "age > 10", goto: a}
            - {goto: done}
        done: {end: true}
        """
    )
    diag = one(text)
    assert diag.message == "the steps 'a' -> 'b' -> 'a' form a loop that never waits"
    assert diag.hint == "the loop would run for ever: put a task, wait or call step in it, or route out of it"
    assert where(diag) == col_of(text, "a:")


def test_self_loop_of_a_decide_is_an_instant_loop() -> None:
    """A decide that routes to itself is an instant loop too."""
    text = flow("a:\n  decide:\n    - {when: immediate_risk, goto: a}\n    - {goto: b}\nb: {end: true}\n")
    assert messages(text) == ["the steps 'a' -> 'a' form a loop that never waits"]


def test_decide_without_default() -> None:
    """A decide must end with a route without 'when'."""
    text = flow("a:\n  decide:\n    - {when: immediate_risk, goto: b}\nb: {end: true}\n")
    diag = one(text)
    assert diag.message == "the decide of step 'a' has no default route"
    assert diag.hint is not None
    assert diag.hint.startswith("add a last route without 'when'")
    assert where(diag) == col_of(text, "decide")


def test_default_route_not_last() -> None:
    """Routes after the default would never be taken."""
    text = flow(
        "a:\n  decide:\n    - {goto: b}\n    - {when: immediate_risk, goto: c}\n"
        "b: {end: true}\nc: {end: true}\n"
    )
    diag = one(text)
    assert diag.message == "the default route (without 'when') must be the last route of step 'a'"
    assert where(diag) == col_of(text, "{goto: b}")


def test_two_default_routes() -> None:
    """Only one route may leave out 'when'."""
    text = flow("a:\n  decide:\n    - {goto: b}\n    - {goto: c}\nb: {end: true}\nc: {end: true}\n")
    diag = one(text)
    assert diag.message == "only one route of step 'a' may leave out 'when'"
    assert where(diag) == col_of(text, "{goto: c}")


PARALLEL = """
start_it: {call: log, next: fan_out}
fan_out:
  parallel: [notify_a, notify_b]
notify_a: {call: log, next: merge}
notify_b: {call: log, next: merge}
merge: {join: fan_out, next: done}
done: {end: true}
"""


def test_parallel_with_its_join_loads() -> None:
    """A parallel step whose branches all arrive at its join is fine."""
    workflow = load(flow(PARALLEL))
    assert dict(workflow.joins) == {"fan_out": "merge"}


def test_parallel_without_join() -> None:
    """Every parallel step needs a join step."""
    text = flow(PARALLEL.replace("merge: {join: fan_out, next: done}", "merge: {call: log, next: done}"))
    diag = one(text)
    assert diag.message == "parallel step 'fan_out' has no join"
    assert diag.hint == "add a step with 'join: fan_out' where its branches meet"
    assert where(diag) == col_of(text, "fan_out:")


def test_join_naming_a_step_that_is_not_parallel() -> None:
    """'join' must name a parallel step."""
    text = flow(PARALLEL + "other: {join: start_it, next: done}\n")
    found = messages(text)
    assert "'join: start_it' must name a parallel step, but 'start_it' is a call step" in found


def test_join_naming_an_unknown_step() -> None:
    """An unknown 'join' target is suggested among the parallel steps."""
    text = flow(PARALLEL.replace("join: fan_out", "join: fan_ot"))
    found = problems(text)
    unknown = [d for d in found if d.message == "unknown step 'fan_ot'"]
    assert unknown
    assert unknown[0].hint == "did you mean 'fan_out'?"


def test_two_joins_for_one_parallel() -> None:
    """A parallel step has exactly one join."""
    text = flow(
        PARALLEL.replace("notify_b: {call: log, next: merge}", "notify_b: {call: log, next: merge2}")
        + "merge2: {join: fan_out, next: done}\n"
    )
    found = problems(text)
    assert "parallel step 'fan_out' already has a join: 'merge'" in [d.message for d in found]


def test_branch_that_never_reaches_its_join() -> None:
    """A branch that goes straight to an end never arrives at the join."""
    text = flow(PARALLEL.replace("notify_b: {call: log, next: merge}", "notify_b: {call: log, next: done}"))
    diag = one(text)
    assert diag.message == "branch 'notify_b' of parallel step 'fan_out' never reaches its join 'merge'"
    assert where(diag) == col_of(text, "notify_b]")


def test_branch_that_may_end_without_its_join() -> None:
    """A branch with a route to an end that bypasses the join would leave the join waiting."""
    text = flow(
        PARALLEL.replace(
            "notify_b: {call: log, next: merge}",
            "notify_b:\n  call: log\n  decide:\n"
            "    - {when: immediate_risk, goto: done}\n    - {goto: merge}",
        )
    )
    diag = one(text)
    assert diag.message == (
        "branch 'notify_b' of parallel step 'fan_out' can finish at 'done' without reaching its join 'merge'"
    )


def test_branch_listed_twice() -> None:
    """A branch is started once."""
    text = flow(PARALLEL.replace("[notify_a, notify_b]", "[notify_a, notify_b, notify_a]"))
    diag = one(text)
    assert diag.message == "branch 'notify_a' is listed twice in parallel step 'fan_out'"
    assert where(diag) == col_of(text, "notify_a]")


def test_nested_parallels() -> None:
    """An inner parallel and join inside a branch of an outer one are fine."""
    text = flow(
        """
        outer: {parallel: [inner, side]}
        inner: {parallel: [x, y]}
        x: {call: log, next: inner_join}
        y: {call: log, next: inner_join}
        inner_join: {join: inner, next: outer_join}
        side: {call: log, next: outer_join}
        outer_join: {join: outer, next: done}
        done: {end: true}
        """
    )
    assert dict(load(text).joins) == {"outer": "outer_join", "inner": "inner_join"}


def test_graph_checks_wait_for_known_targets() -> None:
    """With an unknown target, reachability is not also reported for the misnamed step."""
    text = flow("a: {call: log, next: bb}\nb: {end: true}\n")
    assert messages(text) == ["unknown step 'bb'"]
