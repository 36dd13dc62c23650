"""The built-in `email` step against real aiosmtpd servers on 127.0.0.1: plain, STARTTLS and TLS."""

from __future__ import annotations

import base64
import gc
import ssl
import warnings
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from jsonschema import Draft202012Validator

from engine.builtins.email import build_message, message_id_for, plugin
from engine.plugins import PermanentError, RetryableError, SchemaViolation, run_step
from tests.engine.plugins.servers import MailHandler, authenticator, free_port, start_smtp

MAIL = {"to": "duty.inspector@wessex.example", "subject": "URGENT: concern", "body": "Please call."}
Start = Callable[..., tuple[MailHandler, Controller]]


@pytest.fixture
def smtp() -> Iterator[Start]:
    """Start aiosmtpd servers on demand (kwargs go to the Controller); all stopped after the test."""
    started: list[Controller] = []

    def start(**kwargs: Any) -> tuple[MailHandler, Controller]:
        handler = MailHandler()
        controller = start_smtp(handler, **kwargs)
        started.append(controller)
        return handler, controller

    yield start
    for controller in started:
        controller.stop()
    # aiosmtpd's server side can leave a TLS transport for the garbage collector after stop();
    # collect it here, inside this fixture, so the ResourceWarning of the test server's own socket
    # cannot surface (as an error) in whichever test happens to run next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def plain(controller: Controller, **extra: Any) -> dict[str, Any]:
    """A connection to `controller` without TLS."""
    return {
        "host": "127.0.0.1",
        "port": controller.port,
        "security": "none",
        "from_address": "Waypost <waypost@wessex.example>",
        **extra,
    }


def parsed(handler: MailHandler, index: int = 0) -> EmailMessage:
    """The delivered message as the server stored it."""
    content = handler.messages[index].original_content
    assert content is not None
    message = message_from_bytes(content, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_plain_smtp_delivers_to_every_recipient(smtp: Start) -> None:
    """To, Cc and Bcc all receive the message; Bcc is in the envelope only, never in a header."""
    handler, controller = smtp()
    inputs = {**MAIL, "to": ["a@x.example", "B <b@x.example>"], "cc": "c@x.example", "bcc": ["d@x.example"]}
    out = run_step(plugin, inputs, config=plain(controller), idempotency_key="inst-1:alert:1")
    assert out["accepted"] == ["a@x.example", "b@x.example", "c@x.example", "d@x.example"]
    assert out["rejected"] == {}
    envelope = handler.messages[0]
    assert envelope.mail_from == "waypost@wessex.example"
    assert envelope.rcpt_tos == ["a@x.example", "b@x.example", "c@x.example", "d@x.example"]
    message = parsed(handler)
    assert message["To"] == "a@x.example, B <b@x.example>"
    assert message["Cc"] == "c@x.example"
    assert message["Bcc"] is None
    assert message["Subject"] == "URGENT: concern"
    assert message["Message-ID"] == out["message_id"]
    assert message.get_content().strip() == "Please call."


def test_message_id_follows_the_idempotency_key(smtp: Start) -> None:
    """Attempts of one visit share a Message-ID (a duplicate is recognisable); another visit differs."""
    handler, controller = smtp()
    ids = [
        run_step(plugin, MAIL, config=plain(controller), idempotency_key=key)["message_id"]
        for key in ("i:s:1", "i:s:1", "i:s:2")
    ]
    assert ids[0] == ids[1] == message_id_for("i:s:1", "wessex.example")
    assert ids[2] != ids[0]
    assert [parsed(handler, n)["Message-ID"] for n in range(3)] == ids
    assert "i:s:1" not in ids[0]


def test_message_id_domain_can_be_configured(smtp: Start) -> None:
    """message_id_domain replaces the sender's domain in the Message-ID."""
    _, controller = smtp()
    out = run_step(plugin, MAIL, config=plain(controller, message_id_domain="mail.wessex.example"))
    assert out["message_id"].endswith("@mail.wessex.example>")


def test_html_alternative_reply_to_and_attachment(smtp: Start) -> None:
    """html_body adds an HTML alternative; attachments arrive decoded with their file name."""
    handler, controller = smtp()
    pdf = b"%PDF-1.4 fake"
    inputs = {
        **MAIL,
        "html_body": "<p>Please <b>call</b>.</p>",
        "reply_to": "desk@wessex.example",
        "attachments": [
            {
                "filename": "referral.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(pdf).decode(),
            }
        ],
    }
    run_step(plugin, inputs, config=plain(controller))
    message = parsed(handler)
    assert message["Reply-To"] == "desk@wessex.example"
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "<b>call</b>" in html.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["referral.pdf"]
    assert attachments[0].get_content() == pdf


def test_some_recipients_refused_are_reported(smtp: Start) -> None:
    """A recipient refused while others are accepted is listed in `rejected`; the rest get the mail."""
    handler, controller = smtp()
    handler.refuse["gone@x.example"] = "550 5.1.1 no such mailbox"
    out = run_step(plugin, {**MAIL, "to": ["ok@x.example", "gone@x.example"]}, config=plain(controller))
    assert out["accepted"] == ["ok@x.example"]
    assert out["rejected"] == {"gone@x.example": "550 5.1.1 no such mailbox"}
    assert handler.messages[0].rcpt_tos == ["ok@x.example"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 no such mailbox", PermanentError), ("450 4.2.1 mailbox busy", RetryableError)],
)
def test_all_recipients_refused(smtp: Start, reply: str, error: type[Exception]) -> None:
    """Every recipient refused: 5xx is permanent, 4xx retryable; the message names the recipient."""
    handler, controller = smtp()
    handler.refuse["gone@x.example"] = reply
    with pytest.raises(error, match=r"gone@x\.example"):
        run_step(plugin, {**MAIL, "to": "gone@x.example"}, config=plain(controller))
    assert handler.messages == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.6.0 message refused", PermanentError), ("451 4.3.0 try again later", RetryableError)],
)
def test_data_refused(smtp: Start, reply: str, error: type[Exception]) -> None:
    """The server refusing the message body: 5xx permanent, 4xx retryable, with its reply."""
    handler, controller = smtp()
    handler.data_reply = reply
    with pytest.raises(error, match=reply.split()[0]):
        run_step(plugin, MAIL, config=plain(controller))


def test_no_server_is_retryable() -> None:
    """Nobody listening: RetryableError (the mail server may be restarting)."""
    config = {"host": "127.0.0.1", "port": free_port(), "security": "none", "from_address": "w@x.example"}
    with pytest.raises(RetryableError, match="SMTP"):
        run_step(plugin, MAIL, config=config)


def test_starttls_with_login(smtp: Start, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]) -> None:
    """STARTTLS then AUTH with the password from the environment; the session was encrypted."""
    handler, controller = smtp(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator("waypost", "s3cret-pass"),
        auth_required=True,
    )
    config = {
        **plain(controller, security="starttls", ca_file=str(certificate[0])),
        "username": "waypost",
        "password": "${env:SMTP_PASSWORD}",
    }
    out = run_step(plugin, MAIL, config=config, environ={"SMTP_PASSWORD": "s3cret-pass"})
    assert out["accepted"] == ["duty.inspector@wessex.example"]
    assert len(handler.messages) == 1


def test_wrong_password_is_permanent_and_not_shown(
    smtp: Start, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]
) -> None:
    """A refused login (535) is permanent, and the error never contains the password."""
    _, controller = smtp(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator("waypost", "right"),
        auth_required=True,
    )
    config = {
        **plain(controller, security="starttls", ca_file=str(certificate[0])),
        "username": "waypost",
        "password": "${env:SMTP_PASSWORD}",
    }
    with pytest.raises(PermanentError, match="535") as caught:
        run_step(plugin, MAIL, config=config, environ={"SMTP_PASSWORD": "wrong-guess"})
    assert "wrong-guess" not in str(caught.value)


def test_implicit_tls(smtp: Start, server_tls: ssl.SSLContext, certificate: tuple[Path, Path]) -> None:
    """security: ssl speaks TLS from the first byte (port 465 style)."""
    handler, controller = smtp(ssl_context=server_tls)
    config = plain(controller, security="ssl", ca_file=str(certificate[0]))
    run_step(plugin, MAIL, config=config)
    assert len(handler.messages) == 1


def test_untrusted_certificate_is_permanent(smtp: Start, server_tls: ssl.SSLContext) -> None:
    """A server certificate the client does not trust is a configuration fault: PermanentError."""
    handler, controller = smtp(ssl_context=server_tls)
    with pytest.raises(PermanentError, match="certificate"):
        run_step(plugin, MAIL, config=plain(controller, security="ssl"))
    assert handler.messages == []


def test_starttls_required_but_not_offered(smtp: Start) -> None:
    """security: starttls against a server without STARTTLS fails permanently, sending nothing."""
    handler, controller = smtp()
    with pytest.raises(PermanentError, match="STARTTLS"):
        run_step(plugin, MAIL, config=plain(controller, security="starttls"))
    assert handler.messages == []


def test_password_without_tls_is_refused_by_the_schema() -> None:
    """Credentials with security: none fail the config schema with an explanation."""
    config = {
        "host": "h",
        "security": "none",
        "from_address": "w@x.example",
        "username": "u",
        "password": "p",
    }
    with pytest.raises(SchemaViolation, match="only sent over TLS"):
        run_step(plugin, MAIL, config=config)


def test_placeholders_pass_the_config_schema_before_resolution() -> None:
    """Every string setting may be a `${env:...}` placeholder when department.yaml is checked."""
    config = {
        "host": "${env:SMTP_HOST}",
        "username": "${env:SMTP_USER}",
        "password": "${env:SMTP_PASSWORD}",
        "from_address": "${env:MAIL_FROM}",
        "message_id_domain": "${env:MAIL_DOMAIN}",
    }
    validator = Draft202012Validator(plugin.config_schema)
    assert list(validator.iter_errors(config)) == []
    assert not validator.is_valid({**config, "from_address": "no-at-sign"})


def test_resolved_settings_are_held_to_their_pattern() -> None:
    """After resolution the value itself must fit: a from_address without @ is refused at run time."""
    config = {"host": "h", "from_address": "${env:MAIL_FROM}"}
    with pytest.raises(SchemaViolation, match=r"config\.from_address"):
        run_step(plugin, MAIL, config=config, environ={"MAIL_FROM": "nobody"})


def test_missing_password_variable_is_named() -> None:
    """An unset password variable fails before any connection, naming the variable."""
    config = {"host": "h", "from_address": "w@x.example", "username": "u", "password": "${env:SMTP_PW}"}
    with pytest.raises(PermanentError, match="SMTP_PW is not set"):
        run_step(plugin, MAIL, config=config, environ={})


@pytest.mark.parametrize(
    "inputs",
    [
        {**MAIL, "subject": "Hi\r\nBcc: everyone@x.example"},
        {**MAIL, "to": "a@x.example\nBcc: b@x.example"},
        {
            **MAIL,
            "attachments": [{"filename": "../etc/x", "content_type": "text/plain", "content_base64": ""}],
        },
        {**MAIL, "attachments": [{"filename": "a.txt", "content_type": "text", "content_base64": ""}]},
        {**MAIL, "to": []},
        {"to": "a@x.example", "subject": "no body"},
    ],
)
def test_bad_inputs_fail_the_schema(inputs: dict[str, Any]) -> None:
    """Line breaks in headers, path-like file names, bad types and missing fields fail the schema."""
    config = {"host": "h", "from_address": "w@x.example"}
    with pytest.raises(SchemaViolation, match="inputs"):
        run_step(plugin, inputs, config=config)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("subject", "a\nb", "line breaks"),
        ("to", "a@x.example\r\nBcc: b@x.example", "line breaks"),
        ("reply_to", "a@x.example, b@x.example", "single email address"),
        ("cc", "not an address", "single email address"),
    ],
)
def test_build_message_refuses_injection_even_without_the_schema(field: str, value: str, match: str) -> None:
    """build_message itself refuses CR/LF and multi-address entries (defence in depth)."""
    with pytest.raises(PermanentError, match=match):
        build_message({"from_address": "w@x.example"}, {**MAIL, field: value}, "<id@x>")


def test_invalid_base64_attachment_is_permanent(smtp: Start) -> None:
    """An attachment that is not base64 is refused before anything is sent."""
    handler, controller = smtp()
    bad = {"filename": "a.bin", "content_type": "application/octet-stream", "content_base64": "@@@"}
    with pytest.raises(PermanentError, match="base64"):
        run_step(plugin, {**MAIL, "attachments": [bad]}, config=plain(controller))
    assert handler.messages == []
