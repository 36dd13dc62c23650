"""Bad input never crashes the loader: any document gives a Workflow or a positioned DefinitionError."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import DefinitionError
from workflows import Workflow

from ._fixtures import load

IDS = st.sampled_from(["a", "b", "c", "done", "review", "fan", "merge", "zz", "Bad Id", ""])
SCALARS = st.one_of(
    IDS,
    st.sampled_from(
        ["log", "email", "http", "4h", "30s", "0s", "1h30m", "immediate_risk", "{{ child_name }}"]
    ),
    st.sampled_from(
        ["age >", "{{", "}}", "{{ result.status }}", "child_name == 'x'", "add_days(incident_date, 2)"]
    ),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
)
STEP_KEYS = st.sampled_from(
    [
        *("call", "task", "decide", "wait", "parallel", "join", "end", "next", "with", "out", "connection"),
        *("timeout", "retry", "role", "form", "due", "on_overdue", "when", "goto", "for", "until", "x"),
    ]
)


def values(depth: int) -> st.SearchStrategy[Any]:
    """Scalars, and (while depth lasts) lists and mappings of step-like keys."""
    if depth <= 0:
        return SCALARS
    inner = values(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3),
        st.dictionaries(STEP_KEYS, inner, max_size=4),
    )


STEPS = st.dictionaries(IDS, st.dictionaries(STEP_KEYS, values(2), max_size=4), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS, st.sampled_from([None, "a", "zz"]))
def test_random_documents_load_or_fail_with_positions(steps: dict[str, Any], start: str | None) -> None:
    """Whatever the steps hold, loading gives a Workflow or a DefinitionError whose every
    diagnostic has a position."""
    doc: dict[str, Any] = {
        "workflow": "test_flow",
        "title": "Fuzz",
        "on": {"submitted": "child_concern"},
        "steps": steps,
    }
    if start is not None:
        doc["start"] = start
    text = yaml.safe_dump(doc, sort_keys=False)
    outcome = _outcome(text)
    if isinstance(outcome, DefinitionError):
        assert outcome.diagnostics
        assert all(d.position is not None for d in outcome.diagnostics), str(outcome)
    else:
        assert isinstance(outcome, Workflow)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    """Any text at all gives a Workflow or a DefinitionError, never another exception."""
    outcome = _outcome(text)
    assert isinstance(outcome, Workflow) or outcome.diagnostics


def _outcome(text: str) -> Workflow | DefinitionError:
    """The loaded workflow, or the DefinitionError loading raised (any other exception escapes)."""
    try:
        return load(text)
    except DefinitionError as error:
        return error
