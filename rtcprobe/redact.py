"""One redaction function used by every writer: secrets never reach disk, terminal or logs."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

from .limits import REDACT_CACHED_CHARS, REDACT_MARGIN_CHARS

REDACTED = "[redacted]"

#: Header names whose values are secrets, compared lower-case.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
     "api-key", "openai-api-key", "x-auth-token"}
)
#: Query-string and JSON keys whose values are secrets, compared lower-case; see `is_secret_key`.
SECRET_KEYS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "client_secret", "secret",
     "password", "passwd", "pwd", "authorization", "bearer", "auth", "credential", "sig", "signature",
     "jwt", "access_key", "accesskey", "secret_key", "secretkey", "private_key", "access_key_id",
     # signed URLs and cloud credentials: AWS SigV2/SigV4 and STS, CloudFront, Google Cloud Storage,
     # Azure SAS (`sig`; its `se`, `sp`, `sv` are expiry and permissions, not secrets), Akamai
     "awsaccesskeyid", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
     "x-goog-signature", "x-goog-credential", "googleaccessid", "hdnts", "hmac"}
)
_SECRET_KEY_SUFFIXES = ("_token", "-token", "_secret", "-secret", "_password", "api_key", "api-key",
                        "_jwt", "-jwt", "_signature", "-signature", "-credential", "_credential",
                        "access_key", "secret_key", "accesskeyid")
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
    # user:password@ of a URL quoted in text (a HAR's request URL in a diagnosis)
    ("@", re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s\"'<>]+@"), rf"\1{REDACTED}@"),
    # ?token=..., &api_key=... in a URL quoted in text (a diagnosis, a Location, an error body)
    # (and #access_token=... of an OAuth implicit-flow fragment)
    ("=", re.compile(rf"(?i)([?&;#]{_KEY}=)[^&#\s\"'<>]+"), rf"\1{REDACTED}"),
    # "password": "...", "client_secret": {...} in a JSON body quoted in text
    ('"', re.compile(rf'(?i)("{_KEY}"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|\{{[^{{}}]*\}})'), rf'\1"{REDACTED}"'),
    # credential="..." of a Link header's ice-server parameters (RFC 9725 §4.6)
    ("=", re.compile(r'(?i)((?<![\w-])(?:credential|password)\s*=\s*)(?:"[^"]*"|[^;,&\s]+)'), rf'\1"{REDACTED}"'),
)


def is_secret_key(key: str) -> bool:
    """`token`, `api_key`, `client_secret`, `auth_token`, `sig`, ...: a name whose value is a secret."""
    lowered = key.lower()
    return lowered in SECRET_KEYS or lowered.endswith(_SECRET_KEY_SUFFIXES)


_known_secrets: set[str] = set()
#: Every form a known secret may come back in, longest first; and each base64 core with the
#: pattern that removes it with the characters around it that still encode part of the secret.
_known_forms: list[str] = []
_known_cores: list[tuple[str, re.Pattern[str]]] = []
#: A character that may stand beside a base64 core and still belong to the secret's encoding.
_B64_EDGE = "[A-Za-z0-9+/_-]"


def _base64_cores(secret: str) -> list[str]:
    """The part of the secret's base64 that is the same wherever the secret starts in a longer
    encoded blob (`user:secret` in Basic auth): one core per byte alignment, standard and URL-safe."""
    raw = secret.encode("utf-8")
    cores = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        core = encoded[4 if shift else 0:(len(raw) + shift) // 3 * 4]
        if len(core) >= 8:
            cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


def _echoes(secret: str) -> list[str]:
    """How a server or a peer may echo a secret back: verbatim, URL-encoded (upper- or lower-case
    hex, `+` for space), JSON-escaped, and as Latin-1 text of its UTF-8 bytes (a binary message)."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], secret.encode("utf-8").decode("latin-1")}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in list(forms)}
    return [f for f in forms if len(f) >= 4]


def register_secret(value: str | None) -> None:
    """Remember a literal secret (a token given on the command line) so it is scrubbed everywhere,
    in every encoding it may come back in (see `_echoes`, `_base64_cores`)."""
    if value and len(value) >= 4 and value not in _known_secrets:
        _known_secrets.add(value)
        _known_forms[:] = sorted({f for s in _known_secrets for f in _echoes(s)}, key=len, reverse=True)
        cores = sorted({c for s in _known_secrets for c in _base64_cores(s)}, key=len, reverse=True)
        _known_cores[:] = [(c, re.compile(f"{_B64_EDGE}{{0,4}}{re.escape(c)}{_B64_EDGE}{{0,4}}=*")) for c in cores]
        _redact_cached.cache_clear()  # a string scrubbed before may hold the new secret


def register_url_credentials(url: str) -> None:
    """A URL's `user:password@` and its secret query values (`?token=`) are secrets from here on:
    a server may echo them in a body, a HAR may repeat them in another request."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return
    register_secret(unquote(password) if password else None)
    for key, value in parse_qsl(parts.query):
        if is_secret_key(key):
            register_secret(value)


def _redact(text: str) -> str:
    for form in _known_forms:  # a substring test first: C speed, and most texts hold none
        if form in text:
            text = text.replace(form, REDACTED)
    for core, pattern in _known_cores:
        if core in text:
            text = pattern.sub(REDACTED, text)
    for gate, pattern, replacement in _SECRET_PATTERNS:
        if gate in text:
            text = pattern.sub(replacement, text)
    return text


#: Cached: captures and imports repeat the same ids and values many times over. Only short strings:
#: a peer's long unique messages would otherwise pin memory in the cache.
_redact_cached = functools.lru_cache(maxsize=65536)(_redact)


def redact_text(text: str) -> str:
    """Scrub known secrets and secret-shaped values from free text."""
    return _redact_cached(text) if len(text) <= REDACT_CACHED_CHARS else _redact(text)


def redact_cut(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, scrubbed BEFORE the cut, so that a secret the cut
    splits is recognised whole and no first characters of it survive. A `[redacted]` the cut
    splits is kept whole. Only `limit` plus a margin longer than any secret is scanned."""
    window = text if len(text) <= limit else text[:limit + REDACT_MARGIN_CHARS]
    scrubbed = redact_text(window)
    if len(text) <= limit and scrubbed == text:
        return text
    cut = scrubbed[:limit]
    start = cut.rfind("[", max(0, limit - len(REDACTED)))
    if start >= 0 and scrubbed.startswith(REDACTED, start):
        cut = scrubbed[:start + len(REDACTED)]
    return cut


def redact_bytes(data: bytes, limit: int) -> bytes:
    """`redact_cut` for a binary payload: its bytes read as Latin-1 (one character per byte, so
    positions are kept), scrubbed, cut, and back to bytes; a secret inside becomes `[redacted]`."""
    return redact_cut(bytes(data[:limit + REDACT_MARGIN_CHARS]).decode("latin-1"), limit).encode("latin-1")


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
    query, fragment = _redact_params(parts.query), parts.fragment
    if "=" in fragment:  # OAuth's implicit flow returns #access_token=...
        fragment = _redact_params(fragment)
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))


def _redact_params(params: str) -> str:
    """`a=1&token=x` with the values of secret keys replaced."""
    return urlencode([(k, REDACTED if is_secret_key(k) else v) for k, v in parse_qsl(params, keep_blank_values=True)])


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
