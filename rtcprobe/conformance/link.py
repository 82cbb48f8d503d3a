"""Link headers (RFC 9725 §4.6, §4.9; RFC 8288 §3): ICE servers in a grammar every client parses,
and the protocol extensions the server lists."""

from __future__ import annotations

from ..redact import register_secret
from ..signaling.facts import (
    WHEP_EXTENSION_PREFIX,
    WHIP_EXTENSION_PREFIX,
    extension_links,
    ice_server_errors,
    ice_server_links,
    parse_links,
)
from .client import Checker
from .model import FAIL, PASS, SKIP, requirement


@requirement("link.ice_servers", "RFC 9725 §4.6; RFC 8288 §3",
             "rel=\"ice-server\" Link headers follow the link grammar with username/credential/"
             "credential-type parameters")
async def ice_servers(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status // 100 != 2:
        return SKIP, "no 2xx to the POST"
    links = parse_links(ck.post.values("Link"))
    broken = [link for link in links if link.errors and "ice-server" not in link.rels]
    servers = ice_server_links(links)
    for link in servers:  # TURN passwords never reach the table (run_checks redacts evidence)
        register_secret(link.params.get("credential"))
    problems = [f"<{link.uri}>: {'; '.join(errs)}" for link in servers if (errs := ice_server_errors(link))]
    problems += [f"<{link.uri}>: {'; '.join(link.errors)}" for link in broken]
    if problems:
        return FAIL, " | ".join(problems)
    if not servers:
        return SKIP, "no rel=\"ice-server\" Link header (optional)"
    return PASS, f"{len(servers)} ice-server link(s): {', '.join(link.uri for link in servers)}"


@requirement("link.extensions", "RFC 9725 §4.9",
             "protocol extensions are listed as Link headers whose rel is a urn:ietf:params:whip:ext: URN")
async def extensions(ck: Checker) -> tuple[str, str]:
    if ck.post is None or ck.post.status // 100 != 2:
        return SKIP, "no 2xx to the POST"
    prefix = WHEP_EXTENSION_PREFIX if ck.protocol == "whep" else WHIP_EXTENSION_PREFIX
    links = parse_links(ck.post.values("Link"))
    found = extension_links(links, WHIP_EXTENSION_PREFIX) + extension_links(links, WHEP_EXTENSION_PREFIX)
    bad = [link.text for link in found if link.errors]
    if bad:
        return FAIL, " | ".join(bad)
    if not found:
        return PASS, f"no extension listed (no Link with rel {prefix}*)"
    return PASS, "; ".join(f"{' '.join(link.rels)} <{link.uri}>" for link in found)
