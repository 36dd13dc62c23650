"""The OpenAPI document matches the real API: the same paths and methods, and schemathesis finds
no server error and no response that the document does not describe.

Schemathesis generates requests from /api/v1/openapi.json (valid and invalid ones) and sends
them to the ASGI app with a valid bearer token; every response must be a 4xx or the documented
success, in the documented shape. The number of examples is bounded to keep this under a minute.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from engine._api import api_routes
from engine._openapi import openapi_document
from tests.web.test_api import Api, api

__all__ = ["api"]  # the fixture, imported for this module's tests

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _openapi_path(route: Route) -> str:
    return route.path  # Starlette and OpenAPI spell path parameters alike: /tasks/{id}


def test_the_document_lists_exactly_the_routes(api: Api) -> None:
    served = api.client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    document = served.json()
    assert document == openapi_document("/api/v1")
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    real = {
        (_openapi_path(route), method)
        for route in api_routes()
        for method in (route.methods or set())
        if method != "HEAD"  # Starlette adds HEAD to every GET by itself
    }
    assert documented == real
    for item in document["paths"].values():
        for operation in item.values():
            assert "default" in operation["responses"]
            if operation.get("security") != []:
                assert "401" in operation["responses"]


def test_the_document_is_valid_openapi() -> None:
    document = openapi_document()
    loaded = schemathesis.openapi.from_dict(document)
    labels = {result.ok().label for result in loaded.get_all_operations()}  # .ok() raises on a bad one
    assert labels == {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    assert len(labels) == 14


def test_schemathesis_finds_no_server_error(api: Api) -> None:
    # One bounded Hypothesis run per operation and mode (valid, then invalid requests). The
    # schemathesis pytest loader (from_fixture) does not work with this pytest, so the runs are
    # driven here with the operations' own strategies.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.client.app)
    token = api.token("sgt.fuzz", "ppu", ("officer", "supervisor"))
    auth = {"Authorization": f"Bearer {token}"}
    # Something to find: a submission, so reads meet a real row among the made-up ones.
    body = {"department": "ppu", "form": "concern", "answers": {"full_name": "Fuzz"}}
    assert api.client.post("/api/v1/submissions", json=body, headers=auth).status_code == 201
    ran: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case: Any) -> None:
                case.call_and_validate(headers=auth, checks=CHECKS)

            run()
            ran.append(f"{operation.label} {mode.value}")
    assert len(ran) >= 26  # every operation but the document itself, both modes
