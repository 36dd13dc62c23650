"""Pure descriptions of step plugins: what a workflow definition may know about a plugin.

The engine loads plugins (engine.plugins) and turns each into a `PluginSpec`; the workflow loader only
ever sees specs, so definitions can be checked without importing, configuring or running any plugin.
Both classes validate themselves when built, so a spec or policy that exists is a valid one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

__all__ = ["PLUGIN_NAME_PATTERN", "PluginSpec", "RetryPolicy"]

PLUGIN_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
"""Plugin names: lower-case dotted identifiers such as `http` or `pnc.person_check` (match in full)."""

_BACKOFFS = ("exponential", "fixed")
# 2.0 ** 1000 is still a finite float; beyond it the delay is capped by max_delay anyway.
_MAX_EXPONENT = 1000


def _check_number(owner: str, field: str, value: object, *, minimum: float, inclusive: bool = True) -> None:
    # bool is an int subclass; `initial: true` in YAML is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}.{field} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}.{field} must be finite, got {value!r}")
    if value < minimum or (not inclusive and value == minimum):
        bound = ">=" if inclusive else ">"
        raise ValueError(f"{owner}.{field} must be {bound} {minimum:g}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how often a failed step is tried again.

    `attempts` counts every try, the first included: `attempts=1` means never retry. After attempt
    `n` fails with a retryable error the engine waits `delay(n, rand)` seconds before attempt `n + 1`.
    Times are in seconds. `jitter` is the fraction (0 to 1) by which each delay is spread up or down,
    so that many steps failing together against one back-end do not all come back at the same moment.
    """

    attempts: int = 5
    backoff: Literal["exponential", "fixed"] = "exponential"
    initial: float = 1.0
    max_delay: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"RetryPolicy.attempts must be an integer, not {type(self.attempts).__name__}")
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1 (1 means no retry), got {self.attempts}")
        if self.backoff not in _BACKOFFS:
            raise ValueError(f"RetryPolicy.backoff must be 'exponential' or 'fixed', got {self.backoff!r}")
        _check_number("RetryPolicy", "initial", self.initial, minimum=0.0)
        _check_number("RetryPolicy", "max_delay", self.max_delay, minimum=0.0)
        _check_number("RetryPolicy", "jitter", self.jitter, minimum=0.0)
        if self.jitter > 1:
            raise ValueError(f"RetryPolicy.jitter must be between 0 and 1, got {self.jitter!r}")
        if self.max_delay < self.initial:
            raise ValueError(
                f"RetryPolicy.max_delay ({self.max_delay:g}s) must not be less than "
                f"initial ({self.initial:g}s)"
            )

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

        Exponential: `initial * 2 ** (attempt - 1)` capped at `max_delay`; fixed: `initial`. The result
        is then moved by up to `jitter` of itself either way, using `rand()` (a number in [0, 1], e.g.
        `random.random`); it is never negative. `rand` is a parameter so that tests are deterministic.
        """
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ValueError(f"attempt must be an integer >= 1, got {attempt!r}")
        if self.backoff == "fixed":
            base = self.initial
        else:
            base = min(self.initial * 2.0 ** min(attempt - 1, _MAX_EXPONENT), self.max_delay)
        r = rand()
        if not 0.0 <= r <= 1.0:
            raise ValueError(f"rand() must return a number in [0, 1], got {r!r}")
        return max(0.0, base * (1.0 + self.jitter * (2.0 * r - 1.0)))

    def allows_another(self, attempt: int) -> bool:
        """True when attempt number `attempt` (1-based) failed and a further attempt is allowed."""
        return attempt < self.attempts


def _check_schema(field: str, schema: object) -> None:
    if not isinstance(schema, dict):
        raise TypeError(f"{field} must be a JSON Schema object (a dict), not {type(schema).__name__}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = err.json_path if err.json_path != "$" else "the top level"
        raise ValueError(
            f"{field} is not a valid JSON Schema (draft 2020-12): {err.message} (at {where})"
        ) from None


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """What the workflow loader knows of a step plugin: its name, schemas, idempotency and retries.

    `config_schema` describes a department connection (`connections:` in department.yaml),
    `input_schema` the `with:` mapping of a `call` step, and `output_schema` the `result` seen by
    `out:` mappings. All three are JSON Schemas (draft 2020-12), checked here. Treat them as read-only.
    `idempotent` says the plugin passes the step's idempotency key to its back-end, so a retried
    attempt cannot apply its effect twice.
    """

    name: str
    config_schema: dict[str, Any]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    idempotent: bool
    retry: RetryPolicy

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"plugin name must be a string, not {type(self.name).__name__}")
        if PLUGIN_NAME_PATTERN.fullmatch(self.name) is None:
            raise ValueError(
                f"plugin name {self.name!r} is not valid: use lower-case letters, digits and "
                "underscores, dotted for a namespace, e.g. 'http' or 'pnc.person_check'"
            )
        _check_schema("config_schema", self.config_schema)
        _check_schema("input_schema", self.input_schema)
        _check_schema("output_schema", self.output_schema)
        if not isinstance(self.idempotent, bool):
            raise TypeError(f"idempotent must be True or False, not {type(self.idempotent).__name__}")
        if not isinstance(self.retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(self.retry).__name__}")
