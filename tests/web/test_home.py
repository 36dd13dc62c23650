"""The officer's home page: the forms to start, drafts to resume and recent submissions."""

from __future__ import annotations

import re

from tests.web.test_fill import Site
from tests.web.test_fill import site as site  # the app fixture, shared


def test_home_offers_the_departments_forms_but_not_task_forms(site: Site) -> None:
    site.be("ds.khan", "public_protection", ("officer", "supervisor"))
    page = site.client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "<h1>What do you need to do?</h1>" in page.text
    starts = re.findall(r'action="/forms/([a-z_]+)/([a-z_]+)/start"', page.text)
    assert starts == [("public_protection", "child_concern")]  # supervisor_review is a task form
    assert 'lang="cy">Pryder amddiffyn plant</span>' in page.text
    assert "Ds Khan" in page.text
    assert 'action="/logout"' in page.text
    site.be("pc.smith")
    starts = re.findall(r'action="/forms/([a-z_]+)/([a-z_]+)/start"', site.client.get("/").text)
    assert starts == [("response", "crime_report"), ("response", "witness_statement")]


def test_home_lists_drafts_newest_first_with_a_delete_button(site: Site) -> None:
    site.be("pc.home")
    first = site.start("response", "crime_report").split("/")[2]
    second = site.start("response", "witness_statement").split("/")[2]
    site.post(f"/drafts/{first}/pages/victim", {"_action": "save"})  # saved last: now the newest
    page = site.client.get("/").text
    drafts = re.findall(r'<a href="/drafts/([0-9a-f-]{36})">([^<]+)</a>', page)
    assert drafts == [(first, "Crime report"), (second, "Witness statement (MG11)")]
    assert f'action="/drafts/{second}/delete"' in page
    assert "Last saved" in page
    site.post(f"/drafts/{second}/delete", {})
    page = site.client.get("/").text
    assert second not in page
    assert "The draft has been deleted" not in page
    assert "You have not submitted any forms yet." in page
