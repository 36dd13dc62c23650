"""HTML pages from templates: one Jinja2 environment, with a deployment's overrides first.

Templates are looked up in order (simonw/datasette's ChoiceLoader pattern): a deployment's
override folder, when given, then the built-in ``renderers/templates/``. A force reskins a page
by dropping a file of the same name into its folder. ``{% extends "base.html" %}`` in an override
reaches the built-in layout when the folder has no ``base.html`` of its own, and
``{% extends "builtin/form.html" %}`` always reaches the built-in page, so an override may
change one block of the page it replaces.

Static files (``renderers/static/``) are read once and served by the web app from memory; their
URLs carry a hash of their content (``/static/waypost.css?v=1a2b3c4d5e6f``), so browsers may keep
them for a year and still never see a stale stylesheet after an upgrade.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import rcssmin
import rjsmin
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
)

#: Template names starting ``builtin/`` are the built-in templates, even where overridden.
BUILTIN_PREFIX = "builtin"
#: Characters of the content hash put in asset URLs: enough to never collide in practice.
VERSION_LENGTH = 12


class TemplateFolderError(ValueError):
    """The override folder given for templates does not exist or is not a folder."""


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file: its bytes, media type and the SHA-256 of its content (hex).

    ``gzipped`` is the body compressed once at start-up (level 9), for clients that accept gzip:
    the bundles are sent on every first visit over 4G, and compressing per request would waste
    the server's CPU on identical bytes.
    """

    name: str
    body: bytes
    media_type: str
    digest: str
    gzipped: bytes = b""

    @property
    def version(self) -> str:
        """The short content hash used in the asset's URL."""
        return self.digest[:VERSION_LENGTH]


#: Folders of ``renderers/static/`` served as one file each: a tablet on weak 4G makes one request
#: for all the styles and one for all the scripts. Parts join in file-name order (``10-base.css``
#: before ``20-fill.css``), so each part can be owned and edited on its own.
BUNDLES = {"css": "waypost.css", "js": "waypost.js"}


def _asset(name: str, body: bytes) -> Asset:
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    compressible = media_type.startswith("text/") or media_type in ("application/javascript", "image/svg+xml")
    if compressible:
        media_type += "; charset=utf-8"
    packed = gzip.compress(body, 9, mtime=0) if compressible else b""
    return Asset(name, body, media_type, hashlib.sha256(body).hexdigest(), packed)


def _minify(kind: str, text: str) -> str:
    """The bundle without comments and needless white space.

    rjsmin and rcssmin only remove (they never rename or rewrite), so the code that runs is the
    code in the repository; they understand strings and regular-expression literals, which a
    hand-written stripper would get wrong.
    """
    if kind == "js":
        return str(rjsmin.jsmin(text))
    return str(rcssmin.cssmin(text))


def static_assets() -> Mapping[str, Asset]:
    """Every file of ``renderers/static/`` by name, plus the bundles of :data:`BUNDLES`.

    Read from the installed package. Each bundle part is also served under its own name
    (``js/10-expr.js``) for tests and for debugging.
    """
    found: dict[str, Asset] = {}
    folder = resources.files("renderers").joinpath("static")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            found[entry.name] = _asset(entry.name, entry.read_bytes())
        elif entry.name in BUNDLES:
            parts = [p for p in sorted(entry.iterdir(), key=lambda e: e.name) if p.is_file()]
            parts = [p for p in parts if not p.name.startswith(".")]
            for part in parts:
                found[f"{entry.name}/{part.name}"] = _asset(part.name, part.read_bytes())
            text = "\n".join(p.read_text("utf-8").rstrip("\n") for p in parts) + "\n"
            body = _minify(entry.name, text).encode("utf-8")
            found[BUNDLES[entry.name]] = _asset(BUNDLES[entry.name], body)
    return MappingProxyType(found)


class HtmlRenderer:
    """Renders the built-in (or overridden) templates to HTML strings.

    ``overrides`` is a deployment's template folder, searched before the built-in templates.
    ``static_prefix`` is the URL path the web app serves ``renderers/static/`` under;
    ``auto_reload`` re-reads a template whose file changed (for authors editing templates). Every
    template can call ``static_url("waypost.css")`` for a cache-safe URL of a static file.
    Raises :class:`TemplateFolderError` when ``overrides`` is not a folder.
    """

    def __init__(
        self, overrides: Path | None = None, *, static_prefix: str = "/static/", auto_reload: bool = True
    ) -> None:
        loaders: list[BaseLoader] = []
        if overrides is not None:
            if not overrides.is_dir():
                raise TemplateFolderError(f"the template folder does not exist: {overrides}")
            loaders.append(FileSystemLoader(str(overrides)))
        builtin = PackageLoader("renderers", "templates")
        loaders.append(builtin)
        # "builtin/NAME" always reaches the built-in template, so an override can extend the very
        # page it replaces ({% extends "builtin/form.html" %}) and change one block of it.
        loaders.append(PrefixLoader({BUILTIN_PREFIX: builtin}))
        self.overrides = overrides
        self.static_prefix = static_prefix
        self.assets = static_assets()
        # Autoescaping is what keeps an author's `<script>` label text; StrictUndefined makes a
        # misspelt variable in a template fail loudly in the tests instead of rendering blank.
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Checking every template file's time on each render costs a served page dearly;
            # a server that is not reloading never sees its templates change.
            auto_reload=auto_reload,
        )
        self.env.globals["static_url"] = self.static_url

    def static_url(self, name: str) -> str:
        """The URL of static file ``name``, versioned by its content; KeyError if there is none."""
        asset = self.assets[name]
        return f"{self.static_prefix}{asset.name}?v={asset.version}"

    def render(self, template: str, /, **context: Any) -> str:
        """Render ``template`` (a file name such as ``"form.html"``) with ``context``."""
        return self.env.get_template(template).render(**context)
