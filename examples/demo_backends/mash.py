"""A demo Multi-Agency Safeguarding Hub (MASH): the back-end of the ``mash`` connection.

``POST /referrals`` takes a child protection referral and answers its hub ``reference``
(``MASH-26-00042``); ``GET /referrals/{reference}`` answers the referral with the local
authority's ``decision`` (null until one is recorded: the page has a button for it, so that the
workflow's next-day check can find one). ``GET /`` lists the referrals; ``/_control`` makes the
next calls fail or answer late, as on the crime records system.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from examples.demo_backends._pages import render
from examples.demo_backends._service import ApiError, JsonObject, Service, error

__all__ = ["DECISIONS", "Mash", "mash_app"]

#: What children's social care may decide about a referral (Working Together 2023).
DECISIONS = ("strategy_discussion", "child_and_family_assessment", "early_help", "no_further_action")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Mash(Service):
    """The hub's referrals and its answers (see the module docstring)."""

    def __init__(self, token: str, state_file: Path | None = None) -> None:
        super().__init__("safeguarding hub", token, state_file)

    def initial_state(self) -> JsonObject:
        """No referrals yet; numbering starts at 1 each year."""
        return {"next": 1, "referrals": {}}

    def refer(self, body: JsonObject | None) -> tuple[int, JsonObject]:
        """``POST /referrals``: receive a referral and answer its hub reference."""
        body = body or {}
        number = int(self.state["next"])
        self.state["next"] = number + 1
        reference = f"MASH-{datetime.now(UTC).year % 100:02d}-{number:05d}"
        referral = {
            "reference": reference,
            "received_at": _now(),
            "referrer_reference": body.get("referrer_reference"),
            "priority": body.get("priority"),
            "risk_grade": body.get("risk_grade"),
            "decision": None,
            "referral": body,
        }
        self.state["referrals"][reference] = referral
        return 201, _summary(referral)

    def look_up(self, reference: str) -> tuple[int, JsonObject]:
        """``GET /referrals/{reference}``: the referral and any decision (404 when unknown)."""
        referral = self.state["referrals"].get(reference)
        if referral is None:
            raise ApiError(404, "not_found", f"there is no referral with the reference {reference}")
        return 200, _summary(referral)

    def decide(self, reference: str, decision: str) -> bool:
        """Record the local authority's ``decision`` on a referral; False if there is no such one."""
        with self.lock:
            referral = self.state["referrals"].get(reference)
            if referral is None or decision not in DECISIONS:
                return False
            referral["decision"] = decision
            self.save()
            return True


def _summary(referral: JsonObject) -> JsonObject:
    keys = ("reference", "received_at", "referrer_reference", "priority", "risk_grade", "decision")
    return {key: referral[key] for key in keys}


def mash_app(mash: Mash, address: str = "") -> Starlette:
    """The Starlette app serving ``mash``; ``address`` is only shown on its page."""

    async def referrals(request: Request) -> Response:
        return await mash.call(request, mash.refer)

    async def referral(request: Request) -> Response:
        reference = request.path_params["reference"]
        return await mash.call(request, lambda _body: mash.look_up(reference))

    async def decision(request: Request) -> Response:
        fields = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        chosen = (fields.get("decision") or [""])[-1]
        if not mash.decide(request.path_params["reference"], chosen):
            return error(400, "bad_request", f"unknown referral or decision (one of {', '.join(DECISIONS)})")
        return RedirectResponse("/", status_code=303)

    async def page(request: Request) -> Response:
        with mash.lock:
            listed = [dict(r) for r in reversed(mash.state["referrals"].values())]
            control = mash.control_state()
        return render(
            _PAGE,
            title="Safeguarding hub (MASH) referrals",
            address=address,
            referrals=listed,
            decisions=DECISIONS,
            state=control,
        )

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/_control", mash.control_endpoint, methods=["GET", "POST"]),
            Route("/referrals", referrals, methods=["POST"]),
            Route("/referrals/{reference}", referral, methods=["GET"]),
            Route("/referrals/{reference}/decision", decision, methods=["POST"]),
        ]
    )


_PAGE = """\
{% extends "layout.html" %}
{% from "control.html" import control %}
{% block content %}
<h2>Referrals ({{ referrals|length }})</h2>
<table>
<thead><tr><th>Hub reference</th><th>Police reference</th><th>Priority</th><th>Risk</th>
<th>Received</th><th>Decision</th></tr></thead>
<tbody>
{% for referral in referrals %}
<tr><td>{{ referral.reference }}</td><td>{{ referral.referrer_reference }}</td>
<td>{{ referral.priority }}</td><td>{{ referral.risk_grade }}</td><td>{{ referral.received_at }}</td>
<td>{% if referral.decision %}{{ referral.decision|replace("_", " ") }}{% else %}
<form method="post" action="/referrals/{{ referral.reference|urlencode }}/decision">
<label for="d-{{ loop.index }}">Decision</label>
<select id="d-{{ loop.index }}" name="decision">{% for d in decisions %}
<option value="{{ d }}">{{ d|replace("_", " ") }}</option>{% endfor %}</select>
<button type="submit">Record</button></form>{% endif %}</td></tr>
{% else %}
<tr><td colspan="6">None yet.</td></tr>
{% endfor %}
</tbody>
</table>
{{ control(state) }}
{% endblock %}
"""
