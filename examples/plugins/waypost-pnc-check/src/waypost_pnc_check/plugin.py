"""`pnc.person_check`: ask the national records service whether it knows a person.

The back-end is the (fictional) National Records Service person-check API:

    POST {base_url}/v1/person-checks
    Authorization: ApiKey <key>            the force's key, from the connection config
    Idempotency-Key: <step key>            same for every retry of one step visit
    {"surname": "...", "forenames": "...", "date_of_birth": "1990-01-31", "postcode": "...",
     "reason": "safeguarding", "requested_by": "PC 1234"}

    200 {"check_id": "PC-...", "matches": [{"person_id": "NRS-...", "warning_markers": ["..."],
                                            "wanted": false, "missing": false}, ...]}

The service stores each Idempotency-Key with its answer for 24 hours: a repeated key returns the
stored answer (and logs no second check against the person), a key reused with a different body
is refused with 409. So the plugin is idempotent and retries are safe.
"""

from __future__ import annotations

from typing import Any

import httpx

from engine.plugins import (
    PermanentError,
    RetryableError,
    RetryPolicy,
    StepContext,
    http_status_error,
    parse_retry_after,
    placeholder_or,
    tls_context,
    truncate,
)

__all__ = ["PersonCheckPlugin", "plugin"]

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["base_url", "api_key"],
    "additionalProperties": False,
    "properties": {
        # placeholder_or: at load time the URL may still be "${env:PNC_URL}".
        "base_url": {"type": "string", "pattern": placeholder_or("^https?://[^\\s/?#@]+(/[^\\s?#]*)?$")},
        "api_key": {"type": "string", "minLength": 8, "description": 'always "${env:NAME}"'},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 120, "default": 15},
        "ca_file": {"type": "string", "minLength": 1},
    },
}

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["surname", "reason", "requested_by"],
    "additionalProperties": False,
    "properties": {
        "surname": {"type": "string", "minLength": 1, "maxLength": 100},
        "forenames": {"type": "string", "maxLength": 200},
        "date_of_birth": {"type": "string", "format": "date"},
        "postcode": {"type": "string", "pattern": "^[A-Za-z]{1,2}[0-9][0-9A-Za-z]? ?[0-9][A-Za-z]{2}$"},
        "reason": {"enum": ["safeguarding", "investigation", "arrest", "missing_person"]},
        "requested_by": {"type": "string", "minLength": 1, "description": "the officer, for the audit"},
    },
}

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["check_id", "match", "match_count", "person_id", "warning_markers", "wanted", "missing"],
    "additionalProperties": False,
    "properties": {
        "check_id": {"type": "string"},
        "match": {"enum": ["none", "single", "multiple"]},
        "match_count": {"type": "integer", "minimum": 0},
        "person_id": {"type": ["string", "null"], "description": "only for a single match"},
        "warning_markers": {"type": "array", "items": {"type": "string"}},
        "wanted": {"type": "boolean", "description": "true if any match is wanted"},
        "missing": {"type": "boolean", "description": "true if any match is reported missing"},
    },
}


def _summary(answer: Any) -> dict[str, Any]:
    """Turn the service's answer into the step's outputs; PermanentError if it is malformed."""
    if not isinstance(answer, dict) or not isinstance(answer.get("check_id"), str):
        raise PermanentError("the records service answered without a check_id")
    matches = answer.get("matches")
    if not isinstance(matches, list) or not all(isinstance(m, dict) for m in matches):
        raise PermanentError("the records service answered without a list of matches")
    markers = sorted({str(marker) for m in matches for marker in m.get("warning_markers", [])})
    count = len(matches)
    return {
        "check_id": answer["check_id"],
        "match": "none" if count == 0 else "single" if count == 1 else "multiple",
        "match_count": count,
        "person_id": str(matches[0]["person_id"]) if count == 1 and "person_id" in matches[0] else None,
        "warning_markers": markers,
        "wanted": any(m.get("wanted") is True for m in matches),
        "missing": any(m.get("missing") is True for m in matches),
    }


def _error(response: httpx.Response, text: str) -> Exception | None:
    status = response.status_code
    if status in (401, 403):
        # Never echo the request's headers: they carry the API key.
        return PermanentError(f"the records service refused the API key (HTTP {status})")
    if status == 409:
        return PermanentError("the records service saw this idempotency key with a different request")
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return http_status_error(status, "person check", truncate(text), retry_after=retry_after)


class PersonCheckPlugin:
    """Check a person against the national records service; returns a summary of the matches."""

    name = "pnc.person_check"
    config_schema = CONFIG_SCHEMA
    input_schema = INPUT_SCHEMA
    output_schema = OUTPUT_SCHEMA
    idempotent = True
    retry = RetryPolicy(attempts=6, backoff="exponential", initial=2.0, max_delay=120.0, jitter=0.2)

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Send one check (every attempt with the same Idempotency-Key) and summarise the answer."""
        config = ctx.config
        timeout = min(float(config.get("timeout", 15)), ctx.remaining())
        headers = {
            "Authorization": f"ApiKey {config['api_key']}",
            "Idempotency-Key": ctx.idempotency_key,
            "Accept": "application/json",
        }
        url = config["base_url"].rstrip("/") + "/v1/person-checks"
        verify = tls_context(config.get("ca_file"))  # shared: building one costs tens of ms
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=verify, trust_env=False) as client:
                response = await client.post(url, json=inputs, headers=headers)
        except httpx.TimeoutException:
            raise RetryableError(f"the records service did not answer within {timeout:g}s") from None
        except httpx.TransportError as err:
            raise RetryableError(f"cannot reach the records service: {type(err).__name__}") from None
        error = _error(response, response.text)
        if error is not None:
            raise error
        try:
            answer = response.json()
        except ValueError:
            raise PermanentError("the records service answered with something other than JSON") from None
        outputs = _summary(answer)
        # Log identifiers only: names and dates of birth are personal data.
        ctx.logger.info("person check %s: %s match(es)", outputs["check_id"], outputs["match_count"])
        return outputs


plugin = PersonCheckPlugin()
"""The object the `pnc.person_check` entry point names."""
