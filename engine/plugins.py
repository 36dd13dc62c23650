"""The step-plugin API: the one module a plugin author imports.

A step plugin connects a workflow `call` step to a back-end system (a records API, a mail server, a
case management system). It is any object with these members (the StepPlugin protocol):

    name            "pnc.person_check": lower-case, dotted for a namespace; what `call:` names
    config_schema   JSON Schema (draft 2020-12) of a department connection's settings
    input_schema    JSON Schema of the step's `with:` mapping
    output_schema   JSON Schema of what `run` returns, seen as `result` by `out:` mappings
    idempotent      True if the plugin passes ctx.idempotency_key to a back-end that honours it
    retry           the default RetryPolicy (a step's `retry:` overrides it)
    async run(ctx, inputs) -> outputs

and is declared in the entry-point group `waypost.steps` of its distribution's pyproject.toml:

    [project.entry-points."waypost.steps"]
    "pnc.person_check" = "waypost_pnc_check:plugin"      # an object, or a zero-argument factory

Errors: raise PermanentError to stop (an incident is raised), RetryableError to be tried again
(optionally with `retry_after`); any other exception is retried too. `run_step` runs a plugin with
no database and no engine, validating config, inputs and outputs: it is the testing helper. See
docs/plugins.md for the guide.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import math
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine._registry import (
    DuplicatePluginError,
    InvalidPluginError,
    PluginError,
    PluginLoadError,
    PluginRegistry,
    UnknownPluginError,
    plugin_spec,
)
from engine._step_errors import (
    DeadlineExceeded,
    PermanentError,
    RetryableError,
    SchemaViolation,
    StepError,
    http_status_error,
    is_certificate_failure,
    parse_retry_after,
    truncate,
)
from workflows import PluginSpec, RetryPolicy

__all__ = [
    "DeadlineExceeded",
    "DuplicatePluginError",
    "InvalidPluginError",
    "PermanentError",
    "PluginError",
    "PluginLoadError",
    "PluginRegistry",
    "PluginSpec",
    "RetryPolicy",
    "RetryableError",
    "SchemaViolation",
    "StepContext",
    "StepError",
    "StepPlugin",
    "UnknownPluginError",
    "arun_step",
    "http_status_error",
    "is_certificate_failure",
    "parse_retry_after",
    "placeholder_or",
    "plugin_spec",
    "resolve_config",
    "run_step",
    "tls_context",
    "truncate",
]


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a plugin knows about the attempt it is running.

    `idempotency_key` is the same for every attempt of one visit to one step (f"{instance}:{step}:
    {visit}") and differs between visits: pass it to the back-end so a retry is not applied twice.
    `config` is the connection's settings with `${env:NAME}` already replaced by the secrets.
    `deadline` is a `time.monotonic()` value; stop work by then (see `remaining()`). `attempt`
    counts from 1.
    """

    idempotency_key: str
    config: Mapping[str, Any]
    logger: logging.Logger
    deadline: float
    attempt: int
    instance_id: str
    step: str

    def remaining(self) -> float:
        """Seconds left before the deadline (0 when it has passed): use it as a timeout."""
        return max(0.0, self.deadline - time.monotonic())


class StepPlugin(Protocol):
    """The extension point for back-end systems. Members may be plain class attributes."""

    @property
    def name(self) -> str:
        """The name workflows use in `call:`; must match the entry point name."""

    @property
    def config_schema(self) -> dict[str, Any]:
        """JSON Schema of a connection's settings, checked when department.yaml loads."""

    @property
    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the inputs, checked against `with:` mappings when a workflow loads."""

    @property
    def output_schema(self) -> dict[str, Any]:
        """JSON Schema of the outputs: gives `result` its type in `out:` mappings."""

    @property
    def idempotent(self) -> bool:
        """True when a retried attempt cannot apply its effect twice (the back-end honours the key)."""

    @property
    def retry(self) -> RetryPolicy:
        """The default retry policy for steps that call this plugin."""

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do the work once. Return JSON-serialisable outputs matching `output_schema`.

        Raise PermanentError or RetryableError to classify a failure. Do not retry inside `run`:
        the engine owns retries, delays and the deadline.
        """
        ...


_ENV_PLACEHOLDER = re.compile(r"\$\{env:([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def placeholder_or(pattern: str) -> str:
    """A JSON Schema `pattern` accepting text that matches `pattern` or holds a `${env:NAME}`.

    Connection settings are checked twice: when department.yaml loads, with placeholders still
    in place, and before each attempt, resolved. A `pattern` on a setting that may come from the
    environment (a URL, an address) must accept the placeholder at load time; the resolved value
    is then held to `pattern` itself. Anchor `pattern` with ^ and $ as usual.
    """
    return rf"(?:{pattern})|\$\{{env:[A-Za-z_][A-Za-z0-9_]*\}}"


def resolve_config(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Return a copy of `config` with every `${env:NAME}` in its strings replaced from `environ`.

    Placeholders may stand alone (`"${env:MASH_URL}"`) or inside text (`"Bearer ${env:TOKEN}"`),
    at any depth of mappings and lists. A variable that is not set raises PermanentError naming
    the variable (never any value), as does a malformed name.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if _ENV_NAME.fullmatch(name) is None:
            raise PermanentError(f"connection config has a malformed placeholder '${{env:{name}}}'")
        if name not in environ:
            raise PermanentError(f"environment variable {name} is not set (needed by the connection config)")
        return environ[name]

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _ENV_PLACEHOLDER.sub(substitute, value)
        if isinstance(value, Mapping):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        return value

    return {key: walk(value) for key, value in config.items()}


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A client TLS context trusting the system's CAs, or only those in the PEM file `ca_file`.

    Building one reads the whole CA store (tens of milliseconds), so contexts are shared by path for
    the life of the process; an SSLContext is safe to share between event loops and threads. A CA
    file replaced at the same path is read again only after a restart. PermanentError if the file
    cannot be read.
    """
    return _shared_tls_context(ca_file)


@functools.lru_cache(maxsize=32)
def _shared_tls_context(ca_file: str | None) -> ssl.SSLContext:
    # A failure raises, and lru_cache does not keep it: a file that appears later is picked up.
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as err:
        raise PermanentError(f"ca_file {ca_file!r} cannot be read: {err}") from None


# Validators whose messages name keys, never values: safe to show for a config holding secrets.
_VALUE_FREE = frozenset({"required", "additionalProperties", "unevaluatedProperties", "dependentRequired"})


def _problems(part: str, schema: dict[str, Any], instance: object, *, redact: bool = False) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = part + err.json_path[1:]
        problems.append(f"{path}: {_describe(err) if redact else err.message}")
    return problems


def _describe(err: ValidationError) -> str:
    if err.validator in _VALUE_FREE:
        return err.message
    if err.validator == "not" and isinstance(err.schema, dict) and "description" in err.schema:
        return str(err.schema["description"])
    # Other messages quote the value, which may be a resolved secret: describe the rule instead.
    return f"does not satisfy {err.validator} {truncate(json.dumps(err.validator_value), 120)}"


def _json_problem(part: str, value: object) -> str | None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        return f"{part}: not JSON data ({err})"
    return None


def _check(part: str, schema: dict[str, Any], value: object, *, redact: bool = False) -> None:
    problem = _json_problem(part, value)
    if problem is not None:
        raise SchemaViolation(part, [problem])
    problems = _problems(part, schema, value, redact=redact)
    if problems:
        raise SchemaViolation(part, problems)


async def arun_step(
    plugin: StepPlugin,
    inputs: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    idempotency_key: str = "test-key",
    timeout: float = 30.0,
    environ: Mapping[str, str] | None = None,
    attempt: int = 1,
    instance_id: str = "test-instance",
    step: str = "test-step",
    logger: logging.Logger | None = None,
    spec: PluginSpec | None = None,
) -> dict[str, Any]:
    """Run one attempt of `plugin` as the engine would, and return its validated outputs.

    Resolves `${env:NAME}` in `config` from `environ` (default: os.environ), validates the config
    and the inputs against the plugin's schemas, runs `plugin.run` under a `timeout`-second
    deadline and validates the outputs. Raises SchemaViolation (a PermanentError) for data that
    does not match, DeadlineExceeded (a RetryableError) when the deadline passes, and whatever
    the plugin raised otherwise. InvalidPluginError if `plugin` is not a valid plugin at all.

    The engine passes `spec` (from `PluginRegistry.spec`) to skip re-checking a plugin the registry
    validated already; checking three schemas against the metaschema costs tens of milliseconds.
    """
    if spec is None:
        spec = plugin_spec(plugin)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise ValueError(f"timeout must be a finite number of seconds, got {timeout!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    resolved = resolve_config(config or {}, os.environ if environ is None else environ)
    _check("config", spec.config_schema, resolved, redact=True)
    if not isinstance(inputs, Mapping):
        raise SchemaViolation("inputs", [f"inputs: must be a mapping, not {type(inputs).__name__}"])
    given = copy.deepcopy(dict(inputs))
    _check("inputs", spec.input_schema, given)
    ctx = StepContext(
        idempotency_key=idempotency_key,
        config=MappingProxyType(resolved),
        logger=logger or logging.getLogger(f"waypost.steps.{spec.name}"),
        deadline=time.monotonic() + timeout,
        attempt=attempt,
        instance_id=instance_id,
        step=step,
    )
    try:
        async with asyncio.timeout(timeout) as limit:
            outputs = await plugin.run(ctx, given)
    except TimeoutError as err:
        if limit.expired() and not isinstance(err, StepError):
            raise DeadlineExceeded(f"step '{spec.name}' did not finish within {timeout:g}s") from None
        raise
    if not isinstance(outputs, dict):
        raise SchemaViolation("outputs", [f"outputs: run() must return a dict, not {type(outputs).__name__}"])
    _check("outputs", spec.output_schema, outputs)
    return outputs


def run_step(
    plugin: StepPlugin,
    inputs: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    idempotency_key: str = "test-key",
    timeout: float = 30.0,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one attempt of `plugin` synchronously, without a database: the plugin author's test helper.

    The same as `await arun_step(...)`, run with `asyncio.run`; call `arun_step` instead from code
    that is already inside an event loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_step() was called inside a running event loop; use `await arun_step(...)`")
    return asyncio.run(
        arun_step(
            plugin,
            inputs,
            config=config,
            idempotency_key=idempotency_key,
            timeout=timeout,
            environ=environ,
        )
    )
