"""run_step / arun_step (the plugin author's test helper), resolve_config and the step errors."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.plugins import (
    DeadlineExceeded,
    InvalidPluginError,
    PermanentError,
    RetryableError,
    RetryPolicy,
    SchemaViolation,
    StepContext,
    arun_step,
    http_status_error,
    parse_retry_after,
    placeholder_or,
    plugin_spec,
    resolve_config,
    run_step,
    tls_context,
    truncate,
)

ECHO_CONFIG: dict[str, Any] = {
    "type": "object",
    "properties": {"token": {"type": "string", "pattern": "^tok-"}, "level": {"type": "integer"}},
    "additionalProperties": False,
}
ECHO_INPUTS: dict[str, Any] = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string"}, "when": {"type": "string", "format": "date"}},
}
ECHO_OUTPUTS: dict[str, Any] = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string"}},
}


class Echo:
    """A toy plugin: returns what it was given and what its context held, or misbehaves on request."""

    name = "test.echo"
    config_schema = ECHO_CONFIG
    input_schema = ECHO_INPUTS
    output_schema = ECHO_OUTPUTS
    idempotent = True
    retry = RetryPolicy()

    def __init__(self) -> None:
        self.seen: list[StepContext] = []

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(ctx)
        text = inputs["text"]
        inputs["text"] = "mutated by the plugin"
        if text == "sleep":
            await asyncio.sleep(10)
        if text == "permanent":
            raise PermanentError("the back-end said no")
        if text == "bad output":
            return {"text": 5}
        if text == "not json":
            return {"text": "x", "extra": {1, 2}}
        if text == "not a dict":
            return ["text"]  # type: ignore[return-value]
        return {"text": text, "token": ctx.config.get("token")}


def test_run_step_returns_outputs_and_builds_the_context() -> None:
    """Outputs come back; ctx carries the key, resolved config, attempt 1 and a deadline `timeout` ahead."""
    echo = Echo()
    before = time.monotonic()
    out = run_step(
        echo,
        {"text": "hello"},
        config={"token": "${env:TOKEN}"},
        idempotency_key="k-1",
        timeout=12,
        environ={"TOKEN": "tok-abc"},
    )
    assert out == {"text": "hello", "token": "tok-abc"}
    (ctx,) = echo.seen
    assert (ctx.idempotency_key, ctx.attempt, ctx.config["token"]) == ("k-1", 1, "tok-abc")
    assert isinstance(ctx.logger, logging.Logger)
    assert ctx.logger.name == "waypost.steps.test.echo"
    assert before + 11 < ctx.deadline <= time.monotonic() + 12
    assert 0 < ctx.remaining() <= 12


def test_the_callers_inputs_are_not_changed() -> None:
    """The plugin gets a copy: mutating it leaves the caller's mapping alone."""
    inputs = {"text": "hello"}
    run_step(Echo(), inputs)
    assert inputs == {"text": "hello"}


def test_config_is_read_only_for_the_plugin() -> None:
    """ctx.config cannot be modified by the plugin."""
    echo = Echo()
    run_step(echo, {"text": "x"})
    with pytest.raises(TypeError):
        echo.seen[0].config["level"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    ("inputs", "path"),
    [
        ({}, "inputs: 'text' is a required property"),
        ({"text": 3}, "inputs.text"),
        ({"text": "a", "when": "31/01/2020"}, "inputs.when"),
    ],
)
def test_inputs_are_validated_against_the_schema(inputs: dict[str, Any], path: str) -> None:
    """Missing fields, wrong types and bad formats are SchemaViolations naming the JSON path."""
    with pytest.raises(SchemaViolation) as caught:
        run_step(Echo(), inputs)
    assert caught.value.part == "inputs"
    assert path in str(caught.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("bad output", "outputs.text: 5 is not of type 'string'"),
        ("not json", "not JSON data"),
        ("not a dict", "must return a dict"),
    ],
)
def test_outputs_are_validated(text: str, problem: str) -> None:
    """Outputs that break the output schema, are not JSON or not a dict are SchemaViolations."""
    with pytest.raises(SchemaViolation, match=problem) as caught:
        run_step(Echo(), {"text": text})
    assert caught.value.part == "outputs"


def test_config_violations_do_not_show_the_value() -> None:
    """A config value that breaks its schema is described by the rule, never echoed (it may be a secret)."""
    with pytest.raises(SchemaViolation) as caught:
        run_step(Echo(), {"text": "x"}, config={"token": "${env:T}"}, environ={"T": "hunter2-secret"})
    message = str(caught.value)
    assert "config.token" in message
    assert "pattern" in message
    assert "hunter2-secret" not in message


def test_unknown_config_keys_are_named() -> None:
    """additionalProperties errors name the unexpected key."""
    with pytest.raises(SchemaViolation, match="'colour' was unexpected"):
        run_step(Echo(), {"text": "x"}, config={"colour": "red"})


def test_inputs_that_are_not_json_are_refused() -> None:
    """Python objects that cannot be stored as JSON are refused before the plugin runs."""
    echo = Echo()
    with pytest.raises(SchemaViolation, match="not JSON"):
        run_step(echo, {"text": "x", "when": datetime.now(UTC)})
    assert echo.seen == []


def test_deadline_is_a_retryable_timeout() -> None:
    """A plugin still running at the deadline is cancelled: DeadlineExceeded, retryable and a TimeoutError."""
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"within 0\.2s") as caught:
        run_step(Echo(), {"text": "sleep"}, timeout=0.2)
    assert isinstance(caught.value, RetryableError)
    assert isinstance(caught.value, TimeoutError)
    assert time.monotonic() - started < 2


def test_plugin_errors_pass_through() -> None:
    """A PermanentError from the plugin reaches the caller unchanged."""
    with pytest.raises(PermanentError, match="the back-end said no"):
        run_step(Echo(), {"text": "permanent"})


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True])
def test_bad_timeouts_are_refused(timeout: float) -> None:
    """The timeout must be a finite number of seconds above zero."""
    with pytest.raises(ValueError, match="timeout"):
        run_step(Echo(), {"text": "x"}, timeout=timeout)


def test_invalid_plugins_are_refused_by_run_step() -> None:
    """run_step checks the plugin like the registry does, so authors see protocol errors in tests."""

    class NotAsync(Echo):
        def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
            return {}

    with pytest.raises(InvalidPluginError, match="coroutine"):
        run_step(NotAsync(), {"text": "x"})  # type: ignore[arg-type]


def test_run_step_inside_an_event_loop_points_to_arun_step() -> None:
    """Inside a running loop, run_step refuses with a pointer to arun_step, which works there."""

    async def inside() -> dict[str, Any]:
        with pytest.raises(RuntimeError, match="arun_step"):
            run_step(Echo(), {"text": "x"})
        return await arun_step(Echo(), {"text": "x"}, attempt=3, instance_id="i9", step="alert")

    assert asyncio.run(inside())["text"] == "x"


def test_arun_step_passes_the_engine_fields() -> None:
    """attempt, instance_id and step reach the context."""
    echo = Echo()
    asyncio.run(arun_step(echo, {"text": "x"}, attempt=4, instance_id="inst-7", step="notify"))
    ctx = echo.seen[0]
    assert (ctx.attempt, ctx.instance_id, ctx.step) == (4, "inst-7", "notify")


def test_a_given_spec_is_used_instead_of_checking_the_plugin_again() -> None:
    """With spec= (the engine passes the registry's), its schemas are the ones applied."""
    echo = Echo()
    stricter = dataclasses.replace(
        plugin_spec(echo), input_schema={**ECHO_INPUTS, "properties": {"text": {"maxLength": 3}}}
    )
    assert asyncio.run(arun_step(echo, {"text": "abc"}, spec=stricter)) == {"text": "abc", "token": None}
    with pytest.raises(SchemaViolation, match=r"inputs\.text"):
        asyncio.run(arun_step(echo, {"text": "abcd"}, spec=stricter))


def test_tls_contexts_are_shared_per_ca_file(tmp_path: Path) -> None:
    """tls_context builds one context per CA file and reports an unreadable file permanently."""
    assert tls_context() is tls_context(None)
    assert tls_context().verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(PermanentError, match="cannot be read"):
        tls_context(str(tmp_path / "absent.pem"))


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("https://h", True),
        ("${env:URL}", True),
        ("${env:URL}/api", True),
        ("ftp://h", False),
        ("${env:}", False),
    ],
)
def test_placeholder_or_accepts_the_pattern_or_a_placeholder(text: str, ok: bool) -> None:
    """placeholder_or(p) matches what p matches, and any text holding a well-formed placeholder."""
    assert (re.search(placeholder_or("^https://"), text) is not None) is ok


def test_resolve_config_replaces_placeholders_at_any_depth() -> None:
    """Whole and embedded placeholders in nested mappings and lists are replaced; others kept."""
    config = {
        "base_url": "${env:URL}",
        "headers": {"Authorization": "Bearer ${env:TOKEN}", "X-Lit": "${notenv:X} $5"},
        "list": ["${env:URL}/a", 3, None, True],
        "timeout": 5,
    }
    resolved = resolve_config(config, {"URL": "https://h", "TOKEN": "t0k"})
    assert resolved == {
        "base_url": "https://h",
        "headers": {"Authorization": "Bearer t0k", "X-Lit": "${notenv:X} $5"},
        "list": ["https://h/a", 3, None, True],
        "timeout": 5,
    }
    assert config["base_url"] == "${env:URL}"


def test_resolve_config_names_the_missing_variable_but_no_value() -> None:
    """A missing variable raises PermanentError naming it; values of other variables never appear."""
    with pytest.raises(PermanentError) as caught:
        resolve_config({"a": "${env:PRESENT}", "b": "${env:ABSENT}"}, {"PRESENT": "secret-value"})
    assert "ABSENT" in str(caught.value)
    assert "secret-value" not in str(caught.value)


@pytest.mark.parametrize("text", ["${env:}", "${env:1ABC}", "${env:A-B}"])
def test_resolve_config_refuses_malformed_names(text: str) -> None:
    """Empty or non-identifier variable names are reported, not silently kept."""
    with pytest.raises(PermanentError, match="malformed placeholder"):
        resolve_config({"x": text}, {})


def test_retryable_error_checks_retry_after() -> None:
    """retry_after is a number of seconds >= 0 or None."""
    assert RetryableError("x", retry_after=2.5).retry_after == 2.5
    assert RetryableError("x").retry_after is None
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="retry_after"):
            RetryableError("x", retry_after=bad)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    """Delta-seconds and HTTP dates (relative to now) are read; past dates give 0; junk gives None."""
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected


@pytest.mark.parametrize(
    ("status", "kind"),
    [(200, None), (204, None), (301, PermanentError), (400, PermanentError), (404, PermanentError),
     (408, RetryableError), (429, RetryableError), (500, RetryableError), (503, RetryableError)],
)  # fmt: skip
def test_http_status_error_table(status: int, kind: type[Exception] | None) -> None:
    """Success is None; 408, 429 and 5xx are retryable; other 3xx and 4xx are permanent."""
    error = http_status_error(status, "GET /x", "detail")
    if kind is None:
        assert error is None
    else:
        assert type(error) is kind
        assert f"GET /x returned HTTP {status}: detail" == str(error)


def test_truncate_marks_the_cut() -> None:
    """Long text is cut to the limit with a marker; short text is only stripped."""
    assert truncate("  short  ") == "short"
    cut = truncate("x" * 1000, 100)
    assert len(cut) == 100
    assert cut.endswith("[truncated]")
