"""renderers.form_json: forms as JSON for native clients and the browser runtime.

Every demo form must export to JSON that validates against renderers/schemas/form-json.schema.json,
byte for byte the same each time; the exported IR, run by the JavaScript runtime in the order the
JSON gives, must drop and compute the same answers as Form.validate on the crime report.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dsl import Env
from forms import Field, Form, Group, Repeat, load_form
from renderers import form_json
from renderers._json import FORMAT_VERSION
from tests.examples.test_demo_forms import ALL_FORMS, CRIME_REPORT, FORCE, NOW, demo_form, department_lists
from tests.renderers import samples
from tests.renderers.test_js_conformance import NODE, RUNTIME

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "renderers" / "schemas" / "form-json.schema.json"
FORM_RUNNER = Path(__file__).resolve().parent / "js" / "run_form.js"
FORM_IDS = [form_id for _, form_id in ALL_FORMS]


@cache
def validator() -> jsonschema.Draft202012Validator:
    """A validator for the format's own schema (itself checked against the metaschema)."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(data: Any) -> list[str]:
    """Every schema violation of ``data`` (after a JSON round trip), as path: message."""
    plain = json.loads(json.dumps(data))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(plain)]


def items_of(form: Form) -> Iterator[Any]:
    """Every exported item of a form_json, nested ones included, in document order."""

    def walk(items: list[Any]) -> Iterator[Any]:
        for item in items:
            yield item
            yield from walk(item.get("items", []))

    for page in form_json(form)["pages"]:
        yield from walk(page["items"])


@pytest.mark.parametrize("form_id", FORM_IDS)
@pytest.mark.parametrize("lang", [None, "en", "cy"])
def test_demo_forms_match_the_format_schema(form_id: str, lang: str | None) -> None:
    """Every demo form, in both languages and in either, validates against the format's schema."""
    assert problems(form_json(demo_form(form_id), lang=lang)) == []


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_output_is_deterministic(form_id: str) -> None:
    """Two loads of the same definition give byte-identical JSON (caches and clients rely on it)."""
    folder = next(f for f, fid in ALL_FORMS if fid == form_id)
    path = FORCE / folder / "forms" / f"{form_id}.yaml"
    text = path.read_text(encoding="utf-8")
    first, second = (
        json.dumps(form_json(load_form(text, str(path), lists=department_lists(folder))), sort_keys=True)
        for _ in range(2)
    )
    assert first == second
    assert json.loads(first)["content_hash"] == demo_form(form_id).content_hash


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_item_and_expression_is_exported(form_id: str) -> None:
    """Each item appears once with its path; each compiled expression's IR is where it belongs."""
    form = demo_form(form_id)
    exported = {item["id"]: item for item in items_of(form)}
    assert list(exported) == sorted(exported, key=[i.id for i in form.items()].index)
    assert set(exported) == set(form.fields_by_id)
    for item in form.items():
        out = exported[item.id]
        assert out["path"] == list(item.path)
        assert out["type"] == item.type.value
        assert out.get("relevant") == (item.relevant.ir if item.relevant else None)
        if isinstance(item, Field):
            for key in ("required_expr", "constraint", "default_expr", "choice_filter", "value"):
                compiled = getattr(item, key)
                assert out.get(key) == (compiled.ir if compiled else None), (item.id, key)
        if isinstance(item, Repeat):
            assert out.get("item_label") == (item.item_label.ir if item.item_label else None)
            assert (out["min"], out.get("max")) == (item.min_items, item.max_items)
    order = form_json(form)["evaluation_order"]
    assert order == [list(step) for step in form.evaluation_order]
    assert form_json(form)["schema"] == form.json_schema()


def test_small_form_in_detail() -> None:
    """Texts in both languages (or one), options, inline and shared choices, groups and repeats."""
    form = samples.form()
    data = form_json(form)
    assert problems(data) == []
    assert (data["format"], data["format_version"], data["id"], data["version"]) == (
        "waypost-form",
        FORMAT_VERSION,
        "concern",
        "2.1",
    )
    assert data["title"] == {"en": "Concern for a person", "cy": "Pryder am berson"}
    assert data["description"] == {"en": "About someone at risk."}
    byid = {item["id"]: item for item in items_of(form)}
    assert byid["full_name"]["label"] == {"en": "Full name", "cy": "Enw llawn"}
    assert (byid["full_name"]["required"], byid["full_name"]["max_length"]) == (True, 80)
    assert byid["full_name"]["pattern"] == "[A-Za-z ]+"
    assert (byid["age"]["min"], byid["age"]["max"], byid["age"]["message"]) == (
        0,
        120,
        {"en": "Check the age"},
    )
    assert byid["age"]["constraint"] == ["ge", ["ref", 0, ["age"]], ["lit", 0]]
    assert byid["offence"]["list_name"] == "offences"
    assert "choices" not in byid["offence"]
    assert len(data["lists"]["offences"]["choices"]) == 30
    assert data["lists"]["offences"]["choices"][0] == {"value": "o0", "label": {"en": "Offence 0"}}
    assert byid["risk"]["choices"] == [
        {"value": "low", "label": {"en": "low"}},
        {"value": "high", "label": {"en": "High", "cy": "Uchel"}},
    ]
    assert byid["at_risk"]["required_expr"][0] == "and"
    assert byid["postcode"]["path"] == ["address", "postcode"]
    assert byid["items"]["item_label"] == ["template", ["ref", 1, ["what"]]]
    assert (byid["items"]["min"], byid["items"]["max"]) == (0, 5)
    assert byid["what"]["path"] == ["items", "what"]
    assert (byid["score"]["value"], byid["score"]["value_type"]) == (
        ["call", "count", ["ref", 0, ["items"]]],
        "number",
    )
    assert (byid["photo"]["max"], byid["photo"]["max_size"]) == (2, 10 * 1024 * 1024)
    assert data["pages"][1]["relevant"] == ["eq", ["ref", 0, ["at_risk"]], ["lit", True]]
    welsh = form_json(form, lang="cy")
    assert problems(welsh) == []
    assert welsh["title"] == "Pryder am berson"
    welsh_items = {item["id"]: item for page in welsh["pages"] for item in page["items"]}
    assert welsh_items["full_name"]["label"] == "Enw llawn"
    assert welsh_items["age"]["label"] == "Age"  # no Welsh written: English
    assert form_json(form, lang="en")["title"] == "Concern for a person"


def test_defaults_and_date_bounds_are_json_answers() -> None:
    """Literal defaults and bounds of dates and times come out as normalised JSON answers."""
    text = """\
form: dates
title: Dates
pages:
  - id: p
    fields:
      - {id: when, type: date, label: When, min: 2020-01-01, max: 2030-12-31, default: 2024-02-29}
      - {id: at, type: time, label: At, min: '08:00', default: '09:30'}
      - {id: many, type: select_many, label: Many, choices: [a, b, c], default: [a, c]}
      - {id: sure, type: yesno, label: Sure, default: true, yes_label: {en: Yes, cy: Ydw}}
"""
    data = form_json(load_form(text, "dates.yaml"))
    assert problems(data) == []
    byid = {item["id"]: item for item in data["pages"][0]["items"]}
    assert (byid["when"]["min"], byid["when"]["max"], byid["when"]["default"]) == (
        "2020-01-01",
        "2030-12-31",
        "2024-02-29",
    )
    assert (byid["at"]["min"], byid["at"]["default"]) == ("08:00", "09:30")
    assert byid["many"]["default"] == ["a", "c"]
    assert (byid["sure"]["default"], byid["sure"]["yes_label"]) == (True, {"en": "Yes", "cy": "Ydw"})


def test_bad_language_is_refused() -> None:
    """Only the languages a definition may be written in are accepted."""
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        form_json(samples.form(), lang="fr")


def test_schema_rejects_what_it_should() -> None:
    """The format schema is strict enough to catch a broken export."""
    good = form_json(samples.form())
    broken = [copy.deepcopy(good) for _ in range(5)]
    broken[0]["format_version"] = 2
    broken[1]["pages"][0]["items"][0]["relevant"] = ["frobnicate", 1]
    broken[2]["pages"][0]["items"][0]["surprise"] = True
    del broken[3]["pages"][0]["items"][0]["required"]
    broken[4]["pages"][1]["items"][1]["item_label"] = ["not a template"]
    for data in broken:
        assert problems(data) != []


# --- the browser runtime agrees with Form.validate on the demo crime report ------------------------


def answers_json(value: Any) -> Any:
    """A plain copy of JSON answers (so each sample can be changed without touching another)."""
    return json.loads(json.dumps(value))


@cache
def crime_samples() -> list[dict[str, Any]]:
    """Realistic crime reports in normalised JSON, each with answers that relevance must drop."""
    form = demo_form("crime_report")
    base = form.validate(CRIME_REPORT, now=NOW).to_json()
    hidden_extras = {
        "point_of_entry": "window",
        "weapon_description": "A knife",
        "hate_strands": ["race"],
        "safe_contact_details": "Call the office",
        "transfer_force": "Thames Valley",
        "child_victim_referral": True,
    }
    first = answers_json(base) | hidden_extras
    second = answers_json(first) | {
        "offence_group": "burglary",
        "offence": "burglary_residential_dwelling",
        "weapon_used": True,
        "hate_crime": True,
        "location_type": "online",
        "victim_dob": "2012-05-01",
        "vulnerability_factors": ["repeat_victim"],
        "needs_details": "Targeted three times this year",
        "recording_decision": "transfer",
        "any_suspects": False,
        "property_involved": True,
        "cctv_available": False,
        "forensic_opportunities": ["none"],
    }
    second["suspects"][0] |= {"suspect_named": True, "suspect_name": "Ryan Cole", "suspect_dob": "1999-01-01"}
    third = answers_json(second) | {
        "victim_type": "organisation",
        "any_suspects": True,
        "property_involved": False,
    }
    third["suspects"].append({"suspect_named": False, "suspect_name": "Hidden", "suspect_status": "arrested"})
    third["property_items"][0]["prop_status"] = "recovered"
    return [first, second, third]


def run_form(form: Form, samples_json: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """Each sample's answers after the JavaScript evaluation, and each item's final relevance."""
    batch = {
        "form": form_json(form),
        "samples": [{"answers": s, "now": now.isoformat()} for s in samples_json],
    }
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "batch.json"
        file.write_text(json.dumps(batch), encoding="utf-8")
        done = subprocess.run(
            [NODE, str(FORM_RUNNER), str(RUNTIME), str(file)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert isinstance(results, list)
    return results


def python_relevance(form: Form, answers: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Each item's relevance over final answers, one entry per instance, as run_form.js gives it."""
    out: dict[str, Any] = {}

    def walk(items: tuple[Any, ...], env: Env, container: Mapping[str, Any], prefix: tuple[Any, ...]) -> None:
        for item in items:
            where = (*prefix, item.id)
            if item.relevant is not None:
                out["/".join(map(str, where))] = item.relevant(env)
            value = container.get(item.id)
            if isinstance(item, Group):
                walk(item.fields, env, value if isinstance(value, Mapping) else {}, where)
            elif isinstance(item, Repeat):
                for index, element in enumerate(value or ()):
                    walk(item.fields, env.push(element), element, (*where, index))

    root = Env.of(answers, now=now)
    walk(tuple(i for page in form.pages for i in page.fields), root, answers, ())
    return out


def test_crime_report_relevance_and_calculations_agree_with_python() -> None:
    """The runtime, following the exported evaluation_order, drops the same answers and computes
    the same calculations as Form.validate, and every item's relevance agrees item by item."""
    form = demo_form("crime_report")
    samples_json = crime_samples()
    results = run_form(form, samples_json, NOW)
    dropped_somewhere: set[str] = set()
    for sample, result in zip(samples_json, results, strict=True):
        checked = form.validate(sample, now=NOW, coerce=False)
        assert {e.code for e in checked.errors} <= {"required"}  # no answer failed a check of its own
        assert result["answers"] == checked.to_json()
        assert result["relevant"] == python_relevance(form, checked.answers, NOW)
        dropped_somewhere |= set(sample) - set(checked.answers)
        assert False in result["relevant"].values()
        assert True in result["relevant"].values()
    # The samples exercise relevance of fields, groups, repeats and a whole page.
    assert {
        "weapon_description",
        "crime_address",
        "suspects",
        "victim_forenames",
        "property_items",
    } <= dropped_somewhere
    assert "suspects/1/suspect_name" in results[2]["relevant"]
    assert {"property_total", "victim_age", "cctv_retention_deadline"} <= set(results[0]["answers"])
