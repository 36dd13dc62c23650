"""The built-in `http` step against a real HTTP(S) server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.builtins.http import checked_path, plugin
from engine.plugins import (
    PermanentError,
    RetryableError,
    SchemaViolation,
    run_step,
)
from tests.engine.plugins.servers import RecordingServer, Reply, free_port


def call(server: RecordingServer, inputs: dict[str, Any], **config: Any) -> dict[str, Any]:
    """Run the http step against `server` with a connection of `config`."""
    return run_step(plugin, inputs, config={"base_url": server.url, **config}, idempotency_key="i-1:s:1")


def test_get_returns_status_headers_and_json_body(http_server: RecordingServer) -> None:
    """A 200 JSON answer becomes {status, headers, body} with the body parsed."""
    http_server.then(Reply(body={"reference": "MASH-42"}, headers={"X-Trace": "t1"}))
    out = call(http_server, {"path": "/people/7", "query": {"full": True, "tag": ["a", "b"]}})
    assert out["status"] == 200
    assert out["body"] == {"reference": "MASH-42"}
    assert out["headers"]["x-trace"] == "t1"
    request = http_server.requests[0]
    assert (request.method, request.path) == ("GET", "/people/7?full=true&tag=a&tag=b")


def test_post_sends_json_body_idempotency_key_and_config_headers(http_server: RecordingServer) -> None:
    """The body goes as JSON; the step's key is the Idempotency-Key; connection headers are sent."""
    body = {"child": {"name": "Ann", "dob": "2015-02-01"}, "flags": [1, None]}
    call(
        http_server,
        {"method": "POST", "path": "/referrals", "body": body, "headers": {"X-Case": "c-9"}},
        headers={"Authorization": "Bearer abc"},
    )
    request = http_server.requests[0]
    assert request.method == "POST"
    assert request.json() == body
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "i-1:s:1"
    assert request.headers["authorization"] == "Bearer abc"
    assert request.headers["x-case"] == "c-9"


def test_path_is_appended_below_the_base_url_path(http_server: RecordingServer) -> None:
    """A base URL with a path prefix keeps it: base /api/v2 + /referrals -> /api/v2/referrals."""
    run_step(plugin, {"path": "/referrals"}, config={"base_url": http_server.url + "/api/v2/"})
    assert http_server.requests[0].path == "/api/v2/referrals"


def test_every_attempt_of_a_visit_sends_the_same_key(http_server: RecordingServer) -> None:
    """Two attempts with one key send the same Idempotency-Key; another visit sends another."""
    for key in ("inst:step:1", "inst:step:1", "inst:step:2"):
        run_step(plugin, {"path": "/x"}, config={"base_url": http_server.url}, idempotency_key=key)
    keys = [r.headers["idempotency-key"] for r in http_server.requests]
    assert keys == ["inst:step:1", "inst:step:1", "inst:step:2"]


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_retryable(http_server: RecordingServer, status: int) -> None:
    """5xx and 408 raise RetryableError naming the request and the status."""
    http_server.then(Reply(status=status, body={"error": "down"}))
    with pytest.raises(RetryableError, match=f"GET /x returned HTTP {status}") as caught:
        call(http_server, {"path": "/x"})
    assert caught.value.retry_after is None


def test_429_carries_retry_after_seconds(http_server: RecordingServer) -> None:
    """A 429 with Retry-After: 7 is retryable with retry_after 7 seconds."""
    http_server.then(Reply(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(RetryableError) as caught:
        call(http_server, {"path": "/x"})
    assert caught.value.retry_after == 7.0


def test_503_retry_after_http_date_is_a_delay(http_server: RecordingServer) -> None:
    """Retry-After as an HTTP date becomes the seconds until then (about 120 here)."""
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    http_server.then(Reply(status=503, headers={"Retry-After": when}))
    with pytest.raises(RetryableError) as caught:
        call(http_server, {"path": "/x"})
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 121


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_are_permanent_with_truncated_body(http_server: RecordingServer, status: int) -> None:
    """4xx raise PermanentError with the status and the start of the body, cut to a few hundred chars."""
    http_server.then(Reply(status=status, body={"detail": "no such person " + "x" * 5000}))
    with pytest.raises(PermanentError) as caught:
        call(http_server, {"method": "DELETE", "path": "/people/1"})
    message = str(caught.value)
    assert f"DELETE /people/1 returned HTTP {status}" in message
    assert "no such person" in message
    assert "[truncated]" in message
    assert len(message) < 700


def test_redirects_are_not_followed(http_server: RecordingServer) -> None:
    """A 302 is a permanent error, not a second request: the base URL is the only allowed target."""
    http_server.then(Reply(status=302, headers={"Location": "http://elsewhere.example/"}))
    with pytest.raises(PermanentError, match="HTTP 302"):
        call(http_server, {"method": "POST", "path": "/x", "body": {"secret": 1}})
    assert len(http_server.requests) == 1


def test_slow_server_times_out_as_retryable(http_server: RecordingServer) -> None:
    """No answer within the connection's timeout is a RetryableError, raised promptly."""
    http_server.then(Reply(delay=5.0))
    started = time.monotonic()
    with pytest.raises(RetryableError, match=r"no response within 0\.2s"):
        call(http_server, {"path": "/slow"}, timeout=0.2)
    assert time.monotonic() - started < 2.0


def test_step_deadline_bounds_the_request(http_server: RecordingServer) -> None:
    """The step's deadline wins over a longer connection timeout: still a RetryableError."""
    http_server.then(Reply(delay=5.0))
    started = time.monotonic()
    with pytest.raises(RetryableError):
        run_step(plugin, {"path": "/slow"}, config={"base_url": http_server.url, "timeout": 60}, timeout=0.3)
    assert time.monotonic() - started < 2.0


def test_connection_refused_is_retryable() -> None:
    """Nobody listening on the port: RetryableError (the back-end may be restarting)."""
    with pytest.raises(RetryableError, match="connection failed"):
        run_step(plugin, {"path": "/x"}, config={"base_url": f"http://127.0.0.1:{free_port()}"})


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b"plain words", "plain words"),
        (b"", None),
    ],
)
def test_non_json_bodies(http_server: RecordingServer, raw: bytes, body: Any) -> None:
    """A text answer is returned as text, an empty one as null."""
    http_server.then(Reply(raw=raw, headers={"Content-Type": "text/plain; charset=utf-8"}))
    assert call(http_server, {"path": "/t"})["body"] == body


def test_malformed_json_is_returned_as_text(http_server: RecordingServer) -> None:
    """A body labelled JSON that does not parse is kept as text rather than failing the step."""
    http_server.then(Reply(raw=b"{oops", headers={"Content-Type": "application/json"}))
    assert call(http_server, {"path": "/t"})["body"] == "{oops"


def test_oversized_response_is_refused(http_server: RecordingServer) -> None:
    """An answer over max_response_bytes is a PermanentError rather than a huge stored output."""
    http_server.then(Reply(body="x" * 5000))
    with pytest.raises(PermanentError, match="larger than 1000 bytes"):
        call(http_server, {"path": "/big"}, max_response_bytes=1000)


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/steal",
        "/a/../admin",
        "/a/./b",
        "/a/%2e%2e/admin",
        "/a/%2E%2E%2Fadmin",
        "/a/%252e%252e/admin",
        "/a\\..\\admin",
        "/a?x=1",
        "/a#frag",
        "/a\r\nX-Injected: 1",
    ],
)
def test_paths_that_could_leave_the_base_url_are_refused(http_server: RecordingServer, path: str) -> None:
    """Escapes by `//host`, dot segments (also percent-encoded), backslashes, query or CRLF never leave."""
    with pytest.raises(PermanentError):
        call(http_server, {"path": path})
    assert http_server.requests == []


def test_absolute_url_is_refused_by_the_input_schema(http_server: RecordingServer) -> None:
    """A full URL as the path fails the input schema (which workflow loading also checks)."""
    with pytest.raises(SchemaViolation, match=r"inputs\.path"):
        call(http_server, {"path": "http://evil.example/x"})
    assert http_server.requests == []


def test_allow_paths_limits_the_reachable_paths(http_server: RecordingServer) -> None:
    """With allow_paths, only those paths and paths below them are called."""
    allow = {"allow_paths": ["/referrals", "/people/"]}
    call(http_server, {"path": "/referrals"}, **allow)
    call(http_server, {"path": "/people/9"}, **allow)
    for path in ("/admin", "/referralsx", "/people"):
        with pytest.raises(PermanentError, match="allow_paths"):
            call(http_server, {"path": path}, **allow)
    assert [r.path for r in http_server.requests] == ["/referrals", "/people/9"]


@pytest.mark.parametrize("name", ["Host", "Content-Length", "Idempotency-Key"])
def test_reserved_headers_cannot_be_set(http_server: RecordingServer, name: str) -> None:
    """Headers that redirect or reframe the request are refused, in inputs as in config."""
    with pytest.raises(PermanentError, match=name):
        call(http_server, {"path": "/x", "headers": {name: "1"}})
    with pytest.raises(PermanentError, match=name):
        call(http_server, {"path": "/x"}, headers={name: "1"})
    assert http_server.requests == []


def test_header_values_with_line_breaks_fail_the_schema(http_server: RecordingServer) -> None:
    """CR/LF in a header value is a schema violation: no header injection."""
    with pytest.raises(SchemaViolation, match="headers"):
        call(http_server, {"path": "/x", "headers": {"X-A": "1\r\nX-B: 2"}})


def test_get_with_body_is_refused(http_server: RecordingServer) -> None:
    """GET has no body; asking for one is a PermanentError."""
    with pytest.raises(PermanentError, match="GET"):
        call(http_server, {"path": "/x", "body": {"a": 1}})


def test_base_url_comes_from_the_environment(http_server: RecordingServer) -> None:
    """`${env:MASH_URL}` in the connection is resolved from the environment at run time."""
    out = run_step(
        plugin, {"path": "/ok"}, config={"base_url": "${env:MASH_URL}"}, environ={"MASH_URL": http_server.url}
    )
    assert out["status"] == 200


def test_placeholders_pass_the_config_schema_before_resolution() -> None:
    """department.yaml is checked with `${env:...}` unresolved: a placeholder base URL is accepted."""
    validator = Draft202012Validator(plugin.config_schema)
    config = {"base_url": "${env:MASH_URL}", "headers": {"Authorization": "Bearer ${env:MASH_TOKEN}"}}
    assert list(validator.iter_errors(config)) == []
    assert not validator.is_valid({"base_url": "mash.example/api"})


def test_missing_environment_variable_is_named() -> None:
    """A connection needing an unset variable fails permanently, naming the variable."""
    with pytest.raises(PermanentError, match="MASH_URL is not set"):
        run_step(plugin, {"path": "/x"}, config={"base_url": "${env:MASH_URL}"}, environ={})


@pytest.mark.parametrize(
    "url", ["ftp://host/x", "https://user:hunter22@host/x", "https://host/x?q=1", "host"]
)
def test_bad_base_urls_fail_without_echoing_them(url: str) -> None:
    """Non-http(s), credential-carrying or query-carrying base URLs are refused; the value is not shown."""
    with pytest.raises(SchemaViolation, match=r"config\.base_url") as caught:
        run_step(plugin, {"path": "/x"}, config={"base_url": "${env:U}"}, environ={"U": url})
    assert url not in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_https_with_the_connection_ca_file(
    https_server: RecordingServer, certificate: tuple[Path, Path]
) -> None:
    """With ca_file naming the server's CA, HTTPS works and the request arrives."""
    out = call(https_server, {"path": "/secure"}, ca_file=str(certificate[0]))
    assert out["status"] == 200
    assert https_server.requests[0].path == "/secure"


def test_untrusted_certificate_is_permanent(https_server: RecordingServer) -> None:
    """A certificate the client does not trust is a configuration fault: PermanentError, no request."""
    with pytest.raises(PermanentError, match="certificate"):
        call(https_server, {"path": "/secure"})
    assert https_server.requests == []


def test_unreadable_ca_file_is_permanent(http_server: RecordingServer, tmp_path: Path) -> None:
    """A ca_file that does not exist is reported as such."""
    with pytest.raises(PermanentError, match="ca_file"):
        call(http_server, {"path": "/x"}, ca_file=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/a/b%20c", True), ("/a/..b", True), ("/x/y", False), ("/%61dmin", False)],
)
def test_checked_path_with_allow_list(path: str, allowed: bool) -> None:
    """checked_path compares decoded paths with the allow-list; odd but harmless names pass."""
    allow = ["/a"]
    if allowed:
        assert checked_path(path, allow) == path
    else:
        with pytest.raises(PermanentError):
            checked_path(path, allow)
