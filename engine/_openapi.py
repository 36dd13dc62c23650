"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written out here rather than generated from the routes, so that it can say what the routes do
(errors, idempotency, permissions); ``tests/web/test_api_openapi.py`` compares its paths and
methods with the real routes, and runs schemathesis against it, so it cannot drift from them.
"""

from __future__ import annotations

from typing import Any

from engine._openapi_parts import (
    DEPARTMENT,
    FORM,
    ID,
    SHA256,
    header,
    json_body,
    operation,
    query,
    ref,
    schemas,
)
from engine._web_attachments import UPLOAD_LIMIT

__all__ = ["openapi_document"]

_TASK = (200, "The task, as it is now.", json_body(ref("Task")))
_IDEMPOTENCY = header(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 80, "pattern": "^[!-~]+$"},
    "Recommended. A retry with the same key and body returns the first result and stores nothing; "
    "the same key with a different body is a 409. Keys are per user and per form.",
)
_CSRF = header(
    "X-CSRF-Token", {"type": "string"}, "Only for browser sessions (cookie): the page's CSRF token."
)


def _forms() -> dict[str, Any]:
    return {
        "/forms": {
            "get": operation(
                "listForms",
                "The forms of the caller's department (its current release).",
                (200, "The forms, by name.", json_body(ref("FormList"))),
                (),
            )
        },
        "/forms/{department}/{form}": {
            "get": operation(
                "getForm",
                "The current version of a form: pages, items, labels, choices and limits.",
                (200, "The form's definition.", json_body(ref("FormDefinition"))),
                (400, 403, 404),
                parameters=[
                    DEPARTMENT,
                    FORM,
                    query("lang", {"type": "string", "enum": ["en", "cy"]}, "Texts in one language only."),
                ],
            )
        },
        "/forms/{department}/{form}/schema": {
            "get": operation(
                "getFormSchema",
                "The JSON Schema (draft 2020-12) of the answers the form accepts.",
                (
                    200,
                    "The JSON Schema.",
                    {"content": {"application/schema+json": {"schema": {"type": "object"}}}},
                ),
                (403, 404),
                parameters=[DEPARTMENT, FORM],
            )
        },
    }


def _submissions() -> dict[str, Any]:
    created = json_body(ref("SubmissionCreated"))
    create = operation(
        "createSubmission",
        "Validate and store answers to a form of the caller's department; start its workflows.",
        (201, "Stored; the workflows started.", created),
        (400, 403, 404, 409, 413, 415, 422),
        parameters=[_IDEMPOTENCY, _CSRF],
        body={"required": True, **json_body(ref("NewSubmission"))},
    )
    # A retry with the same Idempotency-Key and body: the first result again, nothing stored.
    create["responses"]["200"] = {
        "description": "A replay of an earlier request with the same Idempotency-Key and body.",
        "headers": {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}},
        **created,
    }
    return {
        "/submissions": {
            "get": operation(
                "listSubmissions",
                "The caller's own submissions, newest first.",
                (200, "One page of submissions.", json_body(ref("SubmissionList"))),
                (400,),
                parameters=[
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (20)."),
                    query("cursor", {"type": "string"}, "`next_cursor` of the previous page."),
                ],
            ),
            "post": create,
        },
        "/submissions/{id}": {
            "get": operation(
                "getSubmission",
                "A submission with its status, timeline, step results and tasks (its submitter, or a "
                "supervisor of its department).",
                (200, "The submission.", json_body(ref("Submission"))),
                (404,),
                parameters=[ID],
            )
        },
    }


def _tasks() -> dict[str, Any]:
    params = [ID, _CSRF]
    return {
        "/tasks": {
            "get": operation(
                "listTasks",
                "Open and claimed tasks for the roles the caller holds, oldest first.",
                (200, "The tasks.", json_body(ref("TaskList"))),
                (),
            )
        },
        "/tasks/{id}": {
            "get": operation(
                "getTask",
                "A task, its form (the pinned version, with its JSON Schema) and its case's answers.",
                (200, "The task.", json_body(ref("TaskDetail"))),
                (404,),
                parameters=[ID],
            )
        },
        "/tasks/{id}/claim": {
            "post": operation("claimTask", "Claim the task.", _TASK, (403, 404, 409), parameters=params)
        },
        "/tasks/{id}/release": {
            "post": operation(
                "releaseTask", "Give a claimed task back.", _TASK, (403, 404, 409), parameters=params
            )
        },
        "/tasks/{id}/complete": {
            "post": operation(
                "completeTask",
                "Complete a task the caller has claimed, with answers to its form.",
                _TASK,
                (400, 403, 404, 409, 413, 415, 422),
                body={"required": True, **json_body(ref("TaskCompletion"))},
                parameters=params,
            )
        },
    }


def _attachments() -> dict[str, Any]:
    upload_params = [
        query("department", {"type": "string"}, "With `form` and `field`: the field the file is for."),
        query("form", {"type": "string"}, "The form's name."),
        query("field", {"type": "string"}, "The field's answer path, e.g. `exhibits.0.photos`."),
        header("X-Filename", {"type": "string"}, "The file's name, URL-encoded."),
        header("X-Sha256", {"type": "string"}, "The SHA-256 the client computed (hex); checked."),
        header("X-Captured-At", {"type": "string"}, "When the photo was taken (ISO 8601)."),
        _CSRF,
    ]
    binary = {"type": "string", "format": "binary"}
    multipart = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": binary, "sha256": {"type": "string"}, "captured_at": {"type": "string"}},
    }
    return {
        "/attachments": {
            "post": operation(
                "uploadAttachment",
                f"Upload one file (at most {UPLOAD_LIMIT // (1024 * 1024)} MiB): the raw bytes with their "
                "Content-Type, or multipart with a `file` part. Identical bytes are stored once.",
                (201, "The attachment record to put in an answer.", json_body(ref("Attachment"))),
                (400, 403, 404, 413, 422),
                parameters=upload_params,
                body={
                    "required": True,
                    "content": {
                        "application/octet-stream": {"schema": binary},
                        "multipart/form-data": {"schema": multipart},
                    },
                },
            )
        },
        "/attachments/{sha256}": {
            "get": operation(
                "getAttachment",
                "The bytes of an attachment the caller uploaded or may see through a case.",
                (200, "The file, with its stored content type.", {"content": {"*/*": {"schema": binary}}}),
                (404,),
                parameters=[
                    {"name": "sha256", "in": "path", "required": True, "schema": SHA256},
                ],
                extra={"x-etag": "The ETag is the SHA-256; If-None-Match gives 304."},
            )
        },
    }


def openapi_document(server: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API, its paths relative to ``server``."""
    paths = {
        "/openapi.json": {
            "get": operation(
                "getOpenApi",
                "This document.",
                (200, "The OpenAPI document.", json_body({"type": "object"})),
                (),
                public=True,
            )
        },
        **_forms(),
        **_submissions(),
        **_tasks(),
        **_attachments(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Waypost API",
            "version": "1",
            "description": (
                "Forms, submissions, tasks and attachments for native clients. Authenticate with "
                "`Authorization: Bearer wpt_...` (an API token acting as one user). Every error is "
                '`{"error": {"code", "message", "fields"?}}`. See docs/api.md.'
            ),
        },
        "servers": [{"url": server}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "wpt_...",
                    "description": "An API token acting as one user. A browser session cookie also "
                    "works; its writes then need the X-CSRF-Token header.",
                }
            },
        },
    }
