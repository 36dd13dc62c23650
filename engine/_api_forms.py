"""``/api/v1/forms``: the forms a user's department offers, each form's definition and JSON Schema.

A user works with the forms of their own department's current release (the newest published
version of each). The definition is :func:`renderers.form_json`: pages, items, labels in English
and Welsh, choices, limits and the expression IR a native client evaluates offline; the JSON
Schema (draft 2020-12) describes the answers that ``POST /api/v1/submissions`` accepts.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine._api_common import ApiError, api_user, check_department, endpoint, storage
from engine._definitions import DefinitionNotFound, DefinitionStore
from engine._principal import Principal
from forms import Form, Text
from renderers import form_json
from renderers._json import LANGUAGES

__all__ = ["definition_json", "form_definition", "form_schema", "list_forms", "load_form"]

# Definitions change only when a department is published again: clients may keep them briefly.
_CACHE = {"Cache-Control": "private, max-age=60"}


def _text(value: Text | None) -> dict[str, str] | None:
    if value is None:
        return None
    out = {"en": value.en}
    if value.cy is not None:
        out["cy"] = value.cy
    return out


def _summary(department: str, name: str, ident: int, form: Form) -> dict[str, Any]:
    return {
        "department": department,
        "name": name,
        "definition_id": ident,
        "version": form.version,
        "title": _text(form.title),
        "description": _text(form.description),
        "classification": form.classification,
        "href": f"/api/v1/forms/{department}/{name}",
    }


_DEFINITIONS: dict[tuple[str, str | None], dict[str, Any]] = {}


def definition_json(form: Form, lang: str | None = None) -> dict[str, Any]:
    """:func:`renderers.form_json` of ``form``, kept by content hash: a version never changes,
    and a long form takes milliseconds to turn into JSON."""
    key = (form.content_hash, lang)
    found = _DEFINITIONS.get(key)
    if found is None:
        if len(_DEFINITIONS) >= 256:  # a handful of forms per department: a bound, not an LRU
            _DEFINITIONS.clear()
        found = _DEFINITIONS[key] = form_json(form, lang=lang)
    return found


def load_form(store: DefinitionStore, principal: Principal, department: str, name: str) -> tuple[int, Form]:
    """The current version of a form the principal may use: 404 unknown, 403 another department."""
    try:
        store.release(department)
        known = True
    except DefinitionNotFound:
        known = False
    check_department(principal, department, known)
    try:
        return store.current_form(department, name)
    except DefinitionNotFound:
        raise ApiError(404, "not_found", f"Department '{department}' has no form '{name}'.") from None


@endpoint
async def list_forms(request: Request) -> Response:
    """``GET /forms``: every form of the user's department's current release, by name."""
    principal = api_user(request)
    _, _, store = storage(request)

    def load() -> list[dict[str, Any]]:
        department = principal.department_id
        try:
            release = store.release(department)
        except DefinitionNotFound:
            return []
        return [
            _summary(department, name, ident, store.form(ident))
            for name, ident in sorted(release.forms.items())
        ]

    items = await run_in_threadpool(load)
    return JSONResponse({"items": items}, headers=_CACHE)


@endpoint
async def form_definition(request: Request) -> Response:
    """``GET /forms/{department}/{form}``: the current version's layout for a native client."""
    principal = api_user(request, query=("lang",))
    _, _, store = storage(request)
    department, name = request.path_params["department"], request.path_params["form"]
    ident, form = await run_in_threadpool(load_form, store, principal, department, name)
    lang = request.query_params.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise ApiError(400, "bad_lang", f"lang must be one of: {', '.join(LANGUAGES)}.")
    body = _summary(department, name, ident, form)
    body["definition"] = definition_json(form, lang)
    body["schema_href"] = f"/api/v1/forms/{department}/{name}/schema"
    return JSONResponse(body, headers=_CACHE)


@endpoint
async def form_schema(request: Request) -> Response:
    """``GET /forms/{department}/{form}/schema``: the JSON Schema of the form's answers."""
    principal = api_user(request)
    _, _, store = storage(request)
    department, name = request.path_params["department"], request.path_params["form"]
    _, form = await run_in_threadpool(load_form, store, principal, department, name)
    return JSONResponse(form.json_schema(), media_type="application/schema+json", headers=_CACHE)
