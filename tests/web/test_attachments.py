"""Attachments: the content-addressed store, browser and API uploads, and who may download.

The store's checks (declared hash, sniffed type, size) are tested directly; the routes through
the real app over SQLite with the test force of tests/web/test_api.py.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine._attachments import AttachmentRejected, AttachmentStore, LocalBlobStorage, sniff_image
from engine._database import Database
from engine._tables import Attachment
from tests.web.support import sign_in
from tests.web.test_api import Api, api, concern

__all__ = ["api"]  # the fixture, imported for this module's tests

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # 1,032 bytes: under the photo field's 2KB
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(600)
PDF = b"%PDF-1.7\n" + b"0" * 300
EXE = b"MZ\x90\x00" + b"\x00" * 400
PHOTOS = {"department": "ppu", "form": "concern", "field": "photos"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store_db(tmp_path: Path) -> Iterator[tuple[AttachmentStore, Database]]:
    db = Database(f"sqlite:///{tmp_path}/a.db")
    db.upgrade()
    yield AttachmentStore(tmp_path / "blobs"), db
    db.dispose()


# The store -------------------------------------------------------------------------------------


def test_store_writes_content_addressed_files_once(
    store_db: tuple[AttachmentStore, Database], tmp_path: Path
) -> None:
    store, db = store_db
    with db.session() as session:
        first = store.put(session, PNG, filename="a/../../x.png", content_type="image/png", uploaded_by=None)
    with db.session() as session:
        second = store.put(session, PNG, filename="other.png", content_type="IMAGE/PNG", uploaded_by=None)
    digest = sha(PNG)
    path = tmp_path / "blobs" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == PNG
    assert first == {
        "sha256": digest,
        "filename": "x.png",
        "content_type": "image/png",
        "size": len(PNG),
    }
    assert second["filename"] == "other.png"  # the record is this upload's ...
    with db.session(write=False) as session:
        rows = session.scalars(select(Attachment)).all()
    assert [(r.sha256, r.filename) for r in rows] == [(digest, "x.png")]  # ... the row the first one's
    assert [p.name for p in path.parent.iterdir()] == [digest]  # no temporary files left behind


def test_a_stored_file_is_never_overwritten(tmp_path: Path) -> None:
    blobs = LocalBlobStorage(tmp_path)
    digest = sha(b"real")
    blobs.put_bytes(digest, b"real")
    blobs.put_bytes(digest, b"something else")
    assert blobs.get_bytes(digest) == b"real"
    assert blobs.exists(digest)
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.path("../../etc/passwd")


@pytest.mark.parametrize(
    ("data", "declared", "options", "code"),
    [
        (PNG, "image/png", {"declared_sha256": "0" * 64}, "hash_mismatch"),
        (PNG, "image/png", {"declared_sha256": "xyz"}, "bad_hash"),
        (EXE, "image/jpeg", {"accept": ("image/*",)}, "file_type"),
        (PNG, "image/jpeg", {"accept": ("image/*",)}, "file_type"),
        (PDF, "application/pdf", {"accept": ("image/*",)}, "file_type"),
        (EXE, "application/pdf", {"accept": ("application/pdf",)}, "file_type"),
        (b"<svg onload=alert(1)>", "image/svg+xml", {}, "file_type"),
        (PNG, "not a type", {}, "file_type"),
        (PNG, "image/png", {"max_size": 100}, "max_size"),
        (b"", "image/png", {}, "empty"),
        (PNG, "image/png", {"captured_at": "yesterday"}, "bad_captured_at"),
    ],
)
def test_store_refuses_bad_uploads(
    store_db: tuple[AttachmentStore, Database],
    data: bytes,
    declared: str,
    options: dict[str, object],
    code: str,
) -> None:
    store, db = store_db
    with pytest.raises(AttachmentRejected) as caught, db.session() as session:
        store.put(session, data, filename="f", content_type=declared, uploaded_by=None, **options)  # type: ignore[arg-type]
    assert caught.value.code == code
    with db.session(write=False) as session:
        assert session.scalars(select(Attachment)).all() == []


def test_store_accepts_good_uploads(store_db: tuple[AttachmentStore, Database]) -> None:
    store, db = store_db
    with db.session() as session:
        photo = store.put(
            session,
            JPEG,
            filename="p.jpg",
            content_type="image/jpg",
            uploaded_by=None,
            declared_sha256=sha(JPEG).upper(),
            accept=("image/*",),
            max_size=2048,
            captured_at="2025-06-02T10:15:00+01:00",
        )
        pdf = store.put(
            session,
            PDF,
            filename="d.pdf",
            content_type="application/pdf",
            uploaded_by=None,
            accept=("application/pdf",),
        )
    assert photo["content_type"] == "image/jpeg"
    assert photo["captured_at"] == "2025-06-02T10:15:00+01:00"
    assert pdf["content_type"] == "application/pdf"
    assert store.open(photo["sha256"]) == JPEG


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
        (b"\x00\x00\x00\x18ftypavif", "image/avif"),
        (b"MZ\x90\x00", None),
        (b"<svg>", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
    ],
)
def test_sniffing(head: bytes, kind: str | None) -> None:
    assert sniff_image(head + b"\x00" * 16) == kind


# Browser uploads ---------------------------------------------------------------------------------


def upload(
    api: Api, data: bytes, content_type: str, *, headers: dict[str, str], params: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/attachments",
        content=data,
        params=params or PHOTOS,
        headers={"Content-Type": content_type, **headers},
    )


def test_browser_upload_and_download(api: Api) -> None:
    opened = sign_in(api.client, api.db, "pc.one", "ppu")
    headers = {
        "X-CSRF-Token": opened.csrf_token,
        "X-Filename": "scene%20one.png",
        "X-Sha256": sha(PNG),
        "X-Captured-At": "2025-06-02T09:30:00Z",
    }
    reply = upload(api, PNG, "image/png", headers=headers)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {
        "sha256": sha(PNG),
        "filename": "scene one.png",
        "content_type": "image/png",
        "size": len(PNG),
        "captured_at": "2025-06-02T09:30:00+00:00",
    }
    got = api.client.get(f"/attachments/{sha(PNG)}")
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["etag"] == f'"{sha(PNG)}"'
    assert got.headers["content-disposition"].startswith("inline")
    again = api.client.get(f"/attachments/{sha(PNG)}", headers={"If-None-Match": f'"{sha(PNG)}"'})
    assert again.status_code == 304


def test_browser_upload_needs_the_csrf_header(api: Api) -> None:
    sign_in(api.client, api.db, "pc.one", "ppu")
    reply = upload(api, PNG, "image/png", headers={})
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "forbidden"


def test_signed_out_browser_is_sent_to_sign_in(api: Api) -> None:
    reply = api.client.get(f"/attachments/{sha(PNG)}", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("data", "content_type", "extra", "params", "status", "code"),
    [
        (PNG, "image/png", {"X-Sha256": "0" * 64}, PHOTOS, 422, "hash_mismatch"),
        (EXE, "image/jpeg", {"X-Filename": "holiday.jpg"}, PHOTOS, 422, "file_type"),
        (PDF, "application/pdf", {}, PHOTOS, 422, "file_type"),
        (PNG, "image/png", {}, {**PHOTOS, "field": "documents"}, 422, "file_type"),
        (PNG * 3, "image/png", {}, PHOTOS, 413, "max_size"),
        (PNG, "image/png", {}, {**PHOTOS, "field": "nothing"}, 404, "not_found"),
        (PNG, "image/png", {}, {**PHOTOS, "field": "full_name"}, 422, "invalid_query"),
        (PNG, "image/png", {}, {"department": "ppu"}, 422, "invalid_query"),
        (PNG, "image/png", {}, {"department": "other", "form": "note", "field": "text"}, 403, "forbidden"),
        (PNG, "image/png", {}, {"department": "ppu", "form": "gone", "field": "x"}, 404, "not_found"),
        (PNG, "image/png", {"X-Captured-At": "soon"}, PHOTOS, 422, "bad_captured_at"),
    ],
)
def test_api_upload_refusals(
    api: Api,
    data: bytes,
    content_type: str,
    extra: dict[str, str],
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    headers = {**api.headers("pc.one"), **extra}
    reply = api.client.post(
        "/api/v1/attachments", content=data, params=params, headers={"Content-Type": content_type, **headers}
    )
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code
    with api.db.session(write=False) as session:
        assert session.scalars(select(Attachment)).all() == []


def test_the_global_cap_is_enforced_while_streaming(api: Api) -> None:
    chunk = b"\x00" * (1024 * 1024)

    def body() -> Iterator[bytes]:
        for _ in range(26):
            yield chunk

    headers = {**api.headers("pc.one"), "Content-Type": "application/octet-stream"}
    reply = api.client.post("/api/v1/attachments", content=body(), headers=headers)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"


def test_multipart_upload(api: Api) -> None:
    files = {"file": ("doc.pdf", PDF, "application/pdf")}
    params = {"department": "ppu", "form": "concern", "field": "documents"}
    reply = api.client.post(
        "/api/v1/attachments",
        files=files,
        data={"sha256": sha(PDF)},
        params=params,
        headers=api.headers("pc.one"),
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["filename"] == "doc.pdf"
    refused = api.client.post(
        "/api/v1/attachments", files=files, data={"sha256": "1" * 64}, headers=api.headers("pc.one")
    )
    assert refused.json()["error"]["code"] == "hash_mismatch"
    no_file = api.client.post(
        "/api/v1/attachments", data={"x": "1"}, files={"other": ("a", b"a")}, headers=api.headers("pc.one")
    )
    assert no_file.status_code == 422


# Who may download --------------------------------------------------------------------------------


def test_only_the_uploader_and_the_cases_supervisors_may_download(api: Api) -> None:
    officer = api.headers("pc.one")
    record = api.client.post(
        "/api/v1/attachments", content=JPEG, params=PHOTOS, headers={**officer, "Content-Type": "image/jpeg"}
    ).json()
    url = f"/api/v1/attachments/{record['sha256']}"
    supervisor = api.headers("sgt.ppu", "ppu", ("officer", "supervisor"))
    elsewhere = api.headers("sgt.far", "other", ("officer", "supervisor"))
    assert api.client.get(url, headers=officer).content == JPEG
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    assert api.client.get(url, headers=supervisor).status_code == 404  # not yet part of any case
    # Someone else naming the hash in their answers does not link it (or give them access).
    sneaky = api.client.post(
        "/api/v1/submissions", json=concern(photos=[record]), headers=api.headers("pc.two")
    )
    assert sneaky.status_code == 201
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    submitted = api.client.post("/api/v1/submissions", json=concern(photos=[record]), headers=officer)
    assert submitted.status_code == 201, submitted.text
    with api.db.session(write=False) as session:
        row = session.get(Attachment, record["sha256"])
        assert row is not None
        assert row.submission_id == submitted.json()["id"]
    assert api.client.get(url, headers=supervisor).content == JPEG
    assert api.client.get(url, headers=elsewhere).status_code == 404
    assert api.client.get(url, headers=api.headers("pc.two")).status_code == 404
    for bad in ("0" * 64, "not-a-hash", record["sha256"].upper() + "0"):
        assert api.client.get(f"/api/v1/attachments/{bad}", headers=officer).status_code == 404


def test_non_images_are_downloads(api: Api) -> None:
    headers = api.headers("pc.one")
    params = {"department": "ppu", "form": "concern", "field": "documents"}
    record = api.client.post(
        "/api/v1/attachments",
        content=PDF,
        params=params,
        headers={**headers, "Content-Type": "application/pdf", "X-Filename": "r%C3%A9sum%C3%A9.pdf"},
    ).json()
    got = api.client.get(f"/api/v1/attachments/{record['sha256']}", headers=headers)
    assert got.content == PDF
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    assert got.headers["content-type"] == "application/pdf"
