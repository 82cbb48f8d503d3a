"""Protocol facts of WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep), parsed in one place: the
`Link` header grammar (RFC 8288 §3 + RFC 9725 §4.6 parameters), `Location` resolution (RFC 3986
§5), ETag/If-Match comparison (RFC 9110 §8.8.3, §13.1.1), Accept-Post (W3C LDP §7.1.2) and
comma-separated header token lists. `rtcprobe check`, the signalers and capture all use these, so
a fact is never parsed twice, differently."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

#: Extension URNs a WHIP/WHEP server lists in Link headers (RFC 9725 §4.9, IANA registry §6.4).
WHIP_EXTENSION_PREFIX = "urn:ietf:params:whip:ext:"
WHEP_EXTENSION_PREFIX = "urn:ietf:params:whep:ext:"
#: The ice-server link parameters of RFC 9725 §4.6.
ICE_SERVER_PARAMS = ("username", "credential", "credential-type")

# RFC 9110 §5.6.2 token characters, and a quoted-string (§5.6.4).
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)')
_PARAM = re.compile(r';\s*([^;,=\s]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?')
_STRICT_PARAM = re.compile(rf"\s*({_TOKEN})\s*(?:=\s*({_TOKEN}|{_QUOTED}))?\s*")
_ETAG = re.compile(r'^(W/)?"[\x21\x23-\x7e\x80-\xff]*"$')


@dataclass
class Link:
    """One link-value: its target URI, its parameters (names lower-cased, values unquoted), and
    what in its text breaks the RFC 8288 grammar (empty when nothing does)."""

    uri: str
    params: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def rels(self) -> list[str]:
        return self.params.get("rel", "").lower().split()


def parse_link_headers(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Every link in one or more Link header values (each possibly comma-joined), as (uri, params),
    leniently: what a client does with what it got. Parameter names are lower-cased; quoted values
    are unquoted."""
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        for match in _LINK.finditer(value):
            params: dict[str, str] = {}
            for name, raw in _PARAM.findall(match.group(2)):
                params.setdefault(name.lower(), _unquote(raw))
            links.append((match.group(1).strip(), params))
    return links


def parse_links(values: Iterable[str]) -> list[Link]:
    """Every link of the header values, strictly: each link-value is split at top-level commas and
    its `;`-parameters checked against `token [ "=" ( token / quoted-string ) ]` (RFC 8288 §3).
    A parameter written `credential:"x"` or a trailing `;` is recorded in `errors`."""
    links: list[Link] = []
    for value in values:
        for text in _split_top_level(value, ","):
            text = text.strip()
            if not text:
                continue
            match = re.match(r"<([^>]*)>", text)
            if match is None:
                links.append(Link("", {}, [f"no <URI-Reference> at the start of {text!r}"], text))
                continue
            link = Link(match.group(1).strip(), text=text)
            rest = text[match.end():]
            if rest.strip() and not rest.lstrip().startswith(";"):
                link.errors.append(f"text after the URI that is not a parameter: {rest.strip()!r}")
            parts = _split_top_level(rest, ";")[1:] if rest.strip() else []
            for part in parts:
                param = _STRICT_PARAM.fullmatch(part)
                if param is None:
                    shown = part.strip()
                    # only the name is shown: the value of a broken `credential:"..."` is a secret
                    name = re.split(r'[:="\s]', shown, maxsplit=1)[0]
                    sep = shown[len(name):len(name) + 1]
                    link.errors.append("empty parameter (a trailing or doubled ';')" if not shown
                                       else f"parameter {name + sep}… is not token[=token|quoted-string]")
                    continue
                link.params.setdefault(param.group(1).lower(), _unquote(param.group(2) or ""))
            links.append(link)
    return links


def ice_server_links(links: Iterable[Link]) -> list[Link]:
    return [link for link in links if "ice-server" in link.rels]


def ice_server_errors(link: Link) -> list[str]:
    """RFC 9725 §4.6: a TURN server's link carries username and credential (credential-type
    "password" when present); STUN/TURN URIs per RFC 7064/7065."""
    errors = list(link.errors)
    scheme = link.uri.split(":", 1)[0].lower()
    if scheme not in ("stun", "stuns", "turn", "turns"):
        errors.append(f"{link.uri!r} is not a stun:/stuns:/turn:/turns: URI")
    if scheme in ("turn", "turns"):
        missing = [p for p in ("username", "credential") if p not in link.params]
        if missing:
            errors.append(f"TURN link without {' and '.join(missing)}")
    ctype = link.params.get("credential-type")
    if ctype is not None and ctype.lower() != "password":
        errors.append(f'credential-type "{ctype}" (RFC 9725 §4.6 defines only "password")')
    return errors


def extension_links(links: Iterable[Link], prefix: str = WHIP_EXTENSION_PREFIX) -> list[Link]:
    """The protocol extensions a server lists (RFC 9725 §4.9): links whose rel is an extension URN."""
    return [link for link in links if any(rel.startswith(prefix) for rel in link.rels)]


def resolve_location(request_url: str, location: str) -> str:
    """The resource URL: Location resolved against the URL the request was sent to (RFC 9110
    §10.2.2, RFC 3986 §5.2); an absolute Location stands as it is."""
    return urljoin(request_url, location.strip())


def origin_root_resolution(request_url: str, location: str) -> str:
    """What a client that glues a relative Location onto the origin does (a frequent bug, e.g.
    `new URL(location, origin)` or `host + location`): right for `/path`, wrong for `path`, `../x`
    and `?query` references, which RFC 3986 resolves against the request's path."""
    parts = urlsplit(request_url)
    location = location.strip()
    if urlsplit(location).scheme or location.startswith("//"):
        return urljoin(request_url, location)
    root = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    return root + location.lstrip("/")


def is_relative_location(location: str) -> bool:
    return not urlsplit(location.strip()).scheme


def etag_valid(etag: str | None) -> bool:
    """An entity-tag per RFC 9110 §8.8.3: optionally `W/`, then a double-quoted opaque string."""
    return etag is not None and _ETAG.match(etag.strip()) is not None


def etag_matches(if_match: str | None, etag: str | None) -> bool:
    """If-Match evaluation (RFC 9110 §13.1.1): `*` or a strong comparison with one of the listed
    tags; a weak tag never matches."""
    if if_match is None or etag is None:
        return False
    if if_match.strip() == "*":
        return True
    current = etag.strip()
    if current.startswith("W/"):
        return False
    return any(tag.strip() == current for tag in _split_top_level(if_match, ","))


def header_tokens(values: Iterable[str]) -> list[str]:
    """A comma-separated header (Access-Control-Expose-Headers, Allow, ...) as lower-cased items."""
    return [item.strip().lower() for value in values for item in value.split(",") if item.strip()]


def media_types(values: Iterable[str]) -> list[str]:
    """Accept-Post / Accept-Patch (RFC 5789 §3.1) as lower-cased media types, parameters dropped."""
    return [item.split(";", 1)[0].strip().lower()
            for value in values for item in _split_top_level(value, ",") if item.strip()]


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split at `sep` outside quoted strings and <...> URIs."""
    parts, current, quoted, bracket, escaped = [], [], False, False, False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"' and not bracket:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracket = True
        elif char == ">" and not quoted:
            bracket = False
        elif char == sep and not quoted and not bracket:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
