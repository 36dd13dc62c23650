"""The built-in `email` step: send one message through the department's SMTP server.

SMTP has no idempotency keys, so a message cannot be made safe to send twice; instead its
Message-ID is derived from the step's idempotency key, so every attempt of one step visit carries
the same Message-ID and a duplicate delivered after a retry is recognisable (and is dropped by
mail stores that de-duplicate on it). The plugin therefore declares `idempotent = False`.
Header injection is impossible: CR and LF are refused in every header value before a message is
built, and the `email` package's SMTP policy refuses them again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, getaddresses
from typing import Any

import aiosmtplib

from engine.plugins import (
    DeadlineExceeded,
    PermanentError,
    RetryableError,
    RetryPolicy,
    StepContext,
    is_certificate_failure,
    placeholder_or,
    tls_context,
    truncate,
)

__all__ = ["EmailPlugin", "message_id_for", "plugin"]

_NO_NEWLINE = "^[^\\r\\n]*$"
_ADDRESS: dict[str, Any] = {
    "type": "string",
    "minLength": 3,
    "maxLength": 320,
    "pattern": "^[^\\r\\n]*@[^\\r\\n]*$",
}
_ADDRESSES = {"anyOf": [_ADDRESS, {"type": "array", "items": _ADDRESS, "maxItems": 100}]}
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["host", "from_address"],
    "additionalProperties": False,
    "properties": {
        "host": {"type": "string", "minLength": 1, "pattern": "^[^\\s/]+$"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "security": {"enum": ["starttls", "ssl", "none"], "default": "starttls"},
        "username": {"type": "string", "minLength": 1},
        "password": {"type": "string", "description": 'use "${env:NAME}": never write it in YAML'},
        "from_address": {**_ADDRESS, "pattern": placeholder_or(_ADDRESS["pattern"])},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 30},
        "ca_file": {"type": "string", "minLength": 1, "description": "PEM bundle of CAs to trust"},
        "local_hostname": {"type": "string", "pattern": placeholder_or("^[A-Za-z0-9.-]+$")},
        "message_id_domain": {"type": "string", "pattern": placeholder_or("^[A-Za-z0-9.-]+$")},
    },
    "dependentRequired": {"username": ["password"], "password": ["username"]},
    "if": {"required": ["security"], "properties": {"security": {"const": "none"}}},
    "then": {
        "not": {"anyOf": [{"required": ["username"]}, {"required": ["password"]}]},
        "description": "a username and password are only sent over TLS: use security starttls or ssl",
    },
}

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["to", "subject", "body"],
    "additionalProperties": False,
    "properties": {
        "to": {"anyOf": [_ADDRESS, {"type": "array", "items": _ADDRESS, "minItems": 1, "maxItems": 100}]},
        "cc": _ADDRESSES,
        "bcc": _ADDRESSES,
        "reply_to": _ADDRESSES,
        "subject": {"type": "string", "maxLength": 900, "pattern": _NO_NEWLINE},
        "body": {"type": "string", "description": "plain text"},
        "html_body": {"type": "string", "description": "optional HTML alternative"},
        "attachments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["filename", "content_type", "content_base64"],
                "additionalProperties": False,
                "properties": {
                    "filename": {"type": "string", "minLength": 1, "pattern": "^[^\\r\\n/\\\\]*$"},
                    "content_type": {"type": "string", "pattern": "^[\\w.+-]+/[\\w.+-]+$"},
                    "content_base64": {"type": "string"},
                },
            },
        },
    },
}

OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message_id", "accepted", "rejected"],
    "additionalProperties": False,
    "properties": {
        "message_id": {"type": "string"},
        "accepted": {"type": "array", "items": {"type": "string"}},
        "rejected": {
            "type": "object",
            "description": "recipients the server refused while accepting others, with its reply",
            "additionalProperties": {"type": "string"},
        },
    },
}


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID every attempt of one step visit uses: a hash of the key, so none leaks."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<waypost.{digest}@{domain}>"


def _no_newline(field: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise PermanentError(f"email {field} must not contain line breaks")
    return value


def _addresses(field: str, value: str | list[str] | None) -> list[tuple[str, str]]:
    """Parse each entry as one address, plain or 'Name <addr>'; returns (header text, addr-spec)."""
    entries = [value] if isinstance(value, str) else list(value or [])
    parsed = []
    for entry in entries:
        _no_newline(field, entry)
        found = getaddresses([entry])
        if len(found) != 1 or "@" not in found[0][1] or any(ch in found[0][1] for ch in " <>,;"):
            raise PermanentError(f"email {field} entry {entry!r} is not a single email address")
        parsed.append((entry, found[0][1]))
    return parsed


def _attach(message: EmailMessage, attachments: list[dict[str, str]]) -> None:
    for item in attachments:
        filename = _no_newline("attachment filename", item["filename"])
        maintype, _, subtype = _no_newline("attachment content_type", item["content_type"]).partition("/")
        try:
            data = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise PermanentError(f"email attachment {filename!r} is not valid base64") from None
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def build_message(config: dict[str, Any], inputs: dict[str, Any], message_id: str) -> EmailMessage:
    """The message to send (Bcc recipients are in the envelope only, never in a header)."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)
    message["From"] = _addresses("from_address", config["from_address"])[0][0]
    for header, field in (("To", "to"), ("Cc", "cc"), ("Reply-To", "reply_to")):
        if inputs.get(field):
            message[header] = ", ".join(text for text, _ in _addresses(field, inputs[field]))
    message["Subject"] = _no_newline("subject", inputs["subject"])
    message.set_content(inputs["body"])
    if "html_body" in inputs:
        message.add_alternative(inputs["html_body"], subtype="html")
    _attach(message, inputs.get("attachments", []))
    return message


def _smtp_error(err: aiosmtplib.SMTPException) -> Exception:
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        replies = [f"{r.recipient}: {r.code} {truncate(r.message, 200)}" for r in err.recipients]
        text = "the SMTP server refused every recipient: " + "; ".join(replies)
        if any(400 <= r.code < 500 for r in err.recipients):
            return RetryableError(text)
        return PermanentError(text)
    if isinstance(err, aiosmtplib.SMTPResponseException):
        text = f"the SMTP server replied {err.code} {truncate(err.message, 300)}"
        return PermanentError(text) if 500 <= err.code < 600 else RetryableError(text)
    if isinstance(err, aiosmtplib.SMTPNotSupported) or type(err) is aiosmtplib.SMTPException:
        # aiosmtplib raises the bare base class for capability mismatches (no STARTTLS, no AUTH):
        # a configuration problem. Connection trouble has its own subclasses, handled below.
        return PermanentError(f"the SMTP server does not support what the connection needs: {err}")
    return RetryableError(f"SMTP connection failed: {type(err).__name__}: {err}")


class EmailPlugin:
    """Send one email (text, optional HTML alternative, attachments) through SMTP."""

    name = "email"
    config_schema = CONFIG_SCHEMA
    input_schema = INPUT_SCHEMA
    output_schema = OUTPUT_SCHEMA
    idempotent = False
    # Servers answer 4xx while busy or greylisting: back off for minutes, not seconds.
    retry = RetryPolicy(attempts=6, backoff="exponential", initial=10.0, max_delay=900.0, jitter=0.2)

    async def run(self, ctx: StepContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Send the message; returns {message_id, accepted, rejected}."""
        config = dict(ctx.config)
        security = config.get("security", "starttls")
        if security == "none" and "username" in config:
            raise PermanentError("a username and password are only sent over TLS: use starttls or ssl")
        sender = _addresses("from_address", config["from_address"])[0][1]
        domain = config.get("message_id_domain") or sender.rpartition("@")[2]
        message_id = message_id_for(ctx.idempotency_key, domain)
        message = build_message(config, inputs, message_id)
        recipients = [
            addr for field in ("to", "cc", "bcc") for _, addr in _addresses(field, inputs.get(field))
        ]
        timeout = min(float(config.get("timeout", 30)), ctx.remaining())
        if timeout <= 0:
            raise DeadlineExceeded("the step's deadline passed before the email was sent")
        client = aiosmtplib.SMTP(
            hostname=config["host"],
            port=config.get("port", _DEFAULT_PORTS[security]),
            username=config.get("username"),
            password=config.get("password"),
            use_tls=security == "ssl",
            start_tls=security == "starttls",
            tls_context=tls_context(config.get("ca_file")) if security != "none" else None,
            local_hostname=config.get("local_hostname"),
            timeout=timeout,
        )
        try:
            async with client:
                refused, _ = await client.send_message(message, sender=sender, recipients=recipients)
        except (aiosmtplib.SMTPException, OSError) as err:
            if is_certificate_failure(err):
                raise PermanentError(f"the SMTP server's TLS certificate was not trusted: {err}") from None
            if isinstance(err, aiosmtplib.SMTPException):
                raise _smtp_error(err) from None
            # Refused connections, resets and TLS failures below aiosmtplib: may pass.
            raise RetryableError(f"SMTP connection failed: {type(err).__name__}: {err}") from None
        rejected = {addr: f"{reply.code} {truncate(reply.message, 200)}" for addr, reply in refused.items()}
        accepted = [addr for addr in recipients if addr not in rejected]
        ctx.logger.info("email %s accepted for %d recipient(s)", message_id, len(accepted))
        return {"message_id": message_id, "accepted": accepted, "rejected": rejected}


plugin = EmailPlugin()
"""The object the `email` entry point names."""
