"""The demo back-ends' own HTML pages: one small Jinja layout, autoescaped.

The pages show what Waypost sent (crimes, referrals, emails), which is text typed by officers:
autoescaping makes sure none of it is ever read as HTML.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import DictLoader, Environment, Template, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["render"]

_LAYOUT = """\
<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>{{ title }} - Waypost demo</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #0b0c0c; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top;
  border-bottom: 1px solid #b1b4b6; padding: .4rem .6rem .4rem 0; }
pre { white-space: pre-wrap; font-family: inherit; margin: 0; }
.note { color: #505a5f; } form { display: inline-block; margin: 0 1rem .5rem 0; }
input { width: 4rem; } button { min-height: 44px; padding: 0 1rem; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="note">A demo back-end of Waypost's demo force ({{ address }}). This page refreshes every
10 seconds.</p>
{% block content %}{% endblock %}
</body>
</html>
"""

_CONTROL = """\
{% macro control(state) %}
<h2>Make it misbehave</h2>
<p class="note">Calls answered so far: {{ state.calls }}. Failing the next
{{ state.fail_next }} call(s){% if state.delay %}; answering
{% if state.slow_next < 0 %}every call{% else %}the next {{ state.slow_next }} call(s){% endif %}
{{ state.delay }} s late{% endif %}.</p>
<form method="post" action="/_control">
  <label for="fail_next">Fail the next</label>
  <input id="fail_next" name="fail_next" type="number" min="0" max="1000" value="2"> call(s) with 503
  <button type="submit">Fail</button>
</form>
<form method="post" action="/_control">
  <label for="delay">Answer the next call</label>
  <input id="delay" name="delay" type="number" min="0" max="120" value="25"> s late
  <input type="hidden" name="slow_next" value="1">
  <button type="submit">Slow down</button>
</form>
<form method="post" action="/_control">
  <input type="hidden" name="fail_next" value="0"><input type="hidden" name="delay" value="0">
  <button type="submit">Back to normal</button>
</form>
{% endmacro %}
"""

_env = Environment(
    loader=DictLoader({"layout.html": _LAYOUT, "control.html": _CONTROL}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def _compiled(template: str) -> Template:
    return _env.from_string(template)


def render(template: str, **context: Any) -> HTMLResponse:
    """Render ``template`` (Jinja source that extends ``layout.html``) with ``context``."""
    return HTMLResponse(_compiled(template).render(**context), headers={"Cache-Control": "no-store"})
