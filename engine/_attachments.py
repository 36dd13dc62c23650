"""Attachments: photos, signatures and files, stored once by the SHA-256 of their bytes.

:class:`AttachmentStore` checks an upload (the declared hash against the bytes received, the
content type against a field's ``accept`` patterns and the bytes' own signature, the size against
``max_size``), writes the bytes to a :class:`BlobStorage` and records an
:class:`~engine._tables.Attachment` row. It returns the attachment record an answer carries,
``{sha256, filename, content_type, size, captured_at}`` (see :mod:`forms._readers_media`).

Bytes are content-addressed: identical bytes are stored once, under ``root/ab/cd/<sha256>``, and
a stored file is never overwritten. The first upload's row is kept (who uploaded it and when).
Storage sits behind the small :class:`BlobStorage` protocol so an S3-compatible store can take the
place of :class:`LocalBlobStorage` later.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine._tables import Attachment, Submission, utcnow
from forms._coerce import MIME, SHA256_RE, Bad, content_type_pattern, read_datetime
from forms._messages import size_text

__all__ = [
    "AttachmentRejected",
    "AttachmentStore",
    "BlobStorage",
    "LocalBlobStorage",
    "attachment_shas",
    "link_attachments",
    "record_of",
    "sniff_image",
]

_MIME_RE = re.compile(f"^{MIME}$")
# Bytes each image type starts with. A declared image type must match the bytes, so a renamed
# executable claiming to be image/jpeg is refused. SVG is not here on purpose: it is a document
# that can carry script, so it is never accepted as an image.
_IMAGE_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
    ("image/webp", b"WEBP", 8),
    ("image/bmp", b"BM", 0),
    ("image/tiff", b"II*\x00", 0),
    ("image/tiff", b"MM\x00*", 0),
)
# ISO base media (HEIC from iPhones and iPads, AVIF): "ftyp" at byte 4, then a brand.
_FTYP_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"hevc": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}
# Names a client may use for the same type.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
# Other types whose bytes have a fixed start: a declared PDF must be a PDF.
_DOCUMENT_SIGNATURES = {"application/pdf": b"%PDF-"}


class AttachmentRejected(ValueError):
    """An upload that cannot be stored. ``code`` is one of ``hash_mismatch``, ``bad_hash``,
    ``file_type``, ``max_size``, ``empty``, ``bad_captured_at``, ``bad_filename``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BlobStorage(Protocol):
    """Where attachment bytes live, addressed by their SHA-256 (lowercase hex)."""

    def put_bytes(self, sha256: str, data: bytes) -> None:
        """Store ``data`` under ``sha256`` unless it is there already (never overwrite)."""

    def get_bytes(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; FileNotFoundError when there are none."""

    def exists(self, sha256: str) -> bool:
        """True when bytes are stored under ``sha256``."""


class LocalBlobStorage:
    """Files under ``root/ab/cd/<sha256>``, written to a temporary file then renamed into place,
    so a reader never sees half a file and a crash never leaves one under the final name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """The file ``sha256`` is (or would be) stored in."""
        if SHA256_RE.search(sha256) is None:  # never let a request's text become a path
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, sha256: str, data: bytes) -> None:
        """Write ``data`` atomically unless the file exists (content-addressed: same bytes)."""
        target = self.path(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get_bytes(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when missing."""
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        """True when the file is stored."""
        return self.path(sha256).is_file()


def sniff_image(data: bytes) -> str | None:
    """The image type ``data`` starts like (``image/jpeg``, ``image/png``, ...), or None."""
    for kind, magic, offset in _IMAGE_SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (kind != "image/webp" or data[:4] == b"RIFF"):
            return kind
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12])
    return None


def _normal_type(content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(kind, kind)


def _check_type(data: bytes, declared: str, accept: tuple[str, ...]) -> str:
    kind = _normal_type(declared)
    if not _MIME_RE.search(kind):
        raise AttachmentRejected("file_type", "The file has no valid content type.")
    if not re.search(content_type_pattern(tuple(a.lower() for a in accept), images=False), kind):
        allowed = ", ".join(accept)
        raise AttachmentRejected("file_type", f"The selected file must be one of: {allowed}.")
    found = sniff_image(data)
    heif = ("image/heic", "image/heif")  # HEIF and HEIC share containers; a client may name either
    if kind.startswith("image/") and found != kind and not (kind in heif and found in heif):
        raise AttachmentRejected("file_type", f"The file's contents do not match its type {kind}.")
    magic = _DOCUMENT_SIGNATURES.get(kind)
    if magic is not None and not data.startswith(magic):
        raise AttachmentRejected("file_type", f"The file's contents do not match its type {kind}.")
    return kind


def _clean_filename(filename: str) -> str:
    # Only the last path component, no control characters: the name is shown and sent back in
    # a Content-Disposition header, never used as a path.
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".") or "upload"
    return name[:255]


def _captured(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    found = read_datetime(value, strict=False)
    if isinstance(found, Bad) or not isinstance(found, datetime):
        raise AttachmentRejected("bad_captured_at", "The capture time is not a date and time.")
    return found


def record_of(row: Attachment) -> dict[str, Any]:
    """The attachment record of a stored row, as an answer carries it (``captured_at`` only
    when known: strict JSON answers refuse a null there)."""
    record: dict[str, Any] = {
        "sha256": row.sha256,
        "filename": row.filename or "upload",
        "content_type": row.content_type,
        "size": row.size,
    }
    if row.captured_at is not None:
        record["captured_at"] = row.captured_at.isoformat()
    return record


class AttachmentStore:
    """Checks uploads, stores their bytes once and records them (see the module docstring)."""

    def __init__(self, root: Path | None = None, *, blobs: BlobStorage | None = None) -> None:
        if blobs is None:
            if root is None:
                raise ValueError("AttachmentStore needs a root folder or a BlobStorage")
            blobs = LocalBlobStorage(root)
        self.blobs = blobs

    def put(
        self,
        session: Session,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        uploaded_by: str | None,
        captured_at: datetime | str | None = None,
        declared_sha256: str | None = None,
        accept: tuple[str, ...] = (),
        max_size: int | None = None,
    ) -> dict[str, Any]:
        """Check and store ``data``; the attachment record. Raises :class:`AttachmentRejected`.

        ``accept`` holds MIME patterns (``image/*``, ``application/pdf``); empty allows any type.
        The record describes this upload (its file name and capture time); the stored row keeps
        the first upload's when the same bytes were stored before.
        """
        digest = hashlib.sha256(data).hexdigest()
        if declared_sha256 is not None and declared_sha256 != "":
            declared = declared_sha256.strip().lower()
            if SHA256_RE.search(declared) is None:
                raise AttachmentRejected("bad_hash", "The declared SHA-256 is not 64 hexadecimal digits.")
            if declared != digest:
                raise AttachmentRejected(
                    "hash_mismatch", "The file arrived damaged (its SHA-256 differs): send it again."
                )
        if not data:
            raise AttachmentRejected("empty", "The selected file is empty.")
        if max_size is not None and len(data) > max_size:
            raise AttachmentRejected(
                "max_size", f"The selected file must be smaller than {size_text(max_size)}."
            )
        kind = _check_type(data, content_type, accept)
        name = _clean_filename(filename)
        when = _captured(captured_at)
        self.blobs.put_bytes(digest, data)
        values = {
            "sha256": digest,
            "size": len(data),
            "content_type": kind,
            "filename": name,
            "captured_at": when,
            "received_at": utcnow(),
            "uploaded_by": uploaded_by,
        }
        # Concurrent uploads of the same bytes race to insert: the first row wins, quietly.
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(Attachment).values(**values).on_conflict_do_nothing())
        record: dict[str, Any] = {"sha256": digest, "filename": name, "content_type": kind, "size": len(data)}
        if when is not None:  # left out when unknown: strict JSON answers refuse a null here
            record["captured_at"] = when.isoformat()
        return record

    def open(self, sha256: str) -> bytes:
        """The stored bytes of ``sha256``; FileNotFoundError when there are none."""
        if SHA256_RE.search(sha256) is None:
            raise FileNotFoundError(sha256)
        return self.blobs.get_bytes(sha256)

    def row(self, session: Session, sha256: str) -> Attachment | None:
        """The stored row of ``sha256``, or None."""
        if SHA256_RE.search(sha256) is None:
            return None
        return session.get(Attachment, sha256)


def attachment_shas(value: Any) -> set[str]:
    """Every attachment SHA-256 found in an answers document (records anywhere inside it)."""
    found: set[str] = set()
    if isinstance(value, dict):
        sha = value.get("sha256")
        if isinstance(sha, str) and SHA256_RE.search(sha) and "content_type" in value:
            found.add(sha)
        for item in value.values():
            found |= attachment_shas(item)
    elif isinstance(value, list):
        for item in value:
            found |= attachment_shas(item)
    return found


def link_attachments(session: Session, submission: Submission) -> int:
    """Point the not-yet-linked attachments a submission's answers name at the submission.

    Only attachments the submitter uploaded are linked, so naming someone else's hash in an
    answer never grants access to their file. Returns the number linked.
    """
    shas = attachment_shas(submission.answers)
    if not shas:
        return 0
    rows = session.scalars(
        select(Attachment).where(
            Attachment.sha256.in_(sorted(shas)),
            Attachment.submission_id.is_(None),
            Attachment.uploaded_by == submission.submitted_by,
        )
    ).all()
    for row in rows:
        row.submission_id = submission.id
    return len(rows)
