"""Waypost forms: the form model, loading definitions, JSON Schema export and validation.

Load a form with :func:`load_form` (shared choice lists with :func:`load_list`, the department
with :func:`load_department`); check a submission with :meth:`Form.validate`; export the shape
of its answers with :meth:`Form.json_schema`. :func:`definition_schema` gives the JSON Schemas of
the definition files themselves, for editors. Nothing here reads files: callers pass text.
"""

from forms._defschema import definition_schema
from forms._department import Department, load_department
from forms._fields import FieldType
from forms._lists import load_list
from forms._loader import load_form
from forms._model import Field, FieldWarning, Form, Group, Item, Page, Repeat
from forms._navigation import Evaluation, evaluate, relevant_pages
from forms._result import AnswerError, ValidationResult
from forms._schema import form_json_schema
from forms._text import Choice, ChoiceList, Text

__all__ = [
    "AnswerError",
    "Choice",
    "ChoiceList",
    "Department",
    "Evaluation",
    "Field",
    "FieldType",
    "FieldWarning",
    "Form",
    "Group",
    "Item",
    "Page",
    "Repeat",
    "Text",
    "ValidationResult",
    "definition_schema",
    "evaluate",
    "form_json_schema",
    "load_department",
    "load_form",
    "load_list",
    "relevant_pages",
]
