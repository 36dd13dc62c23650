"""The built-in `http` step: one JSON request to an allow-listed base URL.

The connection (department.yaml) fixes the base URL, default headers and limits; the step's `with:`
gives only a path below it, so a workflow mapping can never send case data to another host. The
step's idempotency key goes out as the `Idempotency-Key` header.

One `httpx.AsyncClient` is made per attempt rather than pooled on the plugin object: a plugin object
outlives any one event loop (run_step starts a loop per call, engine workers may run several), an
httpx pool is bound to the loop that opened it, and the plugin protocol has no close hook. A fresh
client also keeps cookies from leaking between cases. The price, a TCP/TLS handshake per step, is
small beside back-end latency at Waypost's step rates.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx

from engine.plugins import (
    DeadlineExceeded,
    PermanentError,
    RetryableError,
    RetryPolicy,
    StepContext,
    http_status_error,
    is_certificate_failure,
    parse_retry_after,
    placeholder_or,
    tls_context,
)

__all__ = ["HttpPlugin", "plugin"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_JSON_SCALAR = {"type": ["string", "number", "boolean"]}
_HEADER_MAP = {
    "type": "object",
    "propertyNames": {"pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"},
    "additionalProperties": {"type": "string", "pattern": "^[^\\r\\n]*$"},
}
# Headers that would redirect or reframe the request: only the plugin sets them.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "idempotency-key"}
)
_DEFAULT_LIMIT = 1_048_576
_ERROR_BODY_LIMIT = 4096

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["base_url"],
    "additionalProperties": False,
    "properties": {
        "base_url": {
            "type": "string",
            "description": "http(s) URL every request goes below; no credentials, query or fragment",
            "pattern": placeholder_or("^https?://[^\\s/?#@]+(/[^\\s?#]*)?$"),
        },
        "headers": {**_HEADER_MAP, "description": "sent with every request, e.g. Authorization"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 30},
        "allow_paths": {
            "type": "array",
            "minItems": 1,
            "description": "if given, a request path must be one of these or below one",
            "items": {"type": "string", "pattern": "^/"},
        },
        "ca_file": {"type": "string", "minLength": 1, "description": "PEM bundle of CAs to trust"},
        "max_response_bytes": {"type": "integer", "minimum": 1, "default": _DEFAULT_LIMIT},
    },
}

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["path"],
    "additionalProperties": False,
    "properties": {
        "method": {"enum": _METHODS, "default": "GET"},
        "path": {"type": "string", "pattern": "^/", "maxLength": 2048},
        "query": {
            "type": "object",
            "additionalProperties": {"anyOf": [_JSON_SCALAR, {"type": "array", "items": _JSON_SCALAR}]},
        },
        "headers": _HEADER_MAP,
        "body": {"description": "any JSON value, sent as application/json (not with GET)"},
    },
}

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "headers", "body"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "integer"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {"description": "parsed JSON for a JSON response, otherwise the text; null if empty"},
    },
}


def checked_path(path: str, allow_paths: list[str] | None) -> str:
    """Return `path` if it stays below the base URL (and inside `allow_paths`), else PermanentError.

    Rejects absolute URLs, `//host`, query strings and fragments (use `query`), backslashes,
    control characters, and `.` or `..` segments, also when percent-encoded (once or repeatedly).
    """
    if not path.startswith("/") or path.startswith("//"):
        raise PermanentError(f"http path must start with a single '/': {path!r}")
    decoded = path
    for _ in range(5):  # percent-encoding nested deeper than this is not a path anyone means
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in decoded) or "\\" in decoded:
            raise PermanentError(f"http path contains control characters or a backslash: {path!r}")
        if "?" in decoded or "#" in decoded:
            raise PermanentError(f"http path must not carry a query or fragment (use `query`): {path!r}")
        if any(segment in (".", "..") for segment in decoded.split("/")):
            raise PermanentError(f"http path must not contain '.' or '..' segments: {path!r}")
        once_more = unquote(decoded)
        if once_more == decoded:
            break
        decoded = once_more
    else:
        raise PermanentError(f"http path is percent-encoded too deeply: {path!r}")
    if allow_paths is not None and not any(
        decoded == allowed or decoded.startswith(allowed.rstrip("/") + "/") for allowed in allow_paths
    ):
        raise PermanentError(f"http path {path!r} is not in the connection's allow_paths")
    return path


def _build_url(base_url: str, path: str) -> httpx.URL:
    base = httpx.URL(base_url)
    url = httpx.URL(base_url.rstrip("/") + path)
    base_path = base.path.rstrip("/")
    # Belt and braces after checked_path: the parsed URL must still be below the base.
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) or not (
        url.path == base_path or url.path.startswith(base_path + "/")
    ):
        raise PermanentError(f"http path {path!r} leaves the connection's base URL")
    return url


def _headers(config: dict[str, Any], inputs: dict[str, Any], key: str) -> dict[str, str]:
    headers = {"Accept": "application/json, text/*;q=0.5"}
    for source in (config.get("headers", {}), inputs.get("headers", {})):
        for name, value in source.items():
            if name.lower() in _RESERVED_HEADERS:
                raise PermanentError(f"http header {name} is set by Waypost and cannot be given")
            headers[name] = value
    headers["Idempotency-Key"] = key
    return headers


async def _read(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise PermanentError(f"http response is larger than {limit} bytes (max_response_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(response: httpx.Response, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode(response.charset_encoding or "utf-8", errors="replace")
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class HttpPlugin:
    """Send one HTTP request with a JSON body below the connection's base URL."""

    name = "http"
    config_schema = CONFIG_SCHEMA
    input_schema = INPUT_SCHEMA
    output_schema = OUTPUT_SCHEMA
    # Idempotent provided the back-end honours the Idempotency-Key header (see docs/plugins.md).
    idempotent = True
    retry = RetryPolicy(attempts=5, backoff="exponential", initial=2.0, max_delay=300.0, jitter=0.2)

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Send the request; 2xx returns {status, headers, body}, anything else raises."""
        config = dict(ctx.config)
        method = inputs.get("method", "GET")
        path = checked_path(inputs["path"], config.get("allow_paths"))
        url = _build_url(config["base_url"], path)
        what = f"{method} {path}"
        headers = _headers(config, inputs, ctx.idempotency_key)
        content: bytes | None = None
        if "body" in inputs:
            if method == "GET":
                raise PermanentError("http GET requests cannot have a body")
            content = json.dumps(inputs["body"]).encode()
            headers["Content-Type"] = "application/json"
        timeout = min(float(config.get("timeout", 30)), ctx.remaining())
        if timeout <= 0:
            raise DeadlineExceeded(f"{what}: the step's deadline passed before the request was sent")
        limit = int(config.get("max_response_bytes", _DEFAULT_LIMIT))
        try:
            async with (
                httpx.AsyncClient(
                    timeout=timeout,
                    verify=tls_context(config.get("ca_file")),
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
                client.stream(
                    method, url, params=inputs.get("query"), headers=headers, content=content
                ) as response,
            ):
                if response.status_code >= 300:
                    raw = await _read_error_body(response)
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    error = http_status_error(response.status_code, what, raw, retry_after=retry_after)
                    if error is not None:
                        raise error
                body = _decode(response, await _read(response, limit))
                status = response.status_code
                out_headers = _collect_headers(response)
        except httpx.TimeoutException:
            raise RetryableError(f"{what}: no response within {timeout:g}s") from None
        except httpx.TransportError as err:
            if is_certificate_failure(err):
                raise PermanentError(f"{what}: the server's TLS certificate was not trusted: {err}") from None
            raise RetryableError(f"{what}: connection failed: {type(err).__name__}: {err}") from None
        # The path may hold personal data (a name in a URL): log the method and key only.
        ctx.logger.info("http %s (key %s) answered %s", method, ctx.idempotency_key, status)
        return {"status": status, "headers": out_headers, "body": body}


async def _read_error_body(response: httpx.Response) -> str:
    raw = bytearray()
    async for chunk in response.aiter_bytes():
        raw.extend(chunk)
        if len(raw) >= _ERROR_BODY_LIMIT:
            break
    return bytes(raw[:_ERROR_BODY_LIMIT]).decode(response.charset_encoding or "utf-8", errors="replace")


def _collect_headers(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


plugin = HttpPlugin()
"""The object the `http` entry point names."""
