"""workflows.PluginSpec and RetryPolicy: validated value objects, and the retry delay formula."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows._plugin_spec import PLUGIN_NAME_PATTERN, PluginSpec, RetryPolicy

OBJECT = {"type": "object"}


def spec(**changes: Any) -> PluginSpec:
    """A valid spec with some fields replaced."""
    values: dict[str, Any] = {
        "name": "acme.lookup",
        "config_schema": OBJECT,
        "input_schema": OBJECT,
        "output_schema": OBJECT,
        "idempotent": True,
        "retry": RetryPolicy(),
    }
    return PluginSpec(**{**values, **changes})


def test_defaults_match_the_contract() -> None:
    """RetryPolicy() is 5 attempts, exponential from 1s, capped at 300s, 20% jitter."""
    policy = RetryPolicy()
    assert (policy.attempts, policy.backoff, policy.initial, policy.max_delay, policy.jitter) == (
        5,
        "exponential",
        1.0,
        300.0,
        0.2,
    )


def test_exponential_delays_double_then_cap() -> None:
    """Without jitter: 5, 10, 20, 40, then max_delay 60 for every later attempt."""
    policy = RetryPolicy(attempts=10, initial=5, max_delay=60, jitter=0)
    assert [policy.delay(n, lambda: 0.5) for n in range(1, 8)] == [5, 10, 20, 40, 60, 60, 60]


def test_fixed_delay_is_always_initial() -> None:
    """backoff: fixed waits `initial` after every attempt."""
    policy = RetryPolicy(backoff="fixed", initial=7, max_delay=7, jitter=0)
    assert {policy.delay(n, lambda: 0.3) for n in (1, 2, 50)} == {7}


def test_jitter_spreads_both_ways() -> None:
    """rand() = 0 gives base*(1-j), 1 gives base*(1+j), 0.5 gives the base."""
    policy = RetryPolicy(initial=10, max_delay=100, jitter=0.2)
    assert policy.delay(1, lambda: 0.0) == pytest.approx(8.0)
    assert policy.delay(1, lambda: 0.5) == pytest.approx(10.0)
    assert policy.delay(1, lambda: 1.0) == pytest.approx(12.0)


def test_huge_attempt_numbers_do_not_overflow() -> None:
    """Attempt 100000 is just max_delay, not an OverflowError."""
    assert RetryPolicy(max_delay=30, jitter=0).delay(100_000, lambda: 0.5) == 30


@given(
    attempt=st.integers(min_value=1, max_value=5000),
    initial=st.floats(min_value=0, max_value=1e6),
    extra=st.floats(min_value=0, max_value=1e6),
    jitter=st.floats(min_value=0, max_value=1),
    r=st.floats(min_value=0, max_value=1),
)
def test_delay_stays_within_jittered_bounds(
    attempt: int, initial: float, extra: float, jitter: float, r: float
) -> None:
    """Every delay is >= 0 and within +/- jitter of min(initial * 2**(n-1), max_delay)."""
    policy = RetryPolicy(attempts=3, initial=initial, max_delay=initial + extra, jitter=jitter)
    base = min(initial * 2.0 ** min(attempt - 1, 1000), initial + extra)
    delay = policy.delay(attempt, lambda: r)
    assert delay >= 0
    assert base * (1 - jitter) - 1e-6 <= delay <= base * (1 + jitter) + 1e-6


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"attempts": 0}, "attempts must be >= 1"),
        ({"attempts": 2.5}, "attempts must be an integer"),
        ({"attempts": True}, "attempts must be an integer"),
        ({"backoff": "linear"}, "backoff must be 'exponential' or 'fixed'"),
        ({"initial": -1}, "initial must be >= 0"),
        ({"initial": float("nan")}, "initial must be finite"),
        ({"initial": "5s"}, "initial must be a number"),
        ({"max_delay": float("inf")}, "max_delay must be finite"),
        ({"initial": 10, "max_delay": 5}, "must not be less than initial"),
        ({"jitter": 1.5}, "jitter must be between 0 and 1"),
        ({"jitter": -0.1}, "jitter must be >= 0"),
    ],
)
def test_invalid_policies_are_refused(fields: dict[str, Any], message: str) -> None:
    """Each invalid field is refused with a message naming it."""
    with pytest.raises((TypeError, ValueError), match=message):
        RetryPolicy(**fields)


@pytest.mark.parametrize("attempt", [0, -1, 1.5, True])
def test_delay_needs_a_positive_attempt_number(attempt: Any) -> None:
    """Attempts are numbered from 1."""
    with pytest.raises(ValueError, match="attempt must be an integer >= 1"):
        RetryPolicy().delay(attempt, lambda: 0.5)


def test_rand_out_of_range_is_refused() -> None:
    """A rand() outside [0, 1] is a caller bug and is reported."""
    with pytest.raises(ValueError, match="rand"):
        RetryPolicy().delay(1, lambda: 2.0)


def test_allows_another_counts_the_first_attempt() -> None:
    """attempts=3 allows attempts 2 and 3 after failures, and nothing after the third."""
    policy = RetryPolicy(attempts=3)
    assert [policy.allows_another(n) for n in (1, 2, 3)] == [True, True, False]
    assert not RetryPolicy(attempts=1).allows_another(1)


def test_policies_are_frozen_values() -> None:
    """Equal fields make equal policies, and a policy cannot be changed."""
    assert RetryPolicy(attempts=3) == RetryPolicy(attempts=3)
    with pytest.raises(AttributeError):
        RetryPolicy().attempts = 9  # type: ignore[misc]


@pytest.mark.parametrize("name", ["http", "email", "pnc.person_check", "a1.b_2.c"])
def test_valid_names(name: str) -> None:
    """Lower-case dotted identifiers are plugin names."""
    assert spec(name=name).name == name
    assert PLUGIN_NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize("name", ["", "HTTP", "1http", "pnc.", ".pnc", "pnc..check", "pnc-check", "a b"])
def test_invalid_names(name: str) -> None:
    """Upper case, leading digits, empty or doubled dots, dashes and spaces are refused."""
    with pytest.raises(ValueError, match="plugin name"):
        spec(name=name)


def test_invalid_schema_names_the_schema_and_the_place() -> None:
    """A schema that is not valid draft 2020-12 is refused naming which schema and where."""
    with pytest.raises(ValueError, match=r"input_schema is not a valid JSON Schema.*properties\.age"):
        spec(input_schema={"type": "object", "properties": {"age": {"type": "integr"}}})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"config_schema": []}, "config_schema must be a JSON Schema object"),
        ({"output_schema": {"minimum": "zero"}}, "output_schema is not a valid JSON Schema"),
        ({"idempotent": "yes"}, "idempotent must be True or False"),
        ({"retry": {"attempts": 3}}, "retry must be a RetryPolicy"),
        ({"name": 7}, "plugin name must be a string"),
    ],
)
def test_other_invalid_spec_fields(changes: dict[str, Any], message: str) -> None:
    """Wrong types for the other fields are refused with a message naming the field."""
    with pytest.raises((TypeError, ValueError), match=message):
        spec(**changes)
