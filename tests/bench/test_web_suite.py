"""The ``web`` suite runs end to end with tiny counts, and its checks can fail.

No timing is asserted. The quick run starts the real app and bare Starlette as uvicorn processes,
loads them with ``wrk`` for a second each, posts submissions through the JSON API on PostgreSQL
and counts the bytes of the witness statement's first page.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench import _web_support as support
from bench import web
from bench._registry import SUITES
from bench._report import BenchError, Config
from forms import load_form

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:8000/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  500.00us  10.00ms   90.00%
    Req/Sec     1.90k   100.00     2.00k    80.00%
  19000 requests in 10.01s, 100.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   1898.10
Transfer/sec:     10.00MB
"""


def test_the_suite_is_registered() -> None:
    """``python -m bench web`` finds the suite and its run function."""
    assert SUITES["web"].runner() is web.run


def test_wrk_output_is_read_with_its_errors() -> None:
    """Requests, duration, rate, and errors (non-2xx plus socket errors) come from wrk's report."""
    load = support.parse_wrk(WRK_OUTPUT)
    assert load == support.Load(requests=19000, seconds=10.01, per_second=1898.10, bad=7)
    clean = WRK_OUTPUT.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "")
    assert support.parse_wrk(clean.replace("Non-2xx or 3xx responses:     4", "")).bad == 4
    with pytest.raises(BenchError, match="wrk gave no figures"):
        support.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_the_benchmark_form_has_30_fields_on_one_page(tmp_path: Path) -> None:
    """The page under load holds the validation suite's 30 fields, and loads as a valid form."""
    folder = support.write_department(tmp_path / "bench")
    text = (folder / "forms" / "stop_search.yaml").read_text(encoding="utf-8")
    assert support.count_fields(text) >= 30
    form = load_form(text, "stop_search.yaml")
    assert [page.id for page in form.pages] == ["record"]


def test_lua_strings_are_escaped() -> None:
    """Quotes, backslashes and newlines in a body cannot break out of the wrk script's string."""
    assert support._lua_string('a"b\\c\n') == '"a\\034b\\092c\\010"'
    assert support._lua_string('{"k": 1}') == '"{\\034k\\034: 1}"'


def test_a_page_that_differs_between_servers_is_refused(tmp_path: Path) -> None:
    """Two servers returning different bytes for the page make the comparison unfair: BenchError."""
    (tmp_path / "a.html").write_bytes(b"<p>a</p>")
    (tmp_path / "b.html").write_bytes(b"<p>b</p>")
    with (
        support.Server(["bare", str(tmp_path / "a.html")], tmp_path / "a.log") as a,
        support.Server(["bare", str(tmp_path / "b.html")], tmp_path / "b.log") as b,
        httpx.Client() as client,
    ):
        assert web.same_bytes(client, a.url, a.url, "/x") == b"<p>a</p>"
        with pytest.raises(BenchError, match="not return the same bytes"):
            web.same_bytes(client, a.url, b.url, "/x")


def test_a_server_that_cannot_start_is_reported(tmp_path: Path) -> None:
    """A server process that exits at once ends in BenchError with its log, not a hang."""
    with (
        pytest.raises(BenchError, match="did not start"),
        support.Server(["bare", str(tmp_path / "missing.html")], tmp_path / "m.log"),
    ):
        pass


@pytest.mark.slow
def test_quick_run_measures_all_three(tmp_path: Path) -> None:
    """The whole suite with tiny counts: app and bare rows, ingest, bytes, four targets."""
    result = web.run(Config.smoke())
    names = [row["name"] for row in result.rows]
    assert names[:4] == [
        "GET 30-field page: full app",
        "GET same bytes: bare Starlette",
        "GET /healthz: full app (no page)",
        "POST /api/v1/submissions (PostgreSQL)",
    ]
    assert all(row["per_second"] > 0 and row["requests"] > 0 for row in result.rows[:4])
    assert result.rows[0]["raw"] == result.rows[1]["raw"] > 5000  # the same page, both servers
    assert names[-1] == "total a tablet downloads"
    byte_rows = result.rows[4:]
    assert any(name.strip().startswith("/static/waypost.css") for name in names)
    assert byte_rows[-1]["gzip"] == sum(row["gzip"] for row in byte_rows[:-1])
    assert all(0 < row["gzip"] < row["raw"] or row["raw"] < 200 for row in byte_rows)
    assert [t.unit for t in result.targets] == ["x", "/s", " B", " B"]  # bytes: code only, then all
