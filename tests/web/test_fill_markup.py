"""The markup of every page of every demo form: unique ids, a label for every input, and
aria-describedby that points at something (the rest is checked by axe-core in the browser tests)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.test_fill import DEMO_FORMS, USERS, Site
from tests.web.test_fill import site as site  # the app fixture, shared


class _Ids(HTMLParser):
    """Collects ids, label targets and the ids of inputs that need a label."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.targets: set[str] = set()
        self.inputs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.targets.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.inputs.append(str(found.get("id")))


@pytest.mark.parametrize(("department", "name"), [(d, n) for d, n, _ in DEMO_FORMS])
def test_every_page_has_unique_ids_and_a_label_for_every_input(
    site: Site, department: str, name: str
) -> None:
    site.be(USERS[department], department)
    url = site.start(department, name)
    for form_page in site.form(department, name).pages:
        page = site.client.get(url.rsplit("/", 1)[0] + "/" + form_page.id, follow_redirects=True)
        assert page.status_code == 200
        found = _Ids()
        found.feed(page.text)
        assert len(found.ids) == len(set(found.ids)), form_page.id
        assert set(found.inputs) <= found.targets, (form_page.id, set(found.inputs) - found.targets)
        for described in re.findall(r'aria-describedby="([^"]+)"', page.text):
            assert set(described.split()) <= set(found.ids), (form_page.id, described)
