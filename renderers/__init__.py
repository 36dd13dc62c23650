"""Waypost renderers: pure presentation of forms and workflows as HTML.

:class:`HtmlRenderer` renders the built-in templates (a deployment's override folder first) with
one autoescaping Jinja2 environment; :func:`form_outline`, :func:`workflow_outline` and
:func:`summarise_department` turn models into the plain rows the author preview shows. Nothing
here touches the database or the web framework: callers pass models and plain data.
"""

from renderers._html import Asset, HtmlRenderer, TemplateFolderError, static_assets
from renderers._json import form_json
from renderers._outline import FormOutline, WorkflowOutline, form_outline, workflow_outline
from renderers._summary import DepartmentSummary, summarise_department

__all__ = [
    "Asset",
    "DepartmentSummary",
    "FormOutline",
    "HtmlRenderer",
    "TemplateFolderError",
    "WorkflowOutline",
    "form_json",
    "form_outline",
    "static_assets",
    "summarise_department",
    "workflow_outline",
]
