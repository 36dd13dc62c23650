"""The audit commands of the CLI: ``waypost audit verify`` and ``waypost audit checkpoint``.

``verify`` re-walks the hash chain of the audit log (:mod:`engine._audit_verify`): exit 0 with
the number of entries when it is intact, 1 with the first broken link when not. ``checkpoint``
prints the head as JSON and, when ``--key-env`` names a variable holding an Ed25519 private key,
a signature over it; keep checkpoints outside the database (see docs/audit.md).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine._cli_user import _Refused, _with_db

if TYPE_CHECKING:
    from engine._database import Database

__all__ = ["KEY_ENV", "register", "run_checkpoint", "run_verify", "sign"]

EXIT_OK, EXIT_BROKEN = 0, 1
KEY_ENV = "WAYPOST_AUDIT_KEY"
_DATABASE_HELP = "database URL (default: $WAYPOST_DATABASE_URL, else sqlite:///var/waypost.db)"

_DESCRIPTION = """\
Check and anchor the tamper-evident audit log (docs/audit.md).

examples:
  waypost audit verify --database postgresql://waypost@db.internal/waypost
  WAYPOST_AUDIT_KEY="$(cat audit-key.pem)" waypost audit checkpoint > checkpoint-$(date +%F).json"""


def register(subparsers: Any) -> None:
    """Add the ``audit`` command group to the ``waypost`` sub-command parsers."""
    audit = subparsers.add_parser(
        "audit",
        help="verify the audit log's hash chain, take signed checkpoints",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = audit.add_subparsers(title="actions", dest="audit_action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="re-walk the chain; exit 1 at the first broken link",
        description="Recompute every entry's hash in id order. Exit 0 when the chain is intact, "
        "1 with the first broken link (edited, deleted, inserted or reordered entries).",
    )
    verify.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a checkpoint saved earlier: its head must still be in the log with the same hash",
    )
    verify.set_defaults(run=run_verify)
    point = actions.add_parser(
        "checkpoint",
        help="print the head of the log as JSON (signed with an Ed25519 key when given)",
        description="Print {head_id, head_hash, at, count} as JSON. When the variable named by "
        "--key-env holds an Ed25519 private key (PEM, or 64 hex digits), add a signature over "
        "the canonical JSON of those four fields. The log is verified first.",
    )
    point.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    point.add_argument(
        "--key-env", default=KEY_ENV, metavar="NAME", help=f"the variable holding the key (default {KEY_ENV})"
    )
    point.set_defaults(run=run_checkpoint)


@_with_db
def run_verify(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost audit verify``: 0 and the count when intact, 1 and the first broken link when not."""
    from engine._audit_verify import compare, verify

    saved = _read_checkpoint(args.checkpoint) if args.checkpoint else None
    with db.engine.connect() as connection, connection.begin():
        finding = verify(connection)
        mismatch = compare(connection, finding, saved) if finding.ok and saved is not None else None
    if not finding.ok:
        print(f"waypost: audit log BROKEN: {finding.problem}", file=err)
        print(f"the {finding.count} entries before it verify", file=err)
        return EXIT_BROKEN
    if mismatch is not None:
        print(f"waypost: audit log BROKEN: {mismatch}", file=err)
        return EXIT_BROKEN
    head = f"head id {finding.head_id}, hash {finding.head_hash}" if finding.count else "empty log"
    print(f"audit log intact: {finding.count} entries verified ({head})", file=out)
    return EXIT_OK


@_with_db
def run_checkpoint(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``waypost audit checkpoint``: the head as JSON, signed when a key is configured."""
    from engine._audit_verify import checkpoint, verify

    key_text = os.environ.get(args.key_env, "").strip()
    # Read the head and walk the chain in one snapshot, so the checkpoint is of a log that verified.
    with db.engine.connect() as connection, connection.begin():
        finding = verify(connection)
        point = checkpoint(connection)
    if not finding.ok:
        raise _Refused(f"the audit log does not verify ({finding.problem}); no checkpoint taken")
    body = point.as_json()
    if key_text:
        body["signature"] = sign(key_text, _canonical(body))
        body["algorithm"] = "Ed25519"
    print(json.dumps(body, indent=2), file=out)
    return EXIT_OK


def _read_checkpoint(path: str) -> dict[str, Any]:
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _Refused(f"cannot read the checkpoint {path}: {exc}") from None
    if not isinstance(saved, dict):
        raise _Refused(f"{path} is not a checkpoint (expected a JSON object)")
    return saved


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(key_text: str, message: bytes) -> str:
    """The base64 Ed25519 signature of ``message`` with a PEM or 64-hex-digit private key."""
    from cryptography.hazmat.primitives import serialization  # imported here: only signing needs it
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        if key_text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(key_text.encode("ascii"), password=None)
        else:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_text))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise _Refused(f"the audit key is not an Ed25519 private key: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise _Refused("the audit key is not an Ed25519 private key")
    return base64.b64encode(key.sign(message)).decode("ascii")
