"""The HTML renderer: one autoescaping environment, override templates first, versioned assets."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from renderers import (
    HtmlRenderer,
    TemplateFolderError,
    form_outline,
    static_assets,
    summarise_department,
    workflow_outline,
)
from tests.renderers import samples

SITE = {"name": "wessex", "folder": "forces/wessex", "reload": False, "version": "0.1.0"}
TEMPLATES = resources.files("renderers").joinpath("templates")


class InlineCode(HTMLParser):
    """Collects inline scripts, <style> elements and style= attributes: the CSP forbids all three."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        if "style" in names:
            self.found.append(f"style= attribute on <{tag}>")
        self.found.extend(f"{name}= handler on <{tag}>" for name in names if name.startswith("on"))


def inline_code(html: str) -> list[str]:
    """Every inline script or style in ``html``."""
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def _pages(renderer: HtmlRenderer) -> dict[str, str]:
    form, flow = samples.form(), samples.workflow()
    dept = summarise_department(
        "ppu",
        "forces/wessex/ppu",
        department=samples.department(),
        forms={"concern": form},
        workflows={"concern": flow},
    )
    return {
        "index": renderer.render("index.html", site=SITE, departments=[dept], broken=0, force_problem=None),
        "department": renderer.render("department.html", site=SITE, dept=dept),
        "form": renderer.render("form.html", site=SITE, dept=dept, form=form_outline(form), file="f.yaml"),
        "workflow": renderer.render(
            "workflow.html",
            site=SITE,
            dept=dept,
            flow=workflow_outline(flow),
            file="w.yaml",
            diagram_url="/d.svg",
        ),
        "error": renderer.render(
            "error.html", site=SITE, status=404, title="Page not found", message="No such page."
        ),
        "problems": renderer.render("problems.html", site=SITE, dept=dept, what="form", name="concern"),
    }


def test_every_template_renders_without_inline_code() -> None:
    """Each built-in page renders, links the stylesheet, and has no inline script or style."""
    pages = _pages(HtmlRenderer())
    for name, html in pages.items():
        assert html.startswith("<!DOCTYPE html>"), name
        assert 'lang="en-GB"' in html
        assert re.search(r'<link rel="stylesheet" href="/static/waypost\.css\?v=[0-9a-f]{12}">', html), name
        assert inline_code(html) == [], name


def test_template_sources_have_no_inline_code() -> None:
    """No template source holds a style attribute, a <style> element, an inline <script> or an
    event-handler attribute (only <script src=...> of the app's own bundle is allowed)."""
    for entry in TEMPLATES.iterdir():
        text = entry.read_text(encoding="utf-8")
        pattern = r"\bstyle\s*=|<style|<script(?![^>]*\bsrc=)|\son[a-z]+\s*="
        assert not re.search(pattern, text, re.IGNORECASE), entry.name


def test_inline_code_check_finds_offenders() -> None:
    """The scanner reports an inline script, a style attribute, a style element and a handler."""
    html = (
        '<p style="color:red" onclick="x()">a</p><script>alert(1)</script>'
        '<style>p{}</style><script src="/a.js"></script>'
    )
    assert sorted(inline_code(html)) == sorted(
        ["style= attribute on <p>", "onclick= handler on <p>", "<script> without src", "<style> element"]
    )


def test_author_text_is_escaped() -> None:
    """Labels, titles and choice labels written by an author are shown as text, never as markup."""
    text = samples.FORM.replace("label: Age", 'label: "<script>alert(1)</script>"').replace(
        "title: The person", "title: '<img src=x onerror=alert(2)>'"
    )
    form = samples.form(text)
    dept = summarise_department("ppu", "ppu", department=None, forms={"concern": form}, workflows={})
    html = HtmlRenderer().render("form.html", site=SITE, dept=dept, form=form_outline(form), file="f.yaml")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert inline_code(html) == []


def test_autoescape_is_on_for_every_template() -> None:
    """The one environment escapes HTML, whatever the template's name."""
    renderer = HtmlRenderer()
    assert renderer.env.autoescape is True
    assert renderer.env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"


def test_override_folder_is_searched_first(tmp_path: Path) -> None:
    """A template in the override folder replaces the built-in one and can extend the built-in base."""
    (tmp_path / "error.html").write_text(
        '{% extends "base.html" %}{% block content %}<p class="mine">{{ message }}</p>{% endblock %}', "utf-8"
    )
    renderer = HtmlRenderer(tmp_path)
    html = renderer.render("error.html", site=SITE, status=404, title="Gone", message="<Custom>")
    assert '<p class="mine">&lt;Custom&gt;</p>' in html
    assert "Skip to main content" in html  # the built-in base.html still frames the page
    # Templates the folder does not hold come from the built-ins.
    assert "Back to the start" in HtmlRenderer().render(
        "error.html", site=SITE, status=404, title="Gone", message="x"
    )
    assert "Back to the start" not in html


def test_override_can_extend_the_page_it_replaces(tmp_path: Path) -> None:
    """`builtin/NAME` reaches the built-in template, so an override changes one block of it."""
    (tmp_path / "error.html").write_text(
        '{% extends "builtin/error.html" %}{% block title %}Wessex {{ super() }}{% endblock %}', "utf-8"
    )
    html = HtmlRenderer(tmp_path).render("error.html", site=SITE, status=404, title="Gone", message="m")
    assert "<title>Wessex Gone – wessex – Waypost</title>" in html
    assert "Back to the start" in html  # the rest of the built-in page is kept


def test_missing_override_folder_is_an_error(tmp_path: Path) -> None:
    """A template folder that does not exist is refused when the renderer is built."""
    with pytest.raises(TemplateFolderError, match="does not exist"):
        HtmlRenderer(tmp_path / "nope")


def test_missing_variable_fails_loudly() -> None:
    """A template that uses a value the caller did not pass raises instead of rendering blank."""
    with pytest.raises(Exception, match="site"):
        HtmlRenderer().render("error.html", status=404, title="x", message="y")


def test_static_assets_are_versioned_by_content() -> None:
    """The stylesheet is shipped, typed as CSS, and its URL carries the start of its SHA-256."""
    assets = static_assets()
    css = assets["waypost.css"]
    assert css.media_type == "text/css; charset=utf-8"
    assert css.digest == hashlib.sha256(css.body).hexdigest()
    assert HtmlRenderer().static_url("waypost.css") == f"/static/waypost.css?v={css.digest[:12]}"
    assert (
        HtmlRenderer(static_prefix="/assets/").static_url("waypost.css").startswith("/assets/waypost.css?v=")
    )
    with pytest.raises(KeyError):
        HtmlRenderer().static_url("missing.css")


def test_stylesheet_sizes_touch_targets() -> None:
    """Links and buttons meant for fingers are at least 44px high; the CSS imports nothing."""
    css = static_assets()["waypost.css"].body.decode("utf-8")  # minified: no spaces after ':'
    assert css.count("min-height:44px") >= 4
    assert "@import" not in css
    assert "url(" not in css


def test_bundles_are_minified_and_precompressed() -> None:
    """The bundles lose comments and indentation but keep every part; gzip is made once."""
    import gzip

    assets = static_assets()
    for bundle, folder in (("waypost.js", "js/"), ("waypost.css", "css/")):
        asset = assets[bundle]
        parts = [a for name, a in assets.items() if name.startswith(folder)]
        assert parts, bundle
        assert len(asset.body) < sum(len(p.body) for p in parts)
        assert b"/*" not in asset.body or bundle == "waypost.js"  # css comments all go
        assert gzip.decompress(asset.gzipped) == asset.body
    js = assets["waypost.js"].body.decode("utf-8")
    assert "Waypost" in js
    assert "\n    " not in js
