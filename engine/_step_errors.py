"""The errors a step plugin raises to tell the engine whether to try again.

Exception tree (re-exported by engine.plugins, where plugin authors import it):

    Exception
     └── StepError                  a step attempt failed; the message is shown to administrators
          ├── PermanentError        do not retry: the same request will fail the same way (4xx, bad data)
          │    └── SchemaViolation   config, inputs or outputs do not match the plugin's schemas
          └── RetryableError        try again later (5xx, 429, timeouts, connection errors)
               └── DeadlineExceeded  the step ran past its timeout (also a TimeoutError)

Any other exception escaping a plugin counts as retryable too: a crash is more often a passing fault
than a permanent one, and the retry policy bounds the cost. Messages end up in the step run's record
and in incidents, so they must never contain secrets (passwords, API keys, resolved `${env:...}`).
"""

from __future__ import annotations

import math
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "DeadlineExceeded",
    "PermanentError",
    "RetryableError",
    "SchemaViolation",
    "StepError",
    "http_status_error",
    "is_certificate_failure",
    "parse_retry_after",
    "truncate",
]

_DETAIL_LIMIT = 500
_CUT = " ... [truncated]"


class StepError(Exception):
    """Base class of the two outcomes a plugin may signal; catch this to handle both."""


class PermanentError(StepError):
    """The attempt failed and retrying cannot help: the engine raises an incident at once.

    Raise it for rejected requests (HTTP 4xx, SMTP 5xx), bad input the schemas could not catch,
    and configuration mistakes such as a missing environment variable.
    """


class RetryableError(StepError):
    """The attempt failed for a reason that may pass: the engine retries per the step's RetryPolicy.

    `retry_after` (seconds) is a hint from the back-end, such as an HTTP `Retry-After` header: the
    engine waits at least that long before the next attempt, even when the policy's delay is shorter.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        if retry_after is not None and (
            isinstance(retry_after, bool) or not math.isfinite(retry_after) or retry_after < 0
        ):
            raise ValueError(f"retry_after must be a finite number of seconds >= 0, got {retry_after!r}")
        self.retry_after = retry_after


class SchemaViolation(PermanentError):
    """Config, inputs or outputs of a step do not match the plugin's JSON Schemas.

    `part` is "config", "inputs" or "outputs"; `problems` lists one sentence per violation, each
    starting with the JSON path of the offending value.
    """

    def __init__(self, part: str, problems: list[str]) -> None:
        self.part = part
        self.problems = list(problems)
        super().__init__(f"step {part} do not match the plugin's schema: " + "; ".join(self.problems))


class DeadlineExceeded(RetryableError, TimeoutError):
    """The step did not finish before its deadline (the step's `timeout`); retried like a 5xx."""


def truncate(text: str, limit: int = _DETAIL_LIMIT) -> str:
    """Shorten `text` to at most `limit` characters for an error message, marking the cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(_CUT))] + _CUT


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from an HTTP `Retry-After` header: delta-seconds or an HTTP date.

    Returns None for a missing or unreadable header; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; parsedate_to_datetime leaves "-0000" naive.
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def http_status_error(
    status: int, what: str, detail: str = "", *, retry_after: float | None = None
) -> StepError | None:
    """The error an HTTP response status means for a step, or None for success (1xx and 2xx).

    408 (request timeout), 429 (too many requests) and 5xx are retryable, carrying `retry_after`;
    every other status (3xx redirects, which are not followed, and 4xx) is permanent. `what` names
    the request (e.g. "POST /referrals") and `detail` is the response body, truncated here.
    """
    if status < 300:
        return None
    message = f"{what} returned HTTP {status}"
    if detail.strip():
        message += f": {truncate(detail)}"
    if status in (408, 429) or status >= 500:
        return RetryableError(message, retry_after=retry_after)
    return PermanentError(message)


def is_certificate_failure(err: BaseException) -> bool:
    """True when `err` was caused by an untrusted TLS certificate, anywhere in its cause chain.

    Such failures are configuration problems (a missing `ca_file`, a wrong host name) that retrying
    will not cure: plugins should raise PermanentError for them rather than RetryableError.
    """
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
