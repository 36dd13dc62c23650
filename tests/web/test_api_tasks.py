"""The API's task inbox: list, read, claim, release and complete, with permissions and conflicts.

An officer submits an assault concern; its workflow (run with ``run_until_idle``) creates a task
for the ``ppu`` supervisors, which the tests then work through the API.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.web.test_api import Api, api, concern

__all__ = ["api"]  # the fixture, imported for this module's tests

SUPERVISOR = ("officer", "supervisor")


def run_workflows(api: Api) -> None:
    """Run every due job of the app's runtime (the tests run no worker)."""
    runtime = api.client.app.state.waypost.runtime  # type: ignore[attr-defined]
    asyncio.run(runtime.run_until_idle())


def make_task(api: Api) -> tuple[str, str]:
    """Submit an assault concern and run its workflow; (submission id, task id)."""
    reply = api.client.post(
        "/api/v1/submissions", json=concern(offence="assault"), headers=api.headers("pc.one")
    )
    assert reply.status_code == 201, reply.text
    run_workflows(api)
    tasks = api.client.get("/api/v1/tasks", headers=api.headers("sgt.a", "ppu", SUPERVISOR)).json()["items"]
    assert len(tasks) == 1
    return reply.json()["id"], tasks[0]["id"]


def test_inbox_shows_tasks_for_the_callers_roles_only(api: Api) -> None:
    submission_id, task_id = make_task(api)
    items = api.client.get("/api/v1/tasks", headers=api.headers("sgt.a", "ppu", SUPERVISOR)).json()["items"]
    task = items[0]
    assert task["role"] == "supervisor"
    assert task["state"] == "open"
    assert task["form"]["name"] == "review"
    assert task["submission"]["id"] == submission_id
    assert api.client.get("/api/v1/tasks", headers=api.headers("pc.one")).json()["items"] == []
    far = api.headers("sgt.far", "other", SUPERVISOR)
    assert api.client.get("/api/v1/tasks", headers=far).json()["items"] == []
    assert api.client.get(f"/api/v1/tasks/{task_id}", headers=far).status_code == 404
    detail = api.client.get(
        f"/api/v1/tasks/{task_id}", headers=api.headers("sgt.a", "ppu", SUPERVISOR)
    ).json()
    assert detail["case"]["offence"] == "assault"
    assert "outcome" in detail["form"]["schema"]["properties"]
    assert detail["form"]["definition"]["pages"][0]["items"][0]["id"] == "outcome"


def test_claim_release_complete(api: Api) -> None:
    submission_id, task_id = make_task(api)
    first = api.headers("sgt.a", "ppu", SUPERVISOR)
    second = api.headers("sgt.b", "ppu", SUPERVISOR)
    url = f"/api/v1/tasks/{task_id}"
    assert (
        api.client.post(f"{url}/complete", json={"answers": {"outcome": "accept"}}, headers=first).status_code
        == 409
    )
    claimed = api.client.post(f"{url}/claim", headers=first)
    assert claimed.status_code == 200
    assert (claimed.json()["state"], claimed.json()["claimed_by_me"]) == ("claimed", True)
    assert api.client.post(f"{url}/claim", headers=first).status_code == 200  # claiming again is fine
    taken = api.client.post(f"{url}/claim", headers=second)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "task_conflict"
    assert api.client.post(f"{url}/release", headers=second).status_code == 409
    assert api.client.post(f"{url}/claim", headers=api.headers("pc.one")).status_code == 404
    released = api.client.post(f"{url}/release", headers=first)
    assert released.json()["state"] == "open"
    assert api.client.post(f"{url}/claim", headers=second).status_code == 200
    invalid = api.client.post(f"{url}/complete", json={"answers": {"outcome": "ignore"}}, headers=second)
    assert invalid.status_code == 422
    assert invalid.json()["error"]["fields"][0]["path"] == ["outcome"]
    done = api.client.post(f"{url}/complete", json={"answers": {"outcome": "refer"}}, headers=second)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "completed"
    assert (
        api.client.post(f"{url}/complete", json={"answers": {"outcome": "refer"}}, headers=second).status_code
        == 409
    )
    run_workflows(api)
    detail = api.client.get(f"/api/v1/submissions/{submission_id}", headers=api.headers("pc.one")).json()
    assert detail["status"] == "completed"
    kinds = [event["kind"] for event in detail["timeline"]]
    assert {"task_claimed", "task_released", "task_completed"} <= set(kinds)
    assert any(r["step"] == "review" and r["outputs"] == {"outcome": "refer"} for r in detail["results"])
    assert api.client.get("/api/v1/tasks", headers=first).json()["items"] == []


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "malformed_json"),
        (b"{}", "application/json", 422, "invalid_body"),
        (b'{"answers": "accept"}', "application/json", 422, "invalid_body"),
        (b"answers=1", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_complete_with_bad_bodies(
    api: Api, content: bytes, content_type: str, status: int, code: str
) -> None:
    _, task_id = make_task(api)
    headers = {**api.headers("sgt.a", "ppu", SUPERVISOR), "Content-Type": content_type}
    api.client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    reply = api.client.post(f"/api/v1/tasks/{task_id}/complete", content=content, headers=headers)
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code


def test_unknown_tasks_are_404(api: Api) -> None:
    headers = api.headers("sgt.a", "ppu", SUPERVISOR)
    for path in ("/api/v1/tasks/nope", "/api/v1/tasks/" + "x" * 40):
        assert api.client.get(path, headers=headers).status_code == 404
        assert api.client.post(path + "/claim", headers=headers).json()["error"]["code"] == "not_found"
