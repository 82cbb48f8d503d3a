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
#: Query-string and JSON keys whose values are secrets, compared lower-case; see `is_secret_key`.
SECRET_KEYS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "client_secret", "secret",
     "password", "authorization", "bearer", "auth", "credential", "sig", "signature"}
)
_SECRET_KEY_SUFFIXES = ("_token", "-token", "_secret", "-secret", "_password", "api_key", "api-key")
#: The same names (`is_secret_key`) as they appear in free text: URLs, JSON, Link parameters.
_KEY = "(?:{}|[A-Za-z0-9_-]*(?:{}))".format(
    "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True)),
    "|".join(re.escape(s) for s in _SECRET_KEY_SUFFIXES))
#: Values that look like secrets wherever they appear in free text: (a character the text must hold
#: for the pattern to apply, pattern, replacement). The gate keeps the cost off ids and numbers.
_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("", re.compile(r"\b(sk|ek|rk)-[A-Za-z0-9_\-]{8,}"), REDACTED),  # OpenAI API keys, client secrets
    ("", re.compile(r"\bek_[A-Za-z0-9_\-]{8,}"), REDACTED),  # OpenAI ephemeral keys
    # A token68 after "Bearer", but not an auth-param such as WWW-Authenticate's `Bearer realm="x"`.
    ("", re.compile(r"(?i)\bBearer\s+(?![A-Za-z0-9_\-]+=\")[A-Za-z0-9._~+/=\-]{8,}"), REDACTED),
    ("", re.compile(r"(?i)\bBasic\s+[A-Za-z0-9+/=]+"), REDACTED),
    # ?token=..., &api_key=... in a URL quoted in text (a diagnosis, a Location, an error body)
    ("=", re.compile(rf"(?i)([?&;]{_KEY}=)[^&#\s\"'<>]+"), rf"\1{REDACTED}"),
    # "password": "...", "client_secret": {...} in a JSON body quoted in text
    ('"', re.compile(rf'(?i)("{_KEY}"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|\{{[^{{}}]*\}})'), rf'\1"{REDACTED}"'),
    # credential="..." of a Link header's ice-server parameters (RFC 9725 §4.6)
    ("=", re.compile(r'(?i)(\b(?:credential|password)\s*=\s*)(?:"[^"]*"|[^;,\s]+)'), rf'\1"{REDACTED}"'),
)


def is_secret_key(key: str) -> bool:
    """`token`, `api_key`, `client_secret`, `auth_token`, `sig`, ...: a name whose value is a secret."""
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(_SECRET_KEY_SUFFIXES)


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
    for gate, pattern, replacement in _SECRET_PATTERNS:
        if gate in text:
            text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """Drop user:password from the netloc and secret query parameters."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed URL: scrub it as text, userinfo included
        return redact_text(re.sub(r"(?<=//)[^/@]*@", "", url))
    netloc = parts.hostname or ""
    if port:
        netloc = f"{netloc}:{port}"
    if parts.hostname and ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{port}" if port else "")
    query = urlencode(
        [(k, REDACTED if is_secret_key(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    )
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Copy of headers with secret values replaced."""
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        out[name] = REDACTED if name.lower() in SECRET_HEADERS else redact_text(str(value))
    return out


_URL_KEYS = frozenset({"url", "target", "location", "resource_url"})


@functools.lru_cache(maxsize=4096)
def _key_kind(key: object) -> str:
    """What a mapping key says of its value: "secret", "url" or "" (cached: keys repeat per event)."""
    lowered = str(key).lower()
    if is_secret_key(lowered) or lowered in SECRET_HEADERS:
        return "secret"
    return "url" if lowered in _URL_KEYS else ""


def redact(value: Any) -> Any:
    """Recursively redact a JSON-like value: secret keys, header maps, and secret-shaped strings."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            kind = _key_kind(k)
            if kind == "secret":
                out[k] = REDACTED if v not in (None, "") else v
            elif kind == "url" and isinstance(v, str):
                out[k] = redact_url(v)
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
