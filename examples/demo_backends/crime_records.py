"""A demo crime records system: the back-end of the ``crime_records`` connection.

It answers exactly what the demo force's workflows call (examples/demo-force/*/workflows):

=========================================================  ====================================
``POST /crimes``                                             record a crime: ``crime_reference``
                                                             (``WV/004600/26``), ``offence_title``
``GET /crimes/{reference}``                                  look a crime up (404 when unknown)
``POST /crimes/{reference}/updates``                         ``update_id``, ``officer_in_case``
``POST /crimes/{reference}/documents``                       ``document_id``, ``officer_in_case``
``POST /crimes/{reference}/reclassification-requests``       ``request_id``
``POST /incidents``                                          ``incident_reference``
``POST /documents``                                          a document to link: ``document_id``
``GET /`` (no token)                                         a page listing what was recorded
``GET|POST /_control`` (no token)                            fail or slow down the next calls
=========================================================  ====================================

A crime reference holds slashes; the workflows send it percent-encoded as one path segment, which
the server decodes, so the routes take the reference as a ``path`` and the suffix after it.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from examples.demo_backends._pages import render
from examples.demo_backends._service import ApiError, JsonObject, Service

__all__ = ["OFFICERS_IN_CASE", "CrimeRecords", "crime_records_app"]

OFFENCES_CSV = Path(__file__).resolve().parents[1] / "demo-force" / "response" / "lists" / "offences.csv"
#: Detectives the records system allocates new crimes to, in turn.
OFFICERS_IN_CASE: tuple[JsonObject, ...] = (
    {"name": "DC Jo Reed", "collar": "2291", "email": "jo.reed@wessexvale.example"},
    {"name": "DC Priya Shah", "collar": "3107", "email": "priya.shah@wessexvale.example"},
    {"name": "DS Tom Evans", "collar": "1854", "email": "tom.evans@wessexvale.example"},
)
#: Crimes on the system before the demo starts, so that an investigation update has one to find.
_SEEDED = (
    ("burglary_residential_dwelling", "Sam Patel", "Alex Morgan"),
    ("criminal_damage_vehicle", "Chris Lloyd", "Dana Price"),
)


def _offence_titles() -> dict[str, str]:
    """Offence code -> Home Office title, from the demo force's own list (empty if missing)."""
    try:
        with OFFENCES_CSV.open(encoding="utf-8", newline="") as handle:
            return {row["value"]: row["label"] for row in csv.DictReader(handle)}
    except (OSError, KeyError):
        return {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(body: JsonObject, key: str) -> JsonObject:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


class CrimeRecords(Service):
    """The crime records system's state and its answers (see the module docstring)."""

    def __init__(self, token: str, state_file: Path | None = None) -> None:
        self.titles = _offence_titles()
        super().__init__("crime records", token, state_file)

    def initial_state(self) -> JsonObject:
        """A fresh system: a few crimes already recorded, numbering carrying on after them."""
        state: JsonObject = {
            "next": {"crime": 4600, "incident": 1, "document": 1, "update": 1, "request": 1},
            "crimes": {},
            "incidents": [],
            "documents": [],
        }
        self.state = state
        for code, officer, victim in _SEEDED:
            forenames, surname = victim.split(" ", 1)
            self._record_crime(
                {
                    "offence": {"code": code},
                    "reporting_officer": {"name": officer},
                    "victim": {"forenames": forenames, "surname": surname},
                    "provisional_reference": None,
                },
                number=101 + len(state["crimes"]),
            )
        return state

    # --- Effects (called under the lock by Service.call) ------------------------------------

    def _number(self, kind: str) -> int:
        value = int(self.state["next"][kind])
        self.state["next"][kind] = value + 1
        return value

    def _record_crime(self, body: JsonObject, number: int | None = None) -> JsonObject:
        offence, victim, officer = (_object(body, key) for key in ("offence", "victim", "reporting_officer"))
        code = _text(offence.get("code"))
        number = self._number("crime") if number is None else number
        reference = f"WV/{number:06d}/{datetime.now(UTC).year % 100:02d}"
        crime: JsonObject = {
            "crime_reference": reference,
            "offence_code": code,
            "offence_title": self.titles.get(code) or code.replace("_", " ").capitalize() or "Not classified",
            "recorded_at": _now(),
            "provisional_reference": body.get("provisional_reference"),
            "victim": " ".join(_text(victim.get(k)) for k in ("forenames", "surname")).strip()
            or _text(victim.get("organisation")),
            "reporting_officer": _text(officer.get("name")),
            "officer_in_case": OFFICERS_IN_CASE[len(self.state["crimes"]) % len(OFFICERS_IN_CASE)],
            "updates": [],
            "documents": [],
            "reclassification_requests": [],
            "report": body,
        }
        self.state["crimes"][reference] = crime
        return crime

    def create_crime(self, body: JsonObject | None) -> tuple[int, JsonObject]:
        """``POST /crimes``: record the crime and issue its reference."""
        crime = self._record_crime(body or {})
        return 201, _summary(crime)

    def find(self, reference: str) -> JsonObject:
        """The crime with ``reference``; 404 when the system has none."""
        crime = self.state["crimes"].get(reference)
        if crime is None:
            raise ApiError(404, "not_found", f"there is no crime with the reference {reference}")
        return dict(crime)

    def look_up(self, reference: str) -> tuple[int, JsonObject]:
        """``GET /crimes/{reference}``: the crime's summary (404 when unknown)."""
        crime = self.find(reference)
        return 200, {**_summary(crime), "victim": crime["victim"]}

    def add_to_crime(self, reference: str, kind: str, body: JsonObject) -> tuple[int, JsonObject]:
        """Add an update, a document or a reclassification request to a crime."""
        crime = self.state["crimes"].get(reference)
        if crime is None:
            raise ApiError(404, "not_found", f"there is no crime with the reference {reference}")
        number = self._number({"updates": "update", "documents": "document"}.get(kind, "request"))
        if kind == "updates":
            reply: JsonObject = {"update_id": f"UPD-{number:05d}"}
        elif kind == "documents":
            reply = {"document_id": f"DOC-{number:05d}"}
        else:
            reply = {"request_id": f"RCL-{number:05d}"}
        crime[kind].append({**reply, "received_at": _now(), "body": body})
        return 201, {**reply, "crime_reference": reference, "officer_in_case": crime["officer_in_case"]}

    def create_incident(self, body: JsonObject | None) -> tuple[int, JsonObject]:
        """``POST /incidents``: an auditable record of a report not recorded as a crime."""
        number = self._number("incident")
        reference = f"WV-INC/{number:06d}/{datetime.now(UTC).year % 100:02d}"
        self.state["incidents"].append({"incident_reference": reference, "received_at": _now(), "body": body})
        return 201, {"incident_reference": reference}

    def file_document(self, body: JsonObject | None) -> tuple[int, JsonObject]:
        """``POST /documents``: a document with no crime yet, for the Crime Management Unit."""
        document_id = f"DOC-{self._number('document'):05d}"
        self.state["documents"].append({"document_id": document_id, "received_at": _now(), "body": body})
        return 201, {"document_id": document_id}


def _summary(crime: JsonObject) -> JsonObject:
    keys = (
        "crime_reference",
        "offence_code",
        "offence_title",
        "recorded_at",
        "provisional_reference",
        "officer_in_case",
    )
    return {key: crime[key] for key in keys}


def crime_records_app(records: CrimeRecords, address: str = "") -> Starlette:
    """The Starlette app serving ``records``; ``address`` is only shown on its page."""

    async def create_crime(request: Request) -> Response:
        return await records.call(request, records.create_crime)

    async def crime(request: Request) -> Response:
        reference = request.path_params["reference"]
        return await records.call(request, lambda _body: records.look_up(reference))

    def adder(kind: str) -> Any:
        async def add(request: Request) -> Response:
            reference = request.path_params["reference"]
            return await records.call(request, lambda body: records.add_to_crime(reference, kind, body or {}))

        return add

    async def incidents(request: Request) -> Response:
        return await records.call(request, records.create_incident)

    async def documents(request: Request) -> Response:
        return await records.call(request, records.file_document)

    async def page(request: Request) -> Response:
        with records.lock:
            crimes = [dict(c) for c in reversed(records.state["crimes"].values())]
            incidents_ = list(reversed(records.state["incidents"]))
            documents_ = list(reversed(records.state["documents"]))
            control = records.control_state()
        return render(
            _PAGE,
            title="Crime records system",
            address=address,
            crimes=crimes,
            incidents=incidents_,
            documents=documents_,
            state=control,
        )

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/_control", records.control_endpoint, methods=["GET", "POST"]),
            Route("/crimes", create_crime, methods=["POST"]),
            Route("/crimes/{reference:path}/updates", adder("updates"), methods=["POST"]),
            Route("/crimes/{reference:path}/documents", adder("documents"), methods=["POST"]),
            Route(
                "/crimes/{reference:path}/reclassification-requests",
                adder("reclassification_requests"),
                methods=["POST"],
            ),
            Route("/crimes/{reference:path}", crime, methods=["GET"]),
            Route("/incidents", incidents, methods=["POST"]),
            Route("/documents", documents, methods=["POST"]),
        ]
    )


_PAGE = """\
{% extends "layout.html" %}
{% from "control.html" import control %}
{% block content %}
<h2>Crimes ({{ crimes|length }})</h2>
<table>
<thead><tr><th>Reference</th><th>Offence</th><th>Victim</th><th>Reported by</th>
<th>Officer in the case</th><th>Recorded</th><th>Added since</th></tr></thead>
<tbody>
{% for crime in crimes %}
<tr><td>{{ crime.crime_reference }}</td><td>{{ crime.offence_title }}</td><td>{{ crime.victim }}</td>
<td>{{ crime.reporting_officer }}
{% if crime.provisional_reference %} ({{ crime.provisional_reference }}){% endif %}</td>
<td>{{ crime.officer_in_case.name }}</td><td>{{ crime.recorded_at }}</td>
<td>{{ crime.updates|length }} update(s), {{ crime.documents|length }} document(s),
{{ crime.reclassification_requests|length }} reclassification request(s)</td></tr>
{% endfor %}
</tbody>
</table>
<h2>Incidents not recorded as crimes ({{ incidents|length }})</h2>
<ul>{% for incident in incidents %}<li>{{ incident.incident_reference }} ({{ incident.received_at }})</li>
{% else %}<li>None yet.</li>{% endfor %}</ul>
<h2>Documents waiting to be linked to a crime ({{ documents|length }})</h2>
<ul>{% for document in documents %}<li>{{ document.document_id }} ({{ document.received_at }})</li>
{% else %}<li>None yet.</li>{% endfor %}</ul>
{{ control(state) }}
{% endblock %}
"""
