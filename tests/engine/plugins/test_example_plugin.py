"""The example third-party plugin (examples/plugins/waypost-pnc-check), installed by its entry point.

The package is installed into the test environment with
`pip install -e examples/plugins/waypost-pnc-check --no-build-isolation`; these tests find it the
way the engine does, through `PluginRegistry.from_entry_points()`, and run it against a loopback
fake of the national records API.
"""

from __future__ import annotations

import pytest

from engine.plugins import PermanentError, PluginRegistry, RetryableError, StepPlugin, run_step
from tests.engine.plugins.servers import RecordingServer, Reply

PERSON = {"surname": "Smith", "forenames": "Jo", "date_of_birth": "1990-01-31", "reason": "safeguarding",
          "requested_by": "PC 1234"}  # fmt: skip
KEY = "abcd-1234-efgh-5678"


@pytest.fixture
def person_check() -> StepPlugin:
    """The pnc.person_check plugin as the registry loads it from the installed distribution."""
    registry = PluginRegistry.from_entry_points()
    assert "pnc.person_check" in registry, [str(e) for e in registry.errors]
    assert registry.distribution("pnc.person_check") == "distribution waypost-pnc-check 0.1.0"
    return registry.get("pnc.person_check")


def check(plugin: StepPlugin, server: RecordingServer, **inputs: object) -> dict[str, object]:
    """Run the person check against `server` with the API key from a (test) environment."""
    return run_step(
        plugin,
        {**PERSON, **inputs},
        config={"base_url": server.url, "api_key": "${env:PNC_API_KEY}"},
        idempotency_key="inst-3:pnc:1",
        environ={"PNC_API_KEY": KEY},
    )


def test_the_installed_example_is_found_and_runs(
    person_check: StepPlugin, http_server: RecordingServer
) -> None:
    """The registry finds pnc.person_check; a single match is summarised; the request is well formed."""
    http_server.then(
        Reply(body={"check_id": "PC-1", "matches": [
            {"person_id": "NRS-9", "warning_markers": ["VIOLENT", "WEAPONS"], "wanted": True,
             "missing": False},
        ]})
    )  # fmt: skip
    out = check(person_check, http_server)
    assert out == {
        "check_id": "PC-1",
        "match": "single",
        "match_count": 1,
        "person_id": "NRS-9",
        "warning_markers": ["VIOLENT", "WEAPONS"],
        "wanted": True,
        "missing": False,
    }
    request = http_server.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/person-checks")
    assert request.headers["authorization"] == f"ApiKey {KEY}"
    assert request.headers["idempotency-key"] == "inst-3:pnc:1"
    assert request.json() == PERSON


def test_multiple_matches_have_no_single_person(
    person_check: StepPlugin, http_server: RecordingServer
) -> None:
    """Several matches: match 'multiple', no person_id, markers merged."""
    http_server.then(
        Reply(body={"check_id": "PC-2", "matches": [
            {"person_id": "A", "warning_markers": ["DRUGS"], "missing": True}, {"person_id": "B"},
        ]})
    )  # fmt: skip
    out = check(person_check, http_server)
    assert (out["match"], out["person_id"], out["warning_markers"], out["missing"]) == (
        "multiple",
        None,
        ["DRUGS"],
        True,
    )


def test_refused_key_is_permanent_and_not_echoed(
    person_check: StepPlugin, http_server: RecordingServer
) -> None:
    """401 is a permanent error that does not contain the API key."""
    http_server.then(Reply(status=401, body={"error": "bad key"}))
    with pytest.raises(PermanentError, match="refused the API key") as caught:
        check(person_check, http_server)
    assert KEY not in str(caught.value)


def test_busy_service_is_retryable(person_check: StepPlugin, http_server: RecordingServer) -> None:
    """503 with Retry-After is retryable with the hint."""
    http_server.then(Reply(status=503, headers={"Retry-After": "30"}))
    with pytest.raises(RetryableError) as caught:
        check(person_check, http_server)
    assert caught.value.retry_after == 30.0


def test_invalid_inputs_never_reach_the_service(
    person_check: StepPlugin, http_server: RecordingServer
) -> None:
    """A bad date of birth or reason fails the example's input schema before any request."""
    for bad in ({"date_of_birth": "31/01/1990"}, {"reason": "curiosity"}):
        with pytest.raises(PermanentError, match="inputs"):
            check(person_check, http_server, **bad)
    assert http_server.requests == []
