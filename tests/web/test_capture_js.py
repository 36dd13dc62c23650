"""The capture script (renderers/static/js/30-capture.js) under node, without a DOM.

A browser test drives the real widgets; here node loads the file as the bundle would, checks that
it defines ``Waypost.capture`` without a document, and runs ``upload`` against a scripted
XMLHttpRequest to pin the request it makes (URL, headers, body, the SHA-256 of the bytes) and how
it reads the server's answers: a record, a message for the officer, or a retry.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "renderers" / "static" / "js" / "30-capture.js"
NODE = shutil.which("node") or "/usr/bin/node"

#: A scripted XMLHttpRequest: records what the script does, then answers as the case says.
HARNESS = r"""
const cases = JSON.parse(process.argv[1]);
const out = [];
let current;
globalThis.XMLHttpRequest = class {
  constructor() { this.headers = {}; this.upload = {}; this.reply = globalThis.nextReply; current = this; }
  open(method, url) { this.method = method; this.url = url; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  send(body) {
    const reply = this.reply;
    body.text().then((text) => {
      this.sent = text;
      if (this.upload.onprogress) this.upload.onprogress({ lengthComputable: true, loaded: 5, total: 10 });
      if (reply.network) return this.onerror();
      this.status = reply.status;
      this.responseText = reply.body;
      this.onload();
    });
  }
};
require(process.argv[2]);
const capture = globalThis.Waypost.capture;
(async () => {
  for (const c of cases) {
    const progress = [];
    const blob = new Blob([c.bytes], { type: c.type });
    globalThis.nextReply = c.reply;
    const pending = capture.upload(blob, c.name, {
      csrf: 'tok', query: { department: 'response', form: 'crime_report', field: 'scene.photos' },
      progress: (f) => progress.push(f),
    });
    let result;
    try { result = { ok: await pending }; } catch (e) { result = { error: e.message }; }
    const xhr = current;
    out.push({ result, method: xhr.method, url: xhr.url, headers: xhr.headers, sent: xhr.sent, progress });
  }
  const sha = await capture.sha256(new Blob(['abc']));
  console.log(JSON.stringify({ keys: Object.keys(capture), sha, out }));
})();
"""


def run(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the harness over ``cases`` in one node process; its JSON report."""
    done = subprocess.run(
        [NODE, "-e", HARNESS, json.dumps(cases), str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


RECORD = {"sha256": "a" * 64, "filename": "door.jpg", "content_type": "image/jpeg", "size": 11}


def test_loads_without_a_document_and_defines_the_api() -> None:
    report = run([])
    assert report["keys"] == ["init", "sha256", "upload"]
    assert report["sha"] == hashlib.sha256(b"abc").hexdigest()


def test_upload_sends_the_raw_bytes_with_the_agreed_headers() -> None:
    case = {"bytes": "front door", "type": "image/jpeg", "name": "dóor 1.jpg"}
    report = run([{**case, "reply": {"status": 201, "body": json.dumps(RECORD)}}])
    (sent,) = report["out"]
    assert sent["result"] == {"ok": RECORD}
    assert sent["method"] == "POST"
    assert sent["url"] == "/attachments?department=response&form=crime_report&field=scene.photos"
    assert sent["sent"] == "front door"
    headers = sent["headers"]
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Filename"] == "d%C3%B3or%201.jpg"
    assert headers["X-Sha256"] == hashlib.sha256(b"front door").hexdigest()
    assert headers["X-CSRF-Token"] == "tok"
    assert headers["X-Captured-At"].endswith("Z")
    assert headers["X-Captured-At"][:2] == "20"
    assert sent["progress"] == [0.5]


def test_upload_failures_give_the_servers_message_or_a_retry() -> None:
    refused = {"error": {"code": "too_large", "message": "The selected file must be smaller than 5 MB"}}
    cases = [
        {
            "bytes": "x",
            "type": "image/png",
            "name": "a.png",
            "reply": {"status": 413, "body": json.dumps(refused)},
        },
        {
            "bytes": "x",
            "type": "image/png",
            "name": "b.png",
            "reply": {"status": 502, "body": "<html>bad gateway"},
        },
        {"bytes": "x", "type": "image/png", "name": "c.png", "reply": {"network": True}},
        {"bytes": "x", "type": "image/png", "name": "d.png", "reply": {"status": 200, "body": "{}"}},
    ]
    results = [o["result"] for o in run(cases)["out"]]
    assert results[0] == {"error": "The selected file must be smaller than 5 MB"}
    assert results[1:] == [{"error": ""}, {"error": ""}, {"error": ""}]  # '' = "Upload failed — try again"


def test_the_script_stays_small_and_never_writes_html() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write"):
        assert banned not in source, banned
    assert "style=" not in source
    assert ".style." not in source
    assert len(gzip.compress(source.encode(), 9)) < 3700  # comments included
