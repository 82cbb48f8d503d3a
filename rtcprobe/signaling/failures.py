"""Why an HTTP request never got a response, in one line a person can act on.

aiohttp wraps DNS, TCP and TLS failures in ClientConnectorError, whose `os_error.errno` is not
always an errno: ssl.SSLError carries 1 (which `os.strerror` calls "operation not permitted") and
socket.gaierror carries a negative EAI_* code ("unknown error -2"). Each is mapped here, once.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from urllib.parse import urlsplit

import aiohttp

from ..redact import redact_text

#: getaddrinfo codes (socket.EAI_*) and what they mean for the user.
_NAME_NOT_FOUND = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_RESOLVER_UNREACHABLE = socket.EAI_AGAIN

#: OpenSSL reasons a TLS client sees when the server answers its ClientHello in plain text.
_PLAINTEXT_REASONS = {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE",
                      "UNKNOWN_PROTOCOL", "HTTP_REQUEST"}


def client_error_reason(exc: BaseException, url: str) -> str:
    """The cause of a failed request to `url` (no method or URL in it: the caller prefixes those)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        detail = getattr(cert_error, "verify_message", None) or getattr(cert_error, "reason", None) or str(cert_error)
        return f"TLS certificate of {host} not accepted ({detail})"
    os_error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(os_error, ssl.SSLError):
        return _tls_reason(os_error, parts.scheme)
    if isinstance(os_error, socket.gaierror):
        return _dns_reason(os_error, host)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        hint = "; if it speaks TLS on this port, use https://" if parts.scheme.lower() == "http" else ""
        return f"the server closed the connection without answering{hint}"
    if isinstance(os_error, OSError) and os_error.errno:
        return _socket_reason(os_error, host, parts.port)
    return redact_text(str(exc) or type(exc).__name__)


def _tls_reason(error: ssl.SSLError, scheme: str) -> str:
    reason = (getattr(error, "reason", None) or "").upper()
    if reason in _PLAINTEXT_REASONS:
        return (f"TLS handshake failed ({reason}): the server answered plain HTTP to a TLS handshake; "
                "use http://")
    detail = getattr(error, "reason", None) or error.strerror or str(error)
    return f"TLS handshake failed ({detail})"


def _dns_reason(error: socket.gaierror, host: str) -> str:
    if error.errno in _NAME_NOT_FOUND:
        return f"name not found: DNS has no address for {host}"
    if error.errno == _RESOLVER_UNREACHABLE:
        return f"cannot resolve {host}: no DNS resolver reachable (or it did not answer)"
    return f"cannot resolve {host} ({(error.strerror or str(error)).lower()})"


def _socket_reason(error: OSError, host: str, port: int | None) -> str:
    where = f"{host}:{port}" if port else host
    if error.errno == errno.ECONNREFUSED:
        return f"cannot connect (connection refused: nothing listens on {where})"
    if error.errno == errno.ECONNRESET:
        return "connection reset by the server"
    return f"cannot connect to {where} ({os.strerror(error.errno).lower()})"
