"""The statement document: a witness statement (MG11) rendered to PDF with fpdf2.

:func:`render_statement` lays out the front of the statement from a submission's stored answers
and the form version it was made with: the MG11 header, the narrative, the s.9 declaration in the
form's own words, the signatures (the stored images), the exhibits with the SHA-256 of each
photo, and "Page n of m" on every page. The rear of the MG11 (the form's pages from the first one
titled as restricted / not for disclosure) is never read, so it cannot leak into the document.

The output is deterministic: the PDF's creation date is the submission's receipt time, so the same
submission always gives the same bytes and the same SHA-256. Text uses DejaVu Sans (TrueType, for
Welsh letters such as ŵ and ŷ); a machine without it gets :class:`StatementFontMissing`, never a
document with characters silently dropped.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace

from dsl._env import LONDON
from forms import Field, Form, Item, Repeat
from forms._model import walk

__all__ = ["FONT_DIRS", "StatementFontMissing", "front_items", "render_statement"]

#: Where DejaVu Sans is looked for: Debian/Ubuntu (fonts-dejavu-core), then Fedora and Alpine.
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
)
_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_MONO = "DejaVuSansMono.ttf"
# Words in a page title that mark the MG11's restricted rear page (and every page after it).
_REAR_WORDS = ("restricted", "not for disclosure")
_NB = "{nb}"  # fpdf2 replaces this with the number of pages when the document is closed

# The form speaks to the officer ("Your signature"); the document names who signed.
_SIGNATURE_LABELS = {"officer_signature": "Signature of the officer who took the statement"}

#: Reads an attachment's bytes by SHA-256 (FileNotFoundError when missing).
Opener = Callable[[str], bytes]


class StatementFontMissing(RuntimeError):
    """DejaVu Sans is not installed, so the statement cannot be rendered faithfully."""


def _font_files(dirs: tuple[Path, ...]) -> dict[str, Path]:
    for folder in dirs:
        found = {style: folder / name for style, name in {**_FONTS, "mono": _MONO}.items()}
        if all(path.is_file() for path in found.values()):
            return found
    raise StatementFontMissing(
        "The statement PDF needs the DejaVu Sans fonts (Debian/Ubuntu package fonts-dejavu-core); "
        f"none were found in {', '.join(str(d) for d in dirs)}."
    )


def front_items(form: Form) -> list[Item]:
    """The items of the pages before the restricted rear page, in document order."""
    items: list[Item] = []
    for page in form.pages:
        title = (page.title.en if page.title is not None else "").lower()
        if any(word in title for word in _REAR_WORDS):
            break  # the rear page and everything after it stay out of the document
        items.extend(walk(page.fields))
    return items


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        local = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(LONDON)
        return f"{local:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class _Front:
    """The answers of the front of the statement, with the form's labels."""

    form: Form
    answers: Mapping[str, Any]
    fields: Mapping[str, Item]

    def label(self, field_id: str, default: str) -> str:
        item = self.fields.get(field_id)
        return item.label.en if item is not None and item.label is not None else default

    def text(self, field_id: str) -> str:
        """The answer of a front field as shown to a reader ("" when absent or not on the front)."""
        item = self.fields.get(field_id)
        value = self.answers.get(field_id) if item is not None else None
        if value is None or value == "":
            return ""
        if isinstance(item, Field) and item.choices is not None:
            choice = item.choices.get(str(value))
            return choice.label.en if choice is not None else str(value)
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, (date, datetime)) or (isinstance(item, Field) and "date" in item.type.value):
            return _when(value)
        return str(value)


def _header(front: _Front) -> list[tuple[str, str]]:
    name = front.text("witness_full_name") or " ".join(
        p
        for p in (front.text("witness_forenames").strip(), front.text("witness_surname").strip().upper())
        if p
    )
    age = ""
    dob = front.answers.get("witness_dob") if "witness_dob" in front.fields else None
    if dob:
        born = date.fromisoformat(str(dob)[:10])
        on = date.fromisoformat(str(front.answers.get("witness_signed_at") or date.today())[:10])
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        age = str(years) if years < 18 else "Over 18"
    officer = ", ".join(p for p in (front.text("officer_name"), front.text("officer_rank")) if p)
    if front.text("officer_collar"):
        officer += f" ({front.text('officer_collar')})"
    rows = [
        ("URN", front.text("urn")),
        ("Crime reference", front.text("crime_reference")),
        ("Statement of", name),
        ("Age if under 18", age),
        ("Occupation", front.text("occupation")),
        ("Taken by", officer),
        ("Station", front.text("officer_station")),
        ("Taken at", ", ".join(p for p in (front.text("taken_at"), front.text("taken_place")) if p)),
    ]
    interpreter = front.answers.get("interpreter")
    if front.answers.get("interpreter_used") and isinstance(interpreter, Mapping):
        rows.append(
            (
                "Interpreter",
                f"{interpreter.get('interpreter_name', '')} ({interpreter.get('interpreter_language', '')})",
            )
        )
    return [(k, v) for k, v in rows if v]


class _Document(FPDF):
    """A4 portrait with "Page n of m" at the foot of every page."""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("dejavu", "", 8)
        self.cell(0, 5, f"Page {self.page_no()} of {_NB}", align="C")


def _new_document(when: datetime, fonts: dict[str, Path]) -> _Document:
    pdf = _Document(format="A4")
    pdf.set_creation_date(when if when.tzinfo is not None else when.replace(tzinfo=UTC))
    pdf.set_title("Witness statement")
    pdf.set_producer("Waypost")  # no library version: upgrading fpdf2 must not change the bytes
    for style, path in fonts.items():
        if style == "mono":
            pdf.add_font("dejavumono", "", str(path))
        else:
            pdf.add_font("dejavu", style, str(path))
    pdf.set_margins(10, 12, 10)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("dejavu", "B", 11)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 10)


def _signature(pdf: FPDF, label: str, record: Any, opener: Opener) -> None:
    _heading(pdf, label)
    sha = record.get("sha256") if isinstance(record, Mapping) else None
    if not isinstance(sha, str):
        pdf.multi_cell(0, 5, "(not signed)", new_x="LMARGIN", new_y="NEXT")
        return
    try:
        pdf.image(io.BytesIO(opener(sha)), w=60, h=20, keep_aspect_ratio=True)
    except Exception:
        pdf.multi_cell(0, 5, "(the signature image could not be read)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavumono", "", 7)
    pdf.multi_cell(0, 4, f"SHA-256 {sha}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 10)


def _exhibits(pdf: FPDF, front: _Front) -> None:
    repeat = front.fields.get("exhibits")
    entries = front.answers.get("exhibits") if isinstance(repeat, Repeat) else None
    _heading(pdf, "Exhibits")
    if not entries:
        pdf.multi_cell(0, 5, "None.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font("dejavu", "", 8)
    widths = (20, 40, 30, 100)  # the hash column fits 64 monospaced hex digits on one line
    mono = FontFace(family="dejavumono", size_pt=7)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.5) as table:
        table.row(("Reference", "Description", "Captured", "SHA-256 of the photograph"))
        for entry in entries:
            photos = entry.get("exhibit_photos") or [None]
            for photo in photos if isinstance(photos, list) else [photos]:
                row = table.row()
                row.cell(str(entry.get("exhibit_ref", "")))
                row.cell(str(entry.get("exhibit_description", "")))
                captured = photo.get("captured_at") if isinstance(photo, Mapping) else None
                row.cell(_when(captured) or "Not recorded")
                sha = photo.get("sha256") if isinstance(photo, Mapping) else None
                row.cell(str(sha) if sha else "No photograph", style=mono if sha else None)
    pdf.set_font("dejavu", "", 10)


def render_statement(
    form: Form,
    answers: Mapping[str, Any],
    *,
    received_at: datetime,
    opener: Opener,
    font_dirs: tuple[Path, ...] = FONT_DIRS,
) -> bytes:
    """The PDF of a statement's front pages (see the module docstring); same input, same bytes."""
    fonts = _font_files(font_dirs)
    items = front_items(form)
    front = _Front(form, answers, {item.id: item for item in items})
    pdf = _new_document(received_at, fonts)
    pdf.set_font("dejavu", "B", 16)
    pdf.cell(0, 9, "Witness statement", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 8)
    pdf.multi_cell(0, 4, f"{form.title.en} · {form.classification}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("dejavu", "", 10)
    for key, value in _header(front):
        pdf.set_font("dejavu", "B", 10)
        pdf.cell(40, 6, key)
        pdf.set_font("dejavu", "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    declaration = front.fields.get("declaration_text")
    if declaration is not None and declaration.label is not None:
        _heading(pdf, "Declaration")
        # The form words the page count as a blank; the document knows it (fpdf2 fills {nb} in).
        pdf.multi_cell(0, 5, declaration.label.en.replace("[page count]", _NB), new_x="LMARGIN", new_y="NEXT")
    narrative = next((i for i in items if isinstance(i, Field) and i.type.value == "textarea"), None)
    if narrative is not None:
        _heading(pdf, "Statement")
        pdf.multi_cell(0, 5, front.text(narrative.id), new_x="LMARGIN", new_y="NEXT")
    for item in items:
        if isinstance(item, Field) and item.type.value == "signature" and item.id in answers:
            label = _SIGNATURE_LABELS.get(item.id) or (item.label.en if item.label is not None else item.id)
            _signature(pdf, label, answers[item.id], opener)
    if front.text("witness_signed_at"):
        pdf.multi_cell(0, 5, f"Signed {front.text('witness_signed_at')}", new_x="LMARGIN", new_y="NEXT")
    _exhibits(pdf, front)
    return bytes(pdf.output())
