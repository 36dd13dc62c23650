"""Tampering with the audit table in SQL: `waypost audit verify` finds each kind, on both databases."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from engine._audit import GENESIS, entry_hash, record
from engine._database import Database
from engine._tables import AuditEvent
from engine.cli import main

TABLE = AuditEvent.__table__
COLUMNS = (
    "at",
    "actor_id",
    "action",
    "record_type",
    "record_id",
    "justification",
    "detail",
    "prev_hash",
    "entry_hash",
)


def _fill(db: Database, count: int = 6) -> None:
    with db.session() as session:
        for n in range(1, count + 1):
            record(
                session,
                actor=f"user-{n}",
                action="view",
                record_type="submission",
                record_id=f"s-{n}",
                detail={"ip": f"10.0.0.{n}"},
            )


def _verify(db: Database, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--database", db.url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _row(db: Database, ident: int) -> dict[str, Any]:
    with db.engine.connect() as connection:
        return dict(connection.execute(select(TABLE).where(TABLE.c.id == ident)).one()._mapping)


def test_an_untouched_log_verifies_with_its_count(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db)
    code, out, err = _verify(db, capsys)
    assert (code, err) == (0, "")
    assert "6 entries verified" in out
    assert _row(db, 6)["entry_hash"] in out


def test_an_empty_log_verifies(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _verify(db, capsys)
    assert code == 0
    assert "0 entries verified (empty log)" in out


def test_an_edited_detail_is_a_hash_mismatch_at_its_id(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(db)
    with db.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == 3).values(detail={"ip": "192.168.1.1"}))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "hash mismatch at id 3" in err
    assert "the 2 entries before it verify" in err


def test_an_edited_actor_with_a_recomputed_hash_breaks_the_next_link(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forger who rehashes the edited row still breaks the link of the row after it."""
    _fill(db)
    row = _row(db, 3) | {"actor_id": "someone-else"}
    with db.begin() as connection:
        connection.execute(
            update(TABLE).where(TABLE.c.id == 3).values(actor_id="someone-else", entry_hash=entry_hash(row))
        )
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "prev_hash does not match at id 4" in err


def test_a_deleted_middle_entry_is_reported_missing(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db)
    with db.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id == 4))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "entry id 4 is missing before id 5: entries were deleted" in err


def test_a_deleted_and_renumbered_run_is_still_found(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Closing the gap by renumbering later rows changes what their hashes cover."""
    _fill(db)
    with db.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id == 2))
        for ident in range(3, 7):
            connection.execute(update(TABLE).where(TABLE.c.id == ident).values(id=ident - 1))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "entry id 2 holds the contents of entry 3" in err


@pytest.mark.parametrize("forged_hash", ["f" * 64, "computed"])
def test_an_inserted_forged_entry_is_found(
    db: Database, capsys: pytest.CaptureFixture[str], forged_hash: str
) -> None:
    _fill(db)
    forged = _row(db, 6) | {
        "id": 7,
        "actor_id": "ghost",
        "record_id": "s-99",
        "prev_hash": _row(db, 5)["entry_hash"],
    }
    # A forger who knows the scheme computes a correct hash, but cannot make it link to the head.
    forged["entry_hash"] = entry_hash(forged) if forged_hash == "computed" else forged_hash
    with db.begin() as connection:
        connection.execute(insert(TABLE).values(**forged))
    code, _, err = _verify(db, capsys)
    assert code == 1
    expected = "prev_hash does not match at id 7" if forged_hash == "computed" else "hash mismatch at id 7"
    assert expected in err


def test_an_entry_inserted_before_the_first_is_found(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(db, 2)
    forged = _row(db, 1) | {"id": 0, "prev_hash": GENESIS}
    forged["entry_hash"] = entry_hash(forged)
    with db.begin() as connection:
        connection.execute(insert(TABLE).values(**forged))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "entry id 0 is out of sequence (expected id 1)" in err


def test_swapped_rows_are_reported_as_reordered(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db)
    third, fourth = _row(db, 3), _row(db, 4)
    with db.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == 3).values(**{c: fourth[c] for c in COLUMNS}))
        connection.execute(update(TABLE).where(TABLE.c.id == 4).values(**{c: third[c] for c in COLUMNS}))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "entry id 3 holds the contents of entry 4: entries were reordered" in err


def test_a_row_without_a_hash_is_reported(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db, 3)
    with db.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == 2).values(entry_hash=None))
    code, _, err = _verify(db, capsys)
    assert code == 1
    assert "entry id 2 has no hash" in err


def test_checkpoint_prints_the_head_and_refuses_a_broken_log(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAYPOST_AUDIT_KEY", raising=False)
    _fill(db, 3)
    assert main(["audit", "checkpoint", "--database", db.url]) == 0
    point = json.loads(capsys.readouterr().out)
    assert point["head_id"] == 3
    assert point["count"] == 3
    assert point["head_hash"] == _row(db, 3)["entry_hash"]
    assert "signature" not in point
    with db.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == 1).values(record_id="changed"))
    assert main(["audit", "checkpoint", "--database", db.url]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "hash mismatch at id 1" in captured.err


@pytest.mark.parametrize("form", ["pem", "hex"])
def test_checkpoint_is_signed_with_the_configured_key(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """With a key in the environment the checkpoint carries an Ed25519 signature over its canonical
    JSON, which the public key verifies; a changed head does not verify."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    if form == "pem":
        text = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
    else:
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        text = raw.hex()
    monkeypatch.setenv("AUDIT_TEST_KEY", text)
    _fill(sqlite_db, 2)
    assert main(["audit", "checkpoint", "--database", sqlite_db.url, "--key-env", "AUDIT_TEST_KEY"]) == 0
    point = json.loads(capsys.readouterr().out)
    assert point["algorithm"] == "Ed25519"
    signature = base64.b64decode(point.pop("signature"))
    point.pop("algorithm")
    message = json.dumps(point, sort_keys=True, separators=(",", ":")).encode("utf-8")
    key.public_key().verify(signature, message)  # raises when it does not verify
    point["head_id"] += 1
    forged = json.dumps(point, sort_keys=True, separators=(",", ":")).encode("utf-8")
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, forged)


@pytest.mark.parametrize(
    "bad", ["00", "not a key", "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"]
)
def test_a_bad_key_is_refused_with_no_unsigned_checkpoint(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("AUDIT_TEST_KEY", bad)
    code = main(["audit", "checkpoint", "--database", sqlite_db.url, "--key-env", "AUDIT_TEST_KEY"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "not an Ed25519 private key" in captured.err


def test_verify_refuses_a_missing_database(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "verify", "--database", f"sqlite:///{tmp_path}/none.db"])
    assert code == 1
    assert "no database at" in capsys.readouterr().err


def test_verify_against_a_checkpoint_finds_a_cut_or_rewritten_tail(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing the last entries, or rewriting them with fresh hashes, leaves a chain that is whole."""
    monkeypatch.delenv("WAYPOST_AUDIT_KEY", raising=False)
    _fill(db, 4)
    assert main(["audit", "checkpoint", "--database", db.url]) == 0
    saved = tmp_path / "checkpoint.json"
    saved.write_text(capsys.readouterr().out, encoding="utf-8")
    _fill(db, 2)  # later appends are fine
    verify_saved = ["audit", "verify", "--database", db.url, "--checkpoint", str(saved)]
    assert main(verify_saved) == 0
    assert "6 entries verified" in capsys.readouterr().out
    # Rewrite entry 4 and recompute its hash and every later link: the chain alone is whole again.
    for ident in (4, 5, 6):
        row = _row(db, ident) | ({"record_id": "rewritten"} if ident == 4 else {})
        row["prev_hash"] = _row(db, ident - 1)["entry_hash"]
        row["entry_hash"] = entry_hash(row)
        with db.begin() as connection:  # one at a time: each link is taken from the row just rewritten
            connection.execute(
                update(TABLE).where(TABLE.c.id == ident).values(**{c: row[c] for c in COLUMNS})
            )
    assert main(["audit", "verify", "--database", db.url]) == 0
    capsys.readouterr()
    assert main(verify_saved) == 1
    assert "entry 4 no longer has the checkpoint's hash" in capsys.readouterr().err
    with db.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.id >= 3))
    assert main(verify_saved) == 1
    assert "entry 4, is gone: the log ends at id 2" in capsys.readouterr().err
    saved.write_text("[1, 2]", encoding="utf-8")
    assert main(verify_saved) == 1
    assert "is not a checkpoint" in capsys.readouterr().err
