"""A demo SMTP sink (aiosmtpd) and the page that shows what it received.

The demo force's ``mail`` connections send to 127.0.0.1:1025 without TLS or a password, so no
demo ever sends a real email. :class:`MailSink` is the aiosmtpd handler: it keeps the newest
:data:`KEEP` messages in memory. :func:`mail_app` serves them newest first at ``GET /`` (from, to,
subject, time and the plain-text body, escaped) and as JSON at ``GET /messages.json``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from examples.demo_backends._pages import render

__all__ = ["KEEP", "MailSink", "Received", "mail_app"]

KEEP = 500


@dataclass(frozen=True)
class Received:
    """One message as the sink received it."""

    received_at: str
    mail_from: str
    to: list[str]  # the envelope recipients: cc and bcc included
    subject: str
    message_id: str
    body: str


def _plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or wrong charset: show what we can
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


class MailSink:
    """The aiosmtpd handler keeping received messages (thread-safe: tests read it directly)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._lock = threading.Lock()
        self._messages: deque[Received] = deque(maxlen=keep)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep one message; always accept it (this is a sink). aiosmtpd calls it by this name."""
        raw = envelope.original_content or envelope.content or b""
        message = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=default_policy)
        if not isinstance(message, EmailMessage):  # pragma: no cover - the default policy makes one
            return "554 Could not read the message"
        received = Received(
            received_at=datetime.now(UTC).isoformat(timespec="seconds"),
            mail_from=str(envelope.mail_from or ""),
            to=[str(r) for r in envelope.rcpt_tos],
            subject=str(message.get("Subject", "")),
            message_id=str(message.get("Message-ID", "")),
            body=_plain_text(message),
        )
        with self._lock:
            self._messages.appendleft(received)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        """The messages received, newest first."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget every message."""
        with self._lock:
            self._messages.clear()


def mail_app(sink: MailSink, address: str = "") -> Starlette:
    """The page (``/``) and JSON (``/messages.json``) of what ``sink`` received."""

    async def page(request: Request) -> Response:
        return render(_PAGE, title="Emails sent by the demo", address=address, messages=sink.messages())

    async def as_json(request: Request) -> Response:
        return JSONResponse([asdict(m) for m in sink.messages()], headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[Route("/", page, methods=["GET"]), Route("/messages.json", as_json, methods=["GET"])]
    )


_PAGE = """\
{% extends "layout.html" %}
{% block content %}
<p>{{ messages|length }} message(s), newest first. Nothing here left this computer.</p>
{% for m in messages %}
<h2>{{ m.subject or "(no subject)" }}</h2>
<table>
<tr><th scope="row">From</th><td>{{ m.mail_from }}</td></tr>
<tr><th scope="row">To</th><td>{{ m.to|join(", ") }}</td></tr>
<tr><th scope="row">Received</th><td>{{ m.received_at }}</td></tr>
<tr><th scope="row">Message-ID</th><td>{{ m.message_id }}</td></tr>
</table>
<pre>{{ m.body }}</pre>
{% else %}
<p>No emails yet. Submit a crime report with the victim's email, or a child concern with
immediate risk, and the workflow's emails arrive here.</p>
{% endfor %}
{% endblock %}
"""
