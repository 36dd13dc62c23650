"""Building blocks of the OpenAPI document (:mod:`engine._openapi`): the component schemas and
small helpers that spell out an operation, its parameters and its error responses."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DEPARTMENT",
    "FORM",
    "ID",
    "SHA256",
    "header",
    "json_body",
    "operation",
    "query",
    "ref",
    "schemas",
]

_REF = "#/components/schemas/"
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_NAME = {"type": "string", "minLength": 1, "maxLength": 120}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {
    "type": ["object", "null"],
    "properties": {"en": {"type": "string"}, "cy": {"type": "string"}},
    "required": ["en"],
}
_ERROR_TEXT = {
    400: "The request is malformed: bad JSON, an unknown or repeated query parameter, or a bad "
    "cursor, limit, lang or Idempotency-Key.",
    401: "No valid API token (or session) was sent.",
    403: "Signed in, but not allowed: another department's form, or a missing CSRF token.",
    404: "No such thing, or none the caller may see.",
    409: "A conflict: the Idempotency-Key was used with a different body, or the task is taken.",
    413: "The body is too large.",
    415: "The body is not JSON.",
    422: "The body or the answers are not valid; `fields` lists each problem with its path.",
}


def ref(name: str) -> dict[str, str]:
    """A reference to component schema ``name``."""
    return {"$ref": _REF + name}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """``content`` of a JSON request or response with ``schema``."""
    return {"content": {"application/json": {"schema": schema}}}


def operation(
    op_id: str,
    summary: str,
    ok: tuple[int, str, dict[str, Any]],
    errors: tuple[int, ...],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """One operation: its success response ``ok`` (status, description, content), the error
    statuses it can answer (400 and 401 are added unless ``public``) and any other OpenAPI members."""
    status, description, content = ok
    responses: dict[str, Any] = {str(status): {"description": description, **content}}
    # Every authenticated operation can answer 400 (an unknown query parameter) and 401.
    for code in sorted({*errors, *(() if public else (400, 401))}):
        responses[str(code)] = {"description": _ERROR_TEXT[code], **json_body(ref("Error"))}
    responses["default"] = {"description": "Any other error, in the same shape.", **json_body(ref("Error"))}
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    if public:
        op["security"] = []
    op.update(extra or {})
    return op


def path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional request header."""
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


DEPARTMENT = path_param("department", _NAME, "The department's id, e.g. `response`.")
FORM = path_param("form", _NAME, "The form's name, e.g. `crime_report`.")
ID = path_param("id", {"type": "string", "minLength": 1, "maxLength": 36}, "The id (a UUID).")
_JSON_OBJECT = {"type": "object"}


def schemas() -> dict[str, Any]:
    """The component schemas: the error shape and every body the API sends or receives."""
    field_error = {
        "type": "object",
        "required": ["path", "code", "message"],
        "properties": {
            "path": {"type": "array", "items": {"type": ["string", "integer"]}},
            "code": {"type": "string"},
            "message": {"type": "string"},
        },
    }
    form_summary = {
        "type": "object",
        "required": ["department", "name", "definition_id", "title", "href"],
        "properties": {
            "department": {"type": "string"},
            "name": {"type": "string"},
            "definition_id": {"type": "integer"},
            "version": {"type": ["string", "null"]},
            "title": _TEXT,
            "description": _TEXT,
            "classification": {"type": "string"},
            "href": {"type": "string"},
        },
    }
    task = {
        "type": "object",
        "required": ["id", "title", "department", "role", "state", "form"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "department": {"type": "string"},
            "role": {"type": "string"},
            "step": {"type": "string"},
            "state": {"type": "string", "enum": ["open", "claimed", "completed", "cancelled"]},
            "claimed": {"type": "boolean"},
            "claimed_by_me": {"type": "boolean"},
            "created_at": _TIME,
            "due_at": _TIME_OR_NULL,
            "form": {"type": "object", "required": ["name", "definition_id"]},
            "submission": {"type": ["object", "null"]},
        },
    }
    status = {"type": "string", "enum": ["received", "in_progress", "completed", "failed", "cancelled"]}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable, for programs."},
                        "message": {"type": "string", "description": "For people."},
                        "fields": {"type": "array", "items": field_error},
                    },
                }
            },
        },
        "FieldError": field_error,
        "FormSummary": form_summary,
        "FormList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("FormSummary")}},
        },
        "FormDefinition": {
            "allOf": [ref("FormSummary")],
            "type": "object",
            "required": ["definition", "schema_href"],
            "properties": {
                "definition": {
                    "type": "object",
                    "required": ["format", "format_version", "id", "pages", "schema"],
                    "description": "renderers.form_json: pages, items, choices, limits, expression IR "
                    "and the answers' JSON Schema (renderers/schemas/form-json.schema.json).",
                },
                "schema_href": {"type": "string"},
            },
        },
        "NewSubmission": {
            "type": "object",
            "required": ["department", "form", "answers"],
            "additionalProperties": False,
            "properties": {
                "department": {"type": "string"},
                "form": {"type": "string"},
                "answers": {"type": "object", "description": "Strict JSON, as the form's JSON Schema says."},
            },
        },
        "SubmissionCreated": {
            "type": "object",
            "required": ["id", "reference", "status", "instances"],
            "properties": {
                "id": {"type": "string"},
                "reference": {"type": "string"},
                "status": status,
                "instances": {"type": "array", "items": {"type": "string"}},
                "warnings": {"type": "array", "items": field_error},
            },
        },
        "SubmissionSummary": {
            "type": "object",
            "required": ["id", "reference", "department", "form", "received_at", "status"],
            "properties": {
                "id": {"type": "string"},
                "reference": {"type": "string"},
                "department": {"type": "string"},
                "form": {"type": "string"},
                "received_at": _TIME,
                "status": status,
            },
        },
        "SubmissionList": {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref("SubmissionSummary")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "Submission": {
            "allOf": [ref("SubmissionSummary")],
            "type": "object",
            "required": ["answers", "instances", "timeline", "results", "tasks"],
            "properties": {
                "definition_id": {"type": "integer"},
                "answers": _JSON_OBJECT,
                "instances": {"type": "array", "items": _JSON_OBJECT},
                "timeline": {"type": "array", "items": _JSON_OBJECT},
                "results": {"type": "array", "items": _JSON_OBJECT},
                "tasks": {"type": "array", "items": _JSON_OBJECT},
            },
        },
        "Task": task,
        "TaskList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("Task")}},
        },
        "TaskDetail": {
            "allOf": [ref("Task")],
            "type": "object",
            "required": ["case"],
            "properties": {"case": {"type": ["object", "null"]}, "result": {"type": ["object", "null"]}},
        },
        "TaskCompletion": {
            "type": "object",
            "required": ["answers"],
            "properties": {"answers": {"type": "object"}},
        },
        "Attachment": {
            "type": "object",
            "required": ["sha256", "filename", "content_type", "size"],
            "properties": {
                "sha256": SHA256,
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer", "minimum": 0},
                "captured_at": {**_TIME, "description": "Only when the client sent it."},
            },
        },
    }
