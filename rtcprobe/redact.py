"""One redaction function used by every writer: secrets never reach disk, terminal or logs."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"

#: Header names whose values are secrets, compared lower-case.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
     "api-key", "openai-api-key", "x-auth-token"}
)
#: Query-string and JSON keys whose values are secrets, compared lower-case.
SECRET_KEYS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "client_secret", "secret",
     "password", "authorization", "bearer", "auth"}
)
#: Values that look like secrets wherever they appear in free text.
_SECRET_PATTERNS = (
    re.compile(r"\b(sk|ek|rk)-[A-Za-z0-9_\-]{8,}"),  # OpenAI API keys, client secrets
    re.compile(r"\bek_[A-Za-z0-9_\-]{8,}"),  # OpenAI ephemeral keys
    # A token68 after "Bearer", but not an auth-param such as WWW-Authenticate's `Bearer realm="x"`.
    re.compile(r"(?i)\bBearer\s+(?![A-Za-z0-9_\-]+=\")[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)\bBasic\s+[A-Za-z0-9+/=]+"),
)

_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a literal secret (a token given on the command line) so it is scrubbed everywhere."""
    if value and len(value) >= 4 and value not in _known_secrets:
        _known_secrets.add(value)
        redact_text.cache_clear()  # a string scrubbed before may hold the new secret


@functools.lru_cache(maxsize=65536)
def redact_text(text: str) -> str:
    """Scrub known secrets and secret-shaped values from free text.

    Cached: captures and imports repeat the same ids and values many times over.
    """
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_url(url: str) -> str:
    """Drop user:password from the netloc and secret query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.hostname and ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    query = urlencode(
        [(k, REDACTED if k.lower() in SECRET_KEYS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Copy of headers with secret values replaced."""
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        out[name] = REDACTED if name.lower() in SECRET_HEADERS else redact_text(str(value))
    return out


def redact(value: Any) -> Any:
    """Recursively redact a JSON-like value: secret keys, header maps, and secret-shaped strings."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = str(k).lower()
            if key in SECRET_KEYS or key in SECRET_HEADERS:
                out[k] = REDACTED if v not in (None, "") else v
            elif key == "url" and isinstance(v, str) or key == "target" and isinstance(v, str):
                out[k] = redact_url(v)
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
