"""Fixtures for the plugin tests: loopback HTTP(S) and SMTP servers and a throwaway certificate."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.plugins.servers import RecordingServer, make_certificate


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert.pem, key.pem): a self-signed certificate for 127.0.0.1, made once per test run."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A server-side TLS context presenting the test certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    """A recording HTTP server on 127.0.0.1, stopped after the test."""
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def https_server(server_tls: ssl.SSLContext) -> Iterator[RecordingServer]:
    """A recording HTTPS server on 127.0.0.1 with the self-signed test certificate."""
    server = RecordingServer(tls=server_tls)
    yield server
    server.close()
