"""Hypothesis strategies: forms without expressions, and JSON submissions for them (a mix of
valid answers and arbitrary JSON)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SHA = "0123456789abcdef" * 4
SIMPLE_TYPES = [
    "text",
    "textarea",
    "integer",
    "decimal",
    "date",
    "time",
    "datetime",
    "yesno",
    "select_one",
    "select_many",
    "email",
    "uk_phone",
    "uk_postcode",
    "photo",
    "file",
    "signature",
    "geopoint",
    "note",
]
PATTERNS = ["[A-Z]{2}/[0-9]+", "[a-z]*", "(ab|cd)+x?", "[0-9]{3}"]
CHOICES = ["red", "green", "blue", "amber", "x1"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def _bounds(draw: st.DrawFn, low: int, high: int) -> tuple[int | None, int | None]:
    a = draw(st.none() | st.integers(low, high))
    b = draw(st.none() | st.integers(low, high))
    if a is not None and b is not None and a > b:
        a, b = b, a
    return a, b


@st.composite
def field_specs(draw: st.DrawFn, ident: str, depth: int = 0, kind: str | None = None) -> dict[str, Any]:
    """One field definition (as a mapping that json.dumps turns into YAML), of ``kind`` or any."""
    kinds = SIMPLE_TYPES + (["group", "repeat"] if depth == 0 else [])
    kind = kind or draw(st.sampled_from(kinds))
    spec: dict[str, Any] = {"id": ident, "type": kind, "label": f"Label {ident}"}
    if kind in ("group", "repeat"):
        count = draw(st.integers(1, 3))
        spec["fields"] = [draw(field_specs(f"{ident}_{i}", depth + 1)) for i in range(count)]
        if kind == "repeat":
            low, high = draw(_bounds(0, 3))
            if low is not None:
                spec["min"] = low
            if high is not None and high >= 1:
                spec["max"] = high
        return spec
    if kind != "note" and draw(st.booleans()):
        spec["required"] = True
    if kind in ("integer", "decimal"):
        low, high = draw(_bounds(-50, 50))
        if low is not None:
            spec["min"] = low
        if high is not None:
            spec["max"] = high
    if kind in ("text", "textarea"):
        low, high = draw(_bounds(0, 6))
        if low is not None:
            spec["min_length"] = low
        if high is not None and high >= 1:
            spec["max_length"] = high
        if kind == "text" and draw(st.booleans()):
            spec["pattern"] = draw(st.sampled_from(PATTERNS))
    if kind in ("select_one", "select_many"):
        spec["choices"] = draw(st.lists(st.sampled_from(CHOICES), min_size=1, max_size=4, unique=True))
        if kind == "select_many":
            low, high = draw(_bounds(0, len(spec["choices"])))
            if low is not None:
                spec["min_selected"] = low
            if high is not None and high >= 1:
                spec["max_selected"] = high
    if kind in ("photo", "file"):
        spec["max"] = draw(st.integers(1, 3))
        spec["max_size"] = draw(st.sampled_from(["1KB", "2MB"]))
        if kind == "file" and draw(st.booleans()):
            spec["accept"] = draw(st.sampled_from([["application/pdf"], ["image/*", "text/plain"]]))
    return spec


@st.composite
def form_texts(draw: st.DrawFn, most: int = 5, kind: str | None = None) -> str:
    """A whole form (1-2 pages, 1 to ``most`` items each; all of ``kind`` if given) as YAML text
    (JSON is YAML)."""
    pages = []
    counter = 0
    for page in range(draw(st.integers(1, 2 if most > 1 else 1))):
        fields = []
        for _ in range(draw(st.integers(1, most))):
            fields.append(draw(field_specs(f"f{counter}", kind=kind)))
            counter += 1
        pages.append({"id": f"p{page}", "fields": fields})
    return json.dumps({"form": "generated", "title": "Generated", "pages": pages})


def _near(*bounds: int | None) -> st.SearchStrategy[int]:
    """Integers at and either side of each bound (where mistakes hide)."""
    points = sorted({b + d for b in bounds if b is not None for d in (-1, 0, 1)})
    return st.sampled_from(points) if points else st.integers(0, 3)


def _attachment(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    limit = 1024 if spec.get("max_size") == "1KB" else 2 * 1024 * 1024
    image = "image/jpeg" if spec["type"] == "photo" else "application/pdf"
    if spec.get("accept") == ["image/*", "text/plain"]:
        image = "text/plain"
    good = st.fixed_dictionaries(
        {
            "sha256": st.just(SHA),
            "filename": st.just("a.jpg"),
            "content_type": st.just(image),
            "size": st.integers(0, 10),
        },
        optional={"captured_at": st.just("2024-03-01T10:00:00+00:00")},
    )
    odd = st.fixed_dictionaries(
        {
            "sha256": st.sampled_from([SHA, SHA.upper()]),
            "filename": st.sampled_from(["a.jpg", ""]),
            "content_type": st.sampled_from(["image/jpeg", "application/pdf", "text/plain", "Image/JPEG"]),
            "size": _near(limit) | st.integers(0, 10),
        },
        optional={"captured_at": st.sampled_from(["2024-03-01T10:00:00+00:00", "2024-03-01T10:00", None])},
    )
    big = good.flatmap(lambda a: _near(limit).map(lambda n: {**a, "size": n}))
    return st.one_of(good, big, odd, json_values)


def value_for(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A plausible JSON answer for ``spec`` (often valid, often just over a bound) or arbitrary
    JSON."""
    kind = spec["type"]
    plausible: st.SearchStrategy[Any]
    if kind in ("text", "textarea"):
        lengths = _near(spec.get("min_length"), spec.get("max_length"), 1)
        plausible = (
            st.text(max_size=8)
            | st.from_regex(spec.get("pattern", "[a-z]{0,7}"), fullmatch=True)
            | lengths.map(lambda n: "a" * max(n, 0))
        )
    elif kind in ("integer", "decimal"):
        near = _near(spec.get("min"), spec.get("max"))
        plausible = near | near.map(float) | st.floats(-60, 60, allow_nan=False) | st.integers(-60, 60)
    elif kind == "date":
        plausible = st.dates().map(lambda d: d.isoformat()) | st.sampled_from(
            ["2024-02-30", "2023-02-29", "0000-01-01"]
        )
    elif kind == "time":
        plausible = st.times().map(lambda t: t.strftime("%H:%M")) | st.sampled_from(
            ["24:00", "9:30", "10:30:00"]
        )
    elif kind == "datetime":
        plausible = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.sampled_from(
            ["2024-03-01T10:00", "2024-03-01T10:00Z", "2024-03-01 10:00+01:00"]
        )
    elif kind == "yesno":
        plausible = st.booleans() | st.sampled_from(["yes", "no"])
    elif kind == "select_one":
        plausible = st.sampled_from([*spec["choices"], "nope", ""])
    elif kind == "select_many":
        sizes = _near(spec.get("min_selected"), spec.get("max_selected"), 1)
        valid = sizes.flatmap(lambda n: st.permutations(spec["choices"]).map(lambda c: c[: max(n, 0)]))
        plausible = valid | st.lists(st.sampled_from([*spec["choices"], "nope"]), max_size=4)
    elif kind == "email":
        plausible = st.sampled_from(["a@b.co", "x.y@police.example.uk", "bad@", "a b@c.de", "é@ü.de", ""])
    elif kind == "uk_phone":
        plausible = st.sampled_from(["07700900123", "+442079460000", "07700 900123", "999", ""])
    elif kind == "uk_postcode":
        plausible = st.sampled_from(["SW1A 1AA", "sw1a 1aa", "GIR 0AA", "SW1A1AA", "QQ1 1QQ", ""])
    elif kind in ("photo", "file"):
        counts = _near(spec.get("max"), 1)
        plausible = counts.flatmap(
            lambda n: st.lists(_attachment(spec), min_size=max(n, 0), max_size=max(n, 0))
        )
    elif kind == "signature":
        plausible = _attachment(spec)
    elif kind == "geopoint":
        plausible = st.fixed_dictionaries(
            {"lat": st.sampled_from([-90, 90, 90.5, 51.5]), "lon": st.sampled_from([-180, 180.5, 0, -0.1])},
            optional={"accuracy": st.sampled_from([0, -1, 12.5, None])},
        )
    elif kind == "group":
        plausible = answers_for(spec["fields"])
    elif kind == "repeat":
        counts = _near(spec.get("min"), spec.get("max"), 1)
        plausible = counts.flatmap(
            lambda n: st.lists(answers_for(spec["fields"]), min_size=max(n, 0), max_size=max(n, 0))
        )
    else:
        plausible = json_values
    # Mostly plausible answers (valid or nearly so), sometimes anything at all.
    return st.one_of(plausible, plausible, plausible, json_values)


def answers_for(specs: list[dict[str, Any]], *, present: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """A submission for the fields ``specs``: each present (always, if ``present``) or not;
    sometimes an unknown key."""
    parts = {spec["id"]: value_for(spec) for spec in specs}
    extra = st.one_of(
        st.just({}), st.just({}), st.just({}), st.dictionaries(st.just("zzz"), json_values, max_size=1)
    )
    answers = st.fixed_dictionaries(parts) if present else st.fixed_dictionaries({}, optional=parts)
    return st.builds(lambda a, b: {**a, **b}, answers, extra)
