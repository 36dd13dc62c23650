"""Tests of pnc.person_check with Waypost's run_step, against a fake records service on loopback.

The fake is a real HTTP server (http.server in a thread): it records each request and answers
from a list of scripted answers, so the plugin's own HTTP code runs exactly as in production.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from waypost_pnc_check import plugin

from engine.plugins import PermanentError, RetryableError, SchemaViolation, plugin_spec, run_step

PERSON = {"surname": "Smith", "forenames": "Jo", "date_of_birth": "1990-01-31", "reason": "safeguarding",
          "requested_by": "PC 1234"}  # fmt: skip
API_KEY = "test-key-123"


class RecordsService(ThreadingHTTPServer):
    """The fake national records service: `answers` holds (status, JSON body, headers) to send back."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: deque[tuple[int, Any, dict[str, str]]] = deque()
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        """Where the fake listens."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: RecordsService

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        status, answer, headers = self.server.answers.popleft()
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def records_service() -> Iterator[RecordsService]:
    """A fake records service on 127.0.0.1 for one test."""
    server = RecordsService()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def check(service: RecordsService, **inputs: Any) -> dict[str, Any]:
    """Run the plugin once against `service`, the API key coming from a test environment."""
    return run_step(
        plugin,
        {**PERSON, **inputs},
        config={"base_url": service.url, "api_key": "${env:PNC_API_KEY}"},
        idempotency_key="inst-1:check:1",
        environ={"PNC_API_KEY": API_KEY},
    )


def test_the_plugin_is_valid() -> None:
    """The plugin meets Waypost's protocol (name, schemas, retry, async run)."""
    assert plugin_spec(plugin).name == "pnc.person_check"


def test_connection_with_placeholders_passes_the_load_time_check() -> None:
    """department.yaml is checked before `${env:...}` is resolved: placeholders must be accepted."""
    config = {"base_url": "${env:PNC_URL}", "api_key": "${env:PNC_API_KEY}"}
    assert list(Draft202012Validator(plugin.config_schema).iter_errors(config)) == []


def test_single_match(records_service: RecordsService) -> None:
    """One match gives match 'single' with its person id; the request carries key and API key."""
    records_service.answers.append((200, {"check_id": "PC-1", "matches": [{"person_id": "NRS-9"}]}, {}))
    out = check(records_service)
    assert out["match"] == "single"
    assert out["person_id"] == "NRS-9"
    request = records_service.requests[0]
    assert request["path"] == "/v1/person-checks"
    assert request["headers"]["Idempotency-Key"] == "inst-1:check:1"
    assert request["headers"]["Authorization"] == f"ApiKey {API_KEY}"
    assert request["json"] == PERSON


def test_no_match(records_service: RecordsService) -> None:
    """No match: match 'none', no person, no markers, not wanted or missing."""
    records_service.answers.append((200, {"check_id": "PC-2", "matches": []}, {}))
    out = check(records_service)
    assert (out["match"], out["person_id"], out["warning_markers"], out["wanted"]) == (
        "none",
        None,
        [],
        False,
    )


def test_rate_limited_is_retryable_with_hint(records_service: RecordsService) -> None:
    """429 with Retry-After: 20 is retryable, with the hint."""
    records_service.answers.append((429, {"error": "slow down"}, {"Retry-After": "20"}))
    with pytest.raises(RetryableError) as caught:
        check(records_service)
    assert caught.value.retry_after == 20.0


def test_key_reused_with_another_request_is_permanent(records_service: RecordsService) -> None:
    """409 (the key was seen with a different body) is permanent: a bug, not a passing fault."""
    records_service.answers.append((409, {"error": "key reused"}, {}))
    with pytest.raises(PermanentError, match="idempotency key"):
        check(records_service)


def test_refused_api_key_is_not_echoed(records_service: RecordsService) -> None:
    """403 is permanent, and the message does not contain the key."""
    records_service.answers.append((403, {"error": "forbidden"}, {}))
    with pytest.raises(PermanentError) as caught:
        check(records_service)
    assert API_KEY not in str(caught.value)


def test_malformed_answer_is_permanent(records_service: RecordsService) -> None:
    """An answer without check_id is reported, not turned into an empty result."""
    records_service.answers.append((200, {"matches": []}, {}))
    with pytest.raises(PermanentError, match="check_id"):
        check(records_service)


def test_bad_inputs_are_refused_before_any_request(records_service: RecordsService) -> None:
    """An invalid postcode or a missing officer fails the input schema; nothing is sent."""
    with pytest.raises(SchemaViolation, match="postcode"):
        check(records_service, postcode="not a postcode")
    with pytest.raises(SchemaViolation, match="requested_by"):
        run_step(
            plugin,
            {"surname": "Smith", "reason": "arrest"},
            config={"base_url": "http://x", "api_key": "k" * 8},
        )
    assert records_service.requests == []


def test_missing_api_key_variable_is_named() -> None:
    """An unset PNC_API_KEY fails permanently, naming the variable."""
    with pytest.raises(PermanentError, match="PNC_API_KEY"):
        run_step(plugin, PERSON, config={"base_url": "http://x", "api_key": "${env:PNC_API_KEY}"}, environ={})
