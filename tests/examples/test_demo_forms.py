"""The demo force (examples/demo-force, "Wessex Vale Police") loads cleanly, accepts realistic
submissions and reports realistic officer mistakes against the right field.

The demo forms are the project's showcase and the fixtures other tests and the docs lean on, so
these tests pin what they promise: every field type is used, Welsh is offered on a whole page,
and the statutory rules (s.9 declaration, dates to avoid, immediate risk) are enforced.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from dsl import default_library
from forms import (
    ChoiceList,
    Field,
    FieldType,
    Form,
    Group,
    Item,
    Repeat,
    Text,
    ValidationResult,
    load_department,
    load_form,
    load_list,
)

FORCE = Path(__file__).resolve().parents[2] / "examples" / "demo-force"
LONDON = ZoneInfo("Europe/London")
#: Every test validates as if it were this moment, so ages and "not in the future" are stable.
NOW = dt.datetime(2024, 6, 12, 14, 30, tzinfo=LONDON)

DEPARTMENTS = {
    "response": ("response", ("crime_report", "crime_review", "witness_statement")),
    "public-protection": ("public_protection", ("child_concern", "supervisor_review")),
    "investigations": ("investigations", ("investigation_update",)),
}
ALL_FORMS = [(folder, form) for folder, (_, forms) in DEPARTMENTS.items() for form in forms]


@cache
def department_lists(folder: str) -> dict[str, ChoiceList]:
    """The shared lists of one department, by name."""
    lists: dict[str, ChoiceList] = {}
    for path in sorted((FORCE / folder / "lists").iterdir()):
        loaded = load_list(path.read_text(encoding="utf-8"), str(path))
        lists[loaded.name] = loaded
    return lists


@cache
def demo_form(form_id: str) -> Form:
    """Load one demo form with its department's lists."""
    folder = next(f for f, fid in ALL_FORMS if fid == form_id)
    path = FORCE / folder / "forms" / f"{form_id}.yaml"
    return load_form(path.read_text(encoding="utf-8"), str(path), lists=department_lists(folder))


def attachment(filename: str, content_type: str = "image/jpeg", size: int = 482_113) -> dict[str, Any]:
    """An attachment record as the tablet sends it after capturing a file."""
    return {
        "sha256": hashlib.sha256(filename.encode()).hexdigest(),
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "captured_at": "2024-06-12T13:55:00+01:00",
    }


def check(form_id: str, answers: Mapping[str, Any]) -> ValidationResult:
    """Validate ``answers`` against a demo form at :data:`NOW`."""
    return demo_form(form_id).validate(answers, now=NOW)


def errors_at(result: ValidationResult, *path: str | int) -> list[tuple[str, bool]]:
    """(code, blocking) of every problem reported at exactly ``path``."""
    return [(e.code, e.blocking) for e in result.errors if e.path == path]


# --- Realistic submissions ---------------------------------------------------------------------

WITNESS_STATEMENT: dict[str, Any] = {
    "officer_name": "Jane Sarah Morgan",
    "officer_rank": "pc",
    "officer_collar": "4471",
    "officer_station": "Marlbury",
    "statement_type": "victim",
    "crime_reference": "WV/012345/24",
    "taken_at": "2024-06-12T13:10:00+01:00",
    "taken_place": "The witness's home address",
    "witness_forenames": "Robert James",
    "witness_surname": "Hale",
    "witness_dob": "1979-02-14",
    "occupation": "Bus driver",
    "witness_can_read": True,
    "interpreter_used": False,
    "narrative": (
        "I am the above named person. I live at 14 Mill Lane, Marlbury, with my wife and two "
        "children. On Tuesday 11 June 2024 at about 11pm I was in the front room when I heard a "
        "loud bang from the front door. I went into the hall and saw that the glass panel in the "
        "door had been smashed. Through the broken panel I saw a man running towards Station "
        "Road. He was white, about 25 years old, slim, and wore a grey hooded top. I did not give "
        "anyone permission to damage my door. PC Morgan photographed the damage and I produce "
        "the photograph as exhibit JSM/1."
    ),
    "exhibits": [
        {
            "exhibit_ref": "JSM/1",
            "exhibit_type": "photo",
            "exhibit_description": "Photograph of the smashed glass panel in the front door of 14 Mill Lane",
            "exhibit_photos": [attachment("front-door.jpg")],
        }
    ],
    "declaration_confirmed": True,
    "witness_signature": attachment("witness-signature.png", "image/png", 18_204),
    "witness_signed_at": "2024-06-12T14:02:00+01:00",
    "officer_signature": attachment("officer-signature.png", "image/png", 16_990),
    "vps_offered": True,
    "vps_taken": True,
    "vps_read_aloud": "prosecutor",
    "witness_address": {"wa_line1": "14 Mill Lane", "wa_town": "Marlbury", "wa_postcode": "sn8 1qt"},
    "witness_mobile": "07700 900123",
    "witness_email": "rob.hale@example.com",
    "preferred_contact": "mobile",
    "witness_gender": "male",
    "witness_ethnicity": "W1",
    "any_dates_to_avoid": True,
    "dates_to_avoid": [
        {"avoid_from": "2024-08-03", "avoid_to": "2024-08-17", "avoid_reason": "Booked holiday"}
    ],
    "willing_to_attend": True,
    "special_measures_needed": False,
    "particular_needs": False,
    "consent_vps_explained": True,
    "consent_vps_leaflet": True,
    "consent_witness_leaflet": True,
    "consent_medical_access": False,
    "consent_other_proceedings": True,
    "consent_signature": attachment("consent-signature.png", "image/png", 17_522),
}

CRIME_REPORT: dict[str, Any] = {
    "how_reported": "emergency_call",
    "cad_reference": "1187-110624",
    "officer_name": "Jane Sarah Morgan",
    "officer_collar": "4471",
    "officer_unit": "Response Team 3, Marlbury",
    "offence_from": "2024-06-11T23:05:00+01:00",
    "offence_to": "2024-06-11T23:10:00+01:00",
    "offence_group": "criminal_damage",
    "offence": "damage_dwelling",
    "circumstances": (
        "Victim heard a bang at 23:05 and found the glass panel of his front door smashed. He saw "
        "a man run towards Station Road. No entry was gained. Nothing was taken."
    ),
    "method": "Glass panel struck with a blunt object",
    "weapon_used": False,
    "domestic_abuse": False,
    "hate_crime": False,
    "location_type": "home",
    "crime_address": {
        "loc_building": "14",
        "loc_street": "Mill Lane",
        "loc_town": "Marlbury",
        "loc_postcode": "SN8 1QT",
    },
    "location_point": {"lat": 51.4213, "lon": -1.7301, "accuracy": 8},
    "victim_type": "person",
    "victim_forenames": "Robert James",
    "victim_surname": "Hale",
    "victim_dob": "1979-02-14",
    "victim_gender": "male",
    "victim_ethnicity": "W1",
    "victim_address": {"va_line1": "14 Mill Lane", "va_town": "Marlbury", "va_postcode": "SN8 1QT"},
    "victim_phone": "07700 900123",
    "victim_email": "Rob.Hale@example.com ",
    "victim_contact_by": "email",
    "safe_to_contact": True,
    "relationship_to_suspect": "stranger",
    "vulnerability_factors": [],
    "victim_support_referral": True,
    "vps_offered": True,
    "written_confirmation": "email",
    "any_suspects": True,
    "suspects": [
        {
            "suspect_named": False,
            "suspect_sex": "male",
            "suspect_age_from": 20,
            "suspect_age_to": 30,
            "suspect_height_cm": 178,
            "suspect_build": "slim",
            "suspect_appearance": "ic1",
            "suspect_description": "Grey hooded top with the hood up, dark tracksuit bottoms, white trainers",
            "suspect_direction": "Towards Station Road on foot",
            "suspect_status": "outstanding",
        }
    ],
    "property_involved": True,
    "property_items": [
        {
            "prop_category": "building",
            "prop_description": "Glass panel in front door",
            "prop_value": "180.00",
            "prop_status": "damaged",
        },
        {
            "prop_category": "other",
            "prop_description": "Ceramic plant pot thrown at the door",
            "prop_value": "24.99",
            "prop_status": "damaged",
        },
    ],
    "cctv_available": True,
    "cctv_details": "Doorbell camera at 12 Mill Lane (Mrs Ahmed) faces the victim's front door",
    "bwv_reference": "BWV00412378",
    "forensic_opportunities": ["fingerprints"],
    "csi_requested": True,
    "witnesses": [
        {"witness_name": "Farah Ahmed", "witness_phone": "07700 900456", "witness_statement_taken": False}
    ],
    "immediate_actions": "Area search with dog unit, negative. House-to-house on Mill Lane.",
    "recording_decision": "crime",
    "outcome_at_scene": "allocate",
    "victim_told_reference": True,
}

CHILD_CONCERN: dict[str, Any] = {
    "concern_at": "2024-06-12T01:40:00+01:00",
    "came_to_notice": "domestic_incident",
    "incident_reference": "0093-120624",
    "concern_address": {"ca_line1": "3 Kennet Close", "ca_town": "Marlbury", "ca_postcode": "SN8 2LB"},
    "officer_name": "David Okafor",
    "officer_collar": "2209",
    "officer_team": "Response Team 1, Marlbury",
    "officer_phone": "01632 960555",
    "agencies_present": ["ambulance"],
    "children": [
        {
            "child_unborn": False,
            "child_family_name": "Pearce",
            "child_given_names": "Mia",
            "child_dob": "2016-09-30",
            "child_gender": "female",
            "child_ethnicity": "W1",
            "child_language": "English",
            "child_school": "Marlbury St Mary's Primary School",
            "child_location": "With her grandmother, 8 Orchard Way, Marlbury",
            "child_condition": "Tearful and shaking but no visible injuries. Dressed in pyjamas.",
            "child_seen": True,
            "voice_of_child": '"Daddy was shouting and he threw the lamp at Mummy. I hid under the bed."',
        },
        {
            "child_unborn": False,
            "child_family_name": "Pearce",
            "child_given_names": "Leo",
            "child_dob": "2023-03-04",
            "child_location": "With his grandmother, 8 Orchard Way, Marlbury",
            "child_condition": "Asleep in his cot when officers arrived. Nappy heavily soiled.",
            "child_seen": True,
            "voice_of_child": "Too young to speak. Settled quickly when his grandmother picked him up.",
        },
    ],
    "concern_types": ["domestic_abuse", "neglect"],
    "concern_narrative": (
        "Officers attended a report of a disturbance. The mother, Kelly Pearce, had a cut to her "
        "forehead and said her partner Dean Pearce had thrown a lamp at her. Mia told me she saw "
        "this. Dean Pearce was arrested for assault. The mother says this has happened before."
    ),
    "home_visited": True,
    "home_conditions": "Broken glass on the living room floor. Little food in the kitchen. Cot dirty.",
    "strengths": "Maternal grandmother lives nearby and collected the children.",
    "previous_concerns": False,
    "injuries_seen": False,
    "household": [
        {
            "member_name": "Kelly Pearce",
            "member_dob": "1994-05-21",
            "member_relationship": "mother",
            "member_lives_with_child": True,
            "member_parental_responsibility": True,
            "member_poses_risk": False,
        },
        {
            "member_name": "Dean Pearce",
            "member_dob": "1990-11-02",
            "member_relationship": "father",
            "member_lives_with_child": True,
            "member_parental_responsibility": True,
            "member_poses_risk": True,
            "member_risk_details": "Arrested tonight for assaulting the mother in front of Mia.",
        },
    ],
    "household_complete": True,
    "immediate_risk": True,
    "action_taken": "Both children taken to their grandmother's address at 02:15 under police protection.",
    "supervisor_informed": True,
    "duty_inspector_informed": True,
    "risk_grading": "high",
    "risk_rationale": "Serious violence witnessed by a 7 year old; father likely to return on release.",
    "pp_used": True,
    "pp_started_at": "2024-06-12T02:15:00+01:00",
    "pp_children": "Mia and Leo",
    "place_of_safety": "8 Orchard Way, Marlbury (maternal grandmother)",
    "designated_officer": "Inspector Claire Whitfield",
    "la_informed": True,
    "la_informed_at": "2024-06-12T03:00:00+01:00",
    "parents_informed": True,
    "consent_status": "overridden",
    "consent_override_reason": "Asking the father for consent would alert him and put the children at risk.",
}

SUPERVISOR_REVIEW: dict[str, Any] = {
    "reviewer_name": "Sergeant Amy Lewis",
    "reviewer_collar": "1580",
    "reviewed_at": "2024-06-12T08:05:00+01:00",
    "grade": "agree",
    "decision": "refer",
    "further_actions": ["strategy_discussion", "checks"],
    "further_actions_details": "Strategy discussion requested with children's social care for 10:00.",
    "review_due_by": "2024-06-19",
}

INVESTIGATION_UPDATE: dict[str, Any] = {
    "crime_reference": "WV/012345/24",
    "officer_name": "DC Tom Rees",
    "officer_collar": "31 72",
    "update_type": "cctv",
    "update_title": "Doorbell footage from 12 Mill Lane viewed – suspect seen",
    "update_date": "2024-06-11",
    "start_time": "23:15",
    "end_time": "01:45",
    "information": (
        "Viewed doorbell footage with Mrs Ahmed. At 23:04 a man in a grey hooded top throws an "
        "object at the door of number 14, then runs towards Station Road. Face partly visible."
    ),
    "photos": [attachment("cctv-still-2304.jpg")],
    "documents": [attachment("cctv-continuity.pdf", "application/pdf", 220_400)],
    "statement_taken": True,
    "statement_link": "MG11-7F3K2Q",
    "next_action": "Circulate the still on the daily briefing. Ask the neighbourhood team to identify.",
    "next_review_date": "2024-07-10",
    "supervisor_attention": False,
}

VALID = {
    "witness_statement": WITNESS_STATEMENT,
    "crime_report": CRIME_REPORT,
    "child_concern": CHILD_CONCERN,
    "supervisor_review": SUPERVISOR_REVIEW,
    "investigation_update": INVESTIGATION_UPDATE,
}


def changed(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with top-level answers replaced (``None`` removes one)."""
    answers = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


# --- Loading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", sorted(DEPARTMENTS))
def test_department_files_load_with_officer_and_supervisor_roles(folder: str) -> None:
    """Each department.yaml loads; its id is the folder name with _ and it has both core roles."""
    path = FORCE / folder / "department.yaml"
    department = load_department(path.read_text(encoding="utf-8"), str(path))
    assert department.id == DEPARTMENTS[folder][0]
    assert {"officer", "supervisor"} <= set(department.roles)


@pytest.mark.parametrize(("folder", "form_id"), ALL_FORMS)
def test_demo_form_loads_with_its_id_and_version(folder: str, form_id: str) -> None:
    """Every demo form loads without a diagnostic; its id matches its file name, version "1.0"."""
    form = demo_form(form_id)
    assert form.id == form_id
    assert form.version == "1.0"
    assert len(form.content_hash) == 64


def test_every_form_file_in_the_force_is_covered() -> None:
    """No form file is left out of these tests (a new demo form must be added above)."""
    on_disk = {(p.parts[-3], p.stem) for p in FORCE.glob("*/forms/*.yaml")}
    assert on_disk == set(ALL_FORMS)


def test_departments_hold_the_lists_their_forms_use() -> None:
    """Each department has its own copy of the lists its forms name (no reaching across)."""
    assert {"offences", "offence_groups", "ethnicity_codes", "relationships", "gender"} <= set(
        department_lists("response")
    )
    assert {"concern_categories", "ethnicity_codes", "relationships", "gender"} <= set(
        department_lists("public-protection")
    )
    assert {"offences", "offence_groups"} <= set(department_lists("investigations"))
    ethnicity = department_lists("response")["ethnicity_codes"]
    assert len(ethnicity.choices) == 17  # the 16+1 self-defined codes, "Not stated" included
    offences = department_lists("response")["offences"]
    groups = {c.value for c in department_lists("response")["offence_groups"].choices}
    assert len(offences.choices) >= 40
    assert {c.data["group"] for c in offences.choices} == groups


# --- Coverage of the format ----------------------------------------------------------------------


def all_items() -> Iterator[Item]:
    """Every item of every demo form, nested ones included."""
    for _, form_id in ALL_FORMS:
        yield from demo_form(form_id).items()


def walk(items: tuple[Item, ...]) -> Iterator[Item]:
    """``items`` and everything inside their groups and repeats."""
    for item in items:
        yield item
        if not isinstance(item, Field):
            yield from walk(item.fields)


def test_the_demo_forms_use_every_field_type() -> None:
    """Walking the loaded models finds every field type in docs/forms.md at least once."""
    used = {item.type for item in all_items()}
    assert used == set(FieldType)


def test_the_demo_forms_use_at_least_25_library_functions() -> None:
    """The expressions and templates of the demo forms call at least 25 different functions."""
    names = set(default_library().names())
    called: set[str] = set()
    keys = {
        "relevant",
        "required",
        "constraint",
        "value",
        "default_expr",
        "choice_filter",
        "when",
        "item_label",
    }

    def scan(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and isinstance(value, str):
                    called.update(re.findall(r"([a-z_]+)\(", value))
                else:
                    scan(value)
        elif isinstance(node, list):
            for value in node:
                scan(value)

    for path in FORCE.glob("*/forms/*.yaml"):
        scan(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert len(called & names) >= 25, sorted(called & names)
    assert called <= names, sorted(called - names)


def test_the_witness_consent_page_is_fully_in_welsh_and_english() -> None:
    """Every text on the MG11 consent page (title, labels, hints, yes/no labels) has Welsh."""
    page = next(p for p in demo_form("witness_statement").pages if p.id == "consent")
    texts: list[Text | None] = [page.title]
    for item in walk(page.fields):
        texts.append(item.label)
        if isinstance(item, Field):
            texts.extend(t for t in (item.hint, item.yes_label, item.no_label) if t is not None)
    assert texts
    assert all(t is not None and t.cy for t in texts)
    assert page.title is not None
    assert page.title.get("cy") == "Caniatâd y tyst"


def test_the_format_features_are_all_exercised() -> None:
    """Between them the forms use hints, warnings, read_only, default, default_expr, required
    as an expression, page- and field-level relevance and item_label templates."""
    fields = [i for i in all_items() if isinstance(i, Field)]
    repeats = [i for i in all_items() if isinstance(i, Repeat)]
    pages = [p for _, fid in ALL_FORMS for p in demo_form(fid).pages]
    assert any(f.hint for f in fields)
    assert any(f.warning for f in fields)
    assert any(f.read_only for f in fields)
    assert any(f.default is not None for f in fields)
    assert any(f.default_expr for f in fields)
    assert any(f.required_expr for f in fields)
    assert any(f.relevant for f in fields)
    assert any(p.relevant for p in pages)
    assert repeats
    assert all(r.item_label for r in repeats)
    assert any(isinstance(i, Group) and i.relevant for i in all_items())


# --- Realistic submissions validate --------------------------------------------------------------


@pytest.mark.parametrize("form_id", sorted(VALID))
def test_a_realistic_submission_validates_without_errors_or_warnings(form_id: str) -> None:
    """A complete, realistic submission for each form has no errors and raises no warnings."""
    result = check(form_id, VALID[form_id])
    assert result.errors == (), result.errors
    assert result.ok


def test_witness_statement_calculations_and_normalising() -> None:
    """The MG11 works out the witness's name, age and dates, and tidies the postcode."""
    answers = check("witness_statement", WITNESS_STATEMENT).answers
    assert answers["officer_initials"] == "JSM"
    assert answers["witness_full_name"] == "Robert James HALE"
    assert answers["witness_age"] == 45
    assert answers["under_18"] is False
    assert answers["exhibit_count"] == 1
    assert answers["statement_date"] == "12/06/2024"
    assert answers["next_unavailable_from"] == dt.date(2024, 8, 3)
    assert answers["witness_address"]["wa_postcode"] == "SN8 1QT"
    assert answers["has_contact_number"] is True
    assert "appropriate_adult" not in answers  # adults need no parent or appropriate adult


def test_crime_report_totals_the_property_and_filters_offences_by_group() -> None:
    """The property total is the sum of the item values, and an offence from another group is
    rejected by the cascading choice filter."""
    result = check("crime_report", CRIME_REPORT)
    assert result.answers["property_total"] == pytest.approx(204.99)
    assert result.answers["highest_value_item"] == pytest.approx(180.0)
    assert result.answers["victim_age"] == 45
    assert result.answers["victim_email_normalised"] == "rob.hale@example.com"
    assert result.answers["cctv_retention_deadline"] == dt.date(2024, 7, 9)
    assert result.answers["suspect_count"] == 1
    wrong_group = check("crime_report", changed(CRIME_REPORT, offence="shoplifting"))
    assert errors_at(wrong_group, "offence") == [("choice", True)]


def test_child_concern_works_out_ages_and_police_protection_expiry() -> None:
    """Each child's age comes from their date of birth; police protection ends 72 hours on."""
    answers = check("child_concern", CHILD_CONCERN).answers
    assert [c["child_age"] for c in answers["children"]] == [7, 1]
    assert answers["youngest_age"] == 1
    assert answers["under_five_present"] is True
    assert answers["pp_expires_at"] == dt.datetime(2024, 6, 15, 2, 15, tzinfo=LONDON)
    assert answers["household_risk_count"] == 1
    assert answers["concern_type_count"] == 2


def test_investigation_update_counts_time_across_midnight() -> None:
    """Time spent is worked out from the start and finish times, even past midnight."""
    answers = check("investigation_update", INVESTIGATION_UPDATE).answers
    assert answers["minutes_spent"] == 150
    assert answers["hours_spent"] == 2.5
    assert answers["claimable_minutes"] == 150
    assert answers["officer_collar_clean"] == "3172"
    assert answers["crime_reference_year"] == 2024


# --- Realistic mistakes ------------------------------------------------------------------------


def test_missing_witness_name_is_a_required_error() -> None:
    """An MG11 without the witness's last name is refused at that field (r.16.2(a))."""
    result = check("witness_statement", changed(WITNESS_STATEMENT, witness_surname=None))
    assert errors_at(result, "witness_surname") == [("required", True)]
    assert not result.ok


def test_the_declaration_must_be_confirmed() -> None:
    """Answering "no" to the s.9 declaration blocks the statement with the form's message."""
    result = check("witness_statement", changed(WITNESS_STATEMENT, declaration_confirmed=False))
    [error] = [e for e in result.errors if e.path == ("declaration_confirmed",)]
    assert error.code == "constraint"
    assert "must confirm the declaration" in error.message


def test_dates_to_avoid_need_either_dates_or_an_explicit_none() -> None:
    """Neither dates nor "none" is an error on the question; "yes" with no dates is an error on
    the list; "no, there are none" needs no dates."""
    neither = check(
        "witness_statement", changed(WITNESS_STATEMENT, any_dates_to_avoid=None, dates_to_avoid=None)
    )
    assert errors_at(neither, "any_dates_to_avoid") == [("required", True)]
    assert neither.errors[0].message == "Select whether there are any dates the witness cannot go to court"
    yes_but_empty = check("witness_statement", changed(WITNESS_STATEMENT, dates_to_avoid=[]))
    assert [code for code, _ in errors_at(yes_but_empty, "dates_to_avoid")] == ["min_items"]
    none = check(
        "witness_statement", changed(WITNESS_STATEMENT, any_dates_to_avoid=False, dates_to_avoid=None)
    )
    assert none.errors == ()


def test_a_last_date_before_the_first_is_refused_in_that_item() -> None:
    """The dates to avoid must run forwards; the error points at the item and field."""
    dates = [{"avoid_from": "2024-08-17", "avoid_to": "2024-08-03"}]
    result = check("witness_statement", changed(WITNESS_STATEMENT, dates_to_avoid=dates))
    assert errors_at(result, "dates_to_avoid", 0, "avoid_to") == [("constraint", True)]


def test_an_under_18_witness_needs_an_appropriate_adult() -> None:
    """A 15-year-old witness must have a parent or appropriate adult sign, and the consent page
    asks about reporting restrictions."""
    result = check("witness_statement", changed(WITNESS_STATEMENT, witness_dob="2009-01-20"))
    assert result.answers["under_18"] is True
    assert errors_at(result, "appropriate_adult", "adult_name") == [("required", True)]
    assert errors_at(result, "reporting_restrictions_explained") == [("required", True)]


def test_an_exhibit_reference_without_the_officers_initials_is_only_a_warning() -> None:
    """An exhibit not starting with the officer's initials warns but does not block."""
    exhibits = copy.deepcopy(WITNESS_STATEMENT["exhibits"])
    exhibits[0]["exhibit_ref"] = "RJH/1"
    result = check("witness_statement", changed(WITNESS_STATEMENT, exhibits=exhibits))
    assert errors_at(result, "exhibits", 0, "exhibit_ref") == [("warning", False)]
    assert result.ok


def test_a_badly_formed_exhibit_reference_is_refused() -> None:
    """An exhibit reference must be initials, a slash and a number, like JSM/1."""
    exhibits = copy.deepcopy(WITNESS_STATEMENT["exhibits"])
    exhibits[0]["exhibit_ref"] = "exhibit 1"
    result = check("witness_statement", changed(WITNESS_STATEMENT, exhibits=exhibits))
    assert [c for c, blocking in errors_at(result, "exhibits", 0, "exhibit_ref") if blocking] == ["pattern"]


def test_a_future_child_date_of_birth_is_refused() -> None:
    """A child's date of birth in the future is refused at that child's field."""
    children = copy.deepcopy(CHILD_CONCERN["children"])
    children[1]["child_dob"] = "2025-01-01"
    result = check("child_concern", changed(CHILD_CONCERN, children=children))
    [error] = [e for e in result.errors if e.path == ("children", 1, "child_dob")]
    assert (error.code, error.message) == ("constraint", "Date of birth must be today or in the past")


def test_immediate_risk_without_action_taken_is_refused() -> None:
    """When a child is at immediate risk, the officer must say what action they took."""
    result = check("child_concern", changed(CHILD_CONCERN, action_taken=None))
    assert errors_at(result, "action_taken") == [("required", True)]
    [error] = [e for e in result.errors if e.path == ("action_taken",)]
    assert error.message == "Enter the action you have taken to keep the child safe"
    no_risk = changed(CHILD_CONCERN, immediate_risk=False, action_taken=None, risk_grading="medium")
    assert errors_at(check("child_concern", no_risk), "action_taken") == []


def test_police_protection_answers_are_dropped_when_there_is_no_immediate_risk() -> None:
    """The s.46 page is only relevant for immediate risk; otherwise its answers are not kept."""
    answers = changed(CHILD_CONCERN, immediate_risk=False, risk_grading="medium")
    result = check("child_concern", answers)
    assert result.errors == ()
    assert "pp_started_at" not in result.answers
    assert "pp_expires_at" not in result.answers
    assert "supervisor_informed" not in result.answers


def test_immediate_risk_graded_below_high_warns() -> None:
    """Grading an immediate risk as medium is allowed but the officer is warned."""
    result = check("child_concern", changed(CHILD_CONCERN, risk_grading="medium"))
    assert errors_at(result, "risk_grading") == [("warning", False)]
    assert result.ok


def test_overriding_consent_needs_a_reason() -> None:
    """Sharing without consent needs a recorded reason."""
    result = check("child_concern", changed(CHILD_CONCERN, consent_override_reason=None))
    assert errors_at(result, "consent_override_reason") == [("required", True)]


def test_changing_the_grade_needs_a_rationale() -> None:
    """A supervisor who raises or lowers the grading must choose the new grade and say why."""
    result = check("supervisor_review", changed(SUPERVISOR_REVIEW, grade="raise"))
    assert errors_at(result, "grade_rationale") == [("required", True)]
    assert errors_at(result, "revised_grade") == [("required", True)]
    fixed = changed(
        SUPERVISOR_REVIEW,
        grade="raise",
        revised_grade="high",
        grade_rationale="Previous PPNs for the family show an escalating pattern.",
    )
    assert check("supervisor_review", fixed).errors == ()


def test_an_offence_in_the_future_is_refused_and_an_old_one_warns() -> None:
    """The offence time must not be in the future; more than a year ago only warns."""
    future = check(
        "crime_report", changed(CRIME_REPORT, offence_from="2024-06-13T09:00:00+01:00", offence_to=None)
    )
    assert errors_at(future, "offence_from") == [("constraint", True)]
    old = check(
        "crime_report", changed(CRIME_REPORT, offence_from="2023-01-05T20:00:00+00:00", offence_to=None)
    )
    assert errors_at(old, "offence_from") == [("warning", False)]
    assert old.ok


def test_an_unnamed_suspect_needs_a_description() -> None:
    """A suspect whose name is not known must be described; a named one need not be."""
    suspects = copy.deepcopy(CRIME_REPORT["suspects"])
    del suspects[0]["suspect_description"]
    result = check("crime_report", changed(CRIME_REPORT, suspects=suspects))
    [error] = result.errors
    assert (error.path, error.code) == (("suspects", 0, "suspect_description"), "required")
    assert error.message == "Enter a description of the suspect"
    suspects[0].update(suspect_named=True, suspect_name="Kyle Brent")
    assert check("crime_report", changed(CRIME_REPORT, suspects=suspects)).errors == ()


def test_burglary_asks_for_the_point_of_entry() -> None:
    """Only a burglary asks how the offender got in; another offence drops that answer."""
    burglary = changed(CRIME_REPORT, offence_group="burglary", offence="burglary_residential_dwelling")
    assert errors_at(check("crime_report", burglary), "point_of_entry") == [("required", True)]
    damage = check("crime_report", changed(CRIME_REPORT, point_of_entry="window"))
    assert damage.errors == ()
    assert "point_of_entry" not in damage.answers


def test_email_contact_needs_an_email_address() -> None:
    """A victim who wants updates by email must give an email address."""
    result = check("crime_report", changed(CRIME_REPORT, victim_email=None))
    assert errors_at(result, "victim_email") == [("required", True)]


def test_a_malformed_crime_reference_is_refused() -> None:
    """The crime reference must look like WV/012345/24, and its year cannot be in the future."""
    bad = check("investigation_update", changed(INVESTIGATION_UPDATE, crime_reference="12345/24"))
    assert [c for c, _ in errors_at(bad, "crime_reference")] == ["pattern"]
    future = check("investigation_update", changed(INVESTIGATION_UPDATE, crime_reference="WV/012345/27"))
    assert errors_at(future, "crime_reference") == [("constraint", True)]


def test_documents_of_the_wrong_type_are_refused() -> None:
    """Only PDF, Word documents and images may be attached as documents."""
    documents = [attachment("notes.exe", "application/x-msdownload", 1000)]
    result = check("investigation_update", changed(INVESTIGATION_UPDATE, documents=documents))
    assert [(e.path, e.code) for e in result.errors] == [(("documents",), "file_type")]
