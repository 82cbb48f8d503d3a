"""Diff two sessions: the study's candidate table, then every other semantic difference.

Values that differ between any two sessions of the same service (session id/version, ICE
credentials, fingerprints, SSRCs, cnames, msids, payload-type and extension-id numbers,
ephemeral host ports, individual addresses) are *volatile*: shown apart, never a "change".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..negotiation import Negotiation
from ..sdp import Attribute, Codec, MediaSection, SessionDescription
from .candidates import CandidateSet, candidate_set
from .words import join_words


@dataclass
class TableRow:
    field: str
    a: str
    b: str
    volatile: bool = False

    @property
    def changed(self) -> bool:
        return self.a != self.b


#: The marker of each kind of change, shown by every diff view in its own column: the meaning
#: survives NO_COLOR, a pipe and a CI log.
MARKERS = {"added": "+", "removed": "-", "changed": "~"}


@dataclass
class Change:
    area: str  # session, bundle, media, direction, codecs, fmtp, rtcp-fb, extensions, ice, dtls, sctp, ssrc, attributes, candidates
    where: str
    summary: str
    a: Any = None
    b: Any = None

    @property
    def kind(self) -> str:
        """added (nothing in a), removed (nothing in b), or changed; nothing is None or empty, as
        the summary prints "none". What `diff`'s marker column shows, readable without colour."""
        a_none, b_none = self.a in (None, "", [], ()), self.b in (None, "", [], ())
        return "changed" if a_none == b_none else "added" if a_none else "removed"


@dataclass
class DiffResult:
    label_a: str
    label_b: str
    candidate_table: list[TableRow]
    changes: list[Change] = field(default_factory=list)
    volatile: list[Change] = field(default_factory=list)

    @property
    def semantic_change(self) -> bool:
        return bool(self.changes) or any(r.changed and not r.volatile for r in self.candidate_table)


#: Candidate sets are sets: their lists are shown in one canonical order, so that the order the
#: lines were written in (or trickled in) is never a change.
_ORDER = {"UDP": 0, "TCP": 1, "host": 0, "srflx": 1, "prflx": 2, "relay": 3,
          "IPv4": 0, "IPv6": 1, "mDNS": 2, "hostname": 3}


def canonical(values: list) -> list:
    """A list that means a set, in one order: known words by rank, then the rest sorted."""
    return sorted(dict.fromkeys(values), key=lambda v: (_ORDER.get(v, len(_ORDER)), str(v)))


def _ports(side: CandidateSet, other: CandidateSet) -> str:
    """`3478 for UDP and TCP`, or `3478 for UDP only; 443 for TCP` when a port was narrowed."""
    by_port: dict[int, list[str]] = {}
    for transport in canonical(list(side.ports_by_transport)):  # UDP's ports first, each transport's in order
        for port in sorted(side.ports_by_transport[transport]):
            by_port.setdefault(port, []).append(transport)
    other_by_port: dict[int, set[str]] = {}
    for transport, ports in other.ports_by_transport.items():
        for port in ports:
            other_by_port.setdefault(port, set()).add(transport)
    parts = []
    for port, transports in by_port.items():
        narrowed = len(other_by_port.get(port, set()) - set(transports)) > 0
        parts.append(f"{port} for {join_words(transports)}{' only' if narrowed else ''}")
    return "; ".join(parts) or "none"


def candidate_table(a: CandidateSet, b: CandidateSet) -> list[TableRow]:
    """The study's table, field by field; lists in canonical order (candidate order is no change)."""
    yes_no = {True: "yes", False: "no"}
    listed = lambda values: ", ".join(map(str, canonical(values))) or "none"  # noqa: E731
    rows = [
        TableRow("IPs advertised", str(len(a.addresses)), str(len(b.addresses))),
        TableRow("transports", listed(a.transports), listed(b.transports)),
        TableRow("ports", _ports(a, b), _ports(b, a), volatile=a.ports_ephemeral and b.ports_ephemeral),
        TableRow("separate RTCP candidate", yes_no[a.rtcp_component], yes_no[b.rtcp_component]),
        TableRow("candidate count", str(a.count), str(b.count)),
        TableRow("end-of-candidates", "present" if a.end_of_candidates else "absent",
                 "present" if b.end_of_candidates else "absent"),
        TableRow("candidate type", listed(a.types), listed(b.types)),
    ]
    for transport in canonical(a.transports + b.transports):
        pa = ", ".join(map(str, sorted(a.priorities_by_transport.get(transport, []), reverse=True))) or "—"
        pb = ", ".join(map(str, sorted(b.priorities_by_transport.get(transport, []), reverse=True))) or "—"
        rows.append(TableRow(f"{transport} priority", pa, pb))
    return rows


class _Collector:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.volatile: list[Change] = []

    def compare(self, area: str, where: str, what: str, a: Any, b: Any, volatile: bool = False) -> None:
        if a == b:
            return
        show = lambda v: "none" if v in (None, "", [], ()) else (", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v))  # noqa: E731
        change = Change(area, where, f"{where}: {what} {show(a)} → {show(b)}", a, b)
        (self.volatile if volatile else self.changes).append(change)

    def changed(self, area: str, where: str, what: str, a: Any, b: Any) -> None:
        """A volatile value too long or too secret to print: say only that it changed."""
        if a != b:
            self.volatile.append(Change(area, where, f"{where}: {what} changed"))

    def add(self, area: str, where: str, summary: str, a: Any = None, b: Any = None) -> None:
        self.changes.append(Change(area, where, f"{where}: {summary}", a, b))


def _identity(codec: Codec, section: MediaSection) -> str:
    """Codec identity that survives payload-type renumbering (RTX/RED named by what they protect)."""
    if codec.role in ("rtx", "red") and codec.associated_payload_type is not None:
        target = section.codec(codec.associated_payload_type)
        if target is not None and target is not codec:
            return f"{codec.name.lower()} for {target.identity}"
    return codec.identity


def _keyed(section: MediaSection) -> dict[str, Codec]:
    """Codecs by identity; a second codec with the same identity (an m-line may list one twice)
    gets `#2`, so that neither hides the other."""
    out: dict[str, Codec] = {}
    for codec in section.codecs:
        key = base = _identity(codec, section)
        count = 1
        while key in out:
            count += 1
            key = f"{base}#{count}"
        out[key] = codec
    return out


def _label(identity: str) -> str:
    """`h264/90000 (42e01f, packetization-mode=1)`, `rtx/90000 for vp9/90000 (profile-id=0)`."""
    identity, _, nth = identity.partition("#")
    name, *params = identity.split(";")
    shown = [v if k == "profile-level-id" else f"{k}={v}" for k, _, v in (p.partition("=") for p in params)]
    return name + (f" ({', '.join(shown)})" if shown else "") + (f" #{nth}" if nth else "")


def _diff_codecs(out: _Collector, where: str, ma: MediaSection, mb: MediaSection) -> None:
    ca, cb = _keyed(ma), _keyed(mb)
    removed = [k for k in ca if k not in cb]
    added = [k for k in cb if k not in ca]
    if removed:
        out.add("codecs", where, f"codecs removed: {', '.join(map(_label, removed))}", removed, None)
    if added:
        out.add("codecs", where, f"codecs added: {', '.join(map(_label, added))}", None, added)
    common_a = [k for k in ca if k in cb]
    common_b = [k for k in cb if k in ca]
    if common_a != common_b:
        out.add("codecs", where, f"codec order {', '.join(map(_label, common_a))} → {', '.join(map(_label, common_b))}",
                common_a, common_b)
    for key in common_a:
        a, b = ca[key], cb[key]
        name = _label(key)
        out.compare("codecs", where, f"payload type of {name}", a.payload_type, b.payload_type, volatile=True)
        # effective values: a default written on one side and omitted on the other is no change
        fa = {k: v for k, v in a.effective_fmtp.items() if k not in ("apt", "")}
        fb = {k: v for k, v in b.effective_fmtp.items() if k not in ("apt", "")}
        for param in dict.fromkeys(list(fa) + list(fb)):
            out.compare("fmtp", where, f"{name} fmtp {param}", fa.get(param), fb.get(param))
        if a.role == "red":  # 111/111 → 111/111/111: how many copies, not which payload type numbers
            out.compare("fmtp", where, f"{name} redundancy", len(a.redundant_payload_types),
                        len(b.redundant_payload_types))
        out.compare("rtcp-fb", where, f"{name} rtcp-fb", sorted(set(a.rtcp_fb)), sorted(set(b.rtcp_fb)))


def _diff_extensions(out: _Collector, where: str, ma: MediaSection, mb: MediaSection) -> None:
    ea = {e.uri: e for e in ma.extensions}
    eb = {e.uri: e for e in mb.extensions}
    for uri in ea.keys() - eb.keys():
        out.add("extensions", where, f"header extension removed: {ea[uri].name}", uri, None)
    for uri in eb.keys() - ea.keys():
        out.add("extensions", where, f"header extension added: {eb[uri].name}", None, uri)
    for uri in ea.keys() & eb.keys():
        out.compare("extensions", where, f"{ea[uri].name} direction", ea[uri].effective_direction,
                    eb[uri].effective_direction)
        out.compare("extensions", where, f"{ea[uri].name} id", ea[uri].id, eb[uri].id, volatile=True)


def _diff_media(out: _Collector, ma: MediaSection, mb: MediaSection) -> None:
    where = mb.label if ma.label == mb.label else f"{ma.label} / {mb.label}"
    out.compare("media", where, "kind", ma.kind, mb.kind)
    out.compare("media", where, "rejected", ma.rejected, mb.rejected)
    out.compare("media", where, "protocol", ma.protocol, mb.protocol)
    out.compare("direction", where, "direction", ma.direction, mb.direction)
    _diff_codecs(out, where, ma, mb)
    _diff_extensions(out, where, ma, mb)
    out.compare("media", where, "rtcp-mux", ma.rtcp_mux, mb.rtcp_mux)
    out.compare("media", where, "rtcp-rsize", ma.rtcp_rsize, mb.rtcp_rsize)
    out.compare("media", where, "ptime", ma.ptime, mb.ptime)
    out.compare("ice", where, "ice-options", sorted(ma.ice_options), sorted(mb.ice_options))
    out.compare("ice", where, "ice-ufrag", ma.ice_ufrag, mb.ice_ufrag, volatile=True)
    out.compare("ice", where, "ice-ufrag shape", ufrag_shape(ma.ice_ufrag), ufrag_shape(mb.ice_ufrag))
    out.changed("ice", where, "ice-pwd", ma.ice_pwd, mb.ice_pwd)
    out.compare("dtls", where, "DTLS setup role", ma.setup, mb.setup)
    out.compare("dtls", where, "fingerprint algorithm", sorted({f.algorithm for f in ma.fingerprints}),
                sorted({f.algorithm for f in mb.fingerprints}))
    out.changed("dtls", where, "fingerprint", [f.value for f in ma.fingerprints], [f.value for f in mb.fingerprints])
    out.compare("sctp", where, "sctp-port", ma.effective_sctp_port, mb.effective_sctp_port)
    out.compare("sctp", where, "max-message-size", ma.effective_max_message_size, mb.effective_max_message_size)
    out.compare("simulcast", where, "simulcast", ma.simulcast, mb.simulcast)
    # a=rid lines are a set (RFC 8851): a=simulcast says the order
    out.compare("simulcast", where, "rids", sorted(f"{r.id} {r.direction}" for r in ma.rids),
                sorted(f"{r.id} {r.direction}" for r in mb.rids))
    out.compare("ssrc", where, "ssrc-group semantics", sorted(g.semantics for g in ma.ssrc_groups),
                sorted(g.semantics for g in mb.ssrc_groups))
    out.compare("ssrc", where, "SSRCs", sorted(ma.ssrcs), sorted(mb.ssrcs), volatile=True)
    out.compare("ssrc", where, "cnames", sorted({v.get("cname", "") for v in ma.ssrcs.values()}),
                sorted({v.get("cname", "") for v in mb.ssrcs.values()}), volatile=True)
    out.compare("ssrc", where, "msid", ma.msid, mb.msid, volatile=True)
    out.compare("media", where, "extmap-allow-mixed", ma.extmap_allow_mixed, mb.extmap_allow_mixed)
    out.compare("media", where, "maxptime", ma.maxptime, mb.maxptime)
    out.compare("srtp", where, "SDES crypto suites", _crypto_suites(ma), _crypto_suites(mb))
    _diff_other_attributes(out, where, ma.unknown_attributes, mb.unknown_attributes)


def ufrag_shape(ufrag: str | None) -> str | None:
    """What a ufrag's form says while its value is volatile: length, the characters besides letters
    and digits, `/` segments. A service that starts encoding routing data in it (OpenAI:
    `aCcjmpdGpYicMaAE` became `DoTGved3/u0`) changed how it works, though every value differs.
    Letters and digits are one class: which of them a random value happens to hold is chance."""
    if not ufrag:
        return None
    other = "".join(sorted({c for c in ufrag if not c.isalnum()}))
    segments = ufrag.split("/")
    shape = f"{len(ufrag)} chars, alphanumeric" + (f" and {other!r}" if other else "")
    return shape + (f", {len(segments)} segments of {'+'.join(str(len(s)) for s in segments)}" if len(segments) > 1 else "")


def _crypto_suites(section: MediaSection) -> list[str]:
    """`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY` → the suite; the key is a secret."""
    return [(c.split() + ["", ""])[1] for c in section.crypto]


def _diff_other_attributes(out: _Collector, where: str, a: list[Attribute], b: list[Attribute]) -> None:
    """Attributes the model does not interpret, compared as written: what came and went."""
    shown_a = [f"a={x.name}:{x.value}" if x.value else f"a={x.name}" for x in a]
    shown_b = [f"a={x.name}:{x.value}" if x.value else f"a={x.name}" for x in b]
    removed = [x for x in dict.fromkeys(shown_a) if x not in shown_b]
    added = [x for x in dict.fromkeys(shown_b) if x not in shown_a]
    if removed:
        out.add("attributes", where, f"attributes removed: {', '.join(removed)}", removed, None)
    if added:
        out.add("attributes", where, f"attributes added: {', '.join(added)}", None, added)


def _pair_media(a: SessionDescription, b: SessionDescription) -> list[tuple[MediaSection | None, MediaSection | None]]:
    mids_a = [m.mid for m in a.media]
    mids_b = [m.mid for m in b.media]
    if None not in mids_a and None not in mids_b and set(mids_a) & set(mids_b):
        pairs = [(m, b.section(m.mid)) for m in a.media]
        pairs += [(None, m) for m in b.media if a.section(m.mid) is None]  # type: ignore[arg-type]
        return pairs
    length = max(len(a.media), len(b.media))
    return [(a.media[i] if i < len(a.media) else None, b.media[i] if i < len(b.media) else None) for i in range(length)]


def diff_descriptions(a: SessionDescription, b: SessionDescription, label_a: str = "A", label_b: str = "B") -> DiffResult:
    out = _Collector()
    if not (a.fragment or b.fragment):
        out.compare("session", "session", "origin session id", a.origin and a.origin.session_id,
                    b.origin and b.origin.session_id, volatile=True)
        out.compare("session", "session", "origin session version", a.origin and a.origin.session_version,
                    b.origin and b.origin.session_version, volatile=True)
        out.compare("bundle", "session", "BUNDLE groups", [" ".join(g.mids) for g in a.bundle_groups],
                    [" ".join(g.mids) for g in b.bundle_groups])
        out.compare("bundle", "session", "other groups", sorted(_other_groups(a)), sorted(_other_groups(b)))
        out.compare("ice", "session", "ice-lite", a.ice_lite, b.ice_lite)
        out.compare("session", "session", "msid-semantic", a.msid_semantic, b.msid_semantic)  # WMS, or none
        out.compare("session", "session", "msid-semantic stream ids", sorted(a.msid_stream_ids),
                    sorted(b.msid_stream_ids), volatile=True)
        _diff_other_attributes(out, "session", a.unknown_attributes, b.unknown_attributes)
        for ma, mb in _pair_media(a, b):
            if ma is None:
                out.add("media", mb.label, "m-line added", None, mb.kind)  # type: ignore[union-attr]
            elif mb is None:
                out.add("media", ma.label, "m-line removed", ma.kind, None)
            else:
                _diff_media(out, ma, mb)
    ca, cb = candidate_set(a), candidate_set(b)
    out.compare("candidates", "candidates", "addresses", sorted(ca.addresses), sorted(cb.addresses), volatile=True)
    out.compare("candidates", "candidates", "address families", canonical(ca.families), canonical(cb.families))
    out.compare("candidates", "candidates", "TCP candidate types (tcptype)", _tcptypes(ca), _tcptypes(cb))
    sections = len(b.media)
    return DiffResult(label_a, label_b, candidate_table(ca, cb), _merge_repeats(out.changes, sections),
                      _merge_repeats(out.volatile, sections))


def _other_groups(d: SessionDescription) -> list[str]:
    """`a=group:LS 0 1` and the like: lip sync and other semantics than BUNDLE."""
    return [f"{g.semantics} {' '.join(g.mids)}" for g in d.groups if g.semantics.upper() != "BUNDLE"]


def _tcptypes(cset: CandidateSet) -> list[str]:
    return sorted({row.tcptype for row in cset.rows if row.tcptype})


def _merge_repeats(changes: list[Change], sections: int) -> list[Change]:
    """With BUNDLE the same difference shows on every m-line: say it once, naming where."""
    merged: dict[tuple[str, str, str, str], list[Change]] = {}
    for change in changes:
        text = change.summary.removeprefix(f"{change.where}: ")
        merged.setdefault((change.area, text, repr(change.a), repr(change.b)), []).append(change)
    out = []
    for (area, text, _, _), group in merged.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        where = "every m-line" if len(group) == sections > 1 else ", ".join(c.where for c in group)
        out.append(Change(area, where, f"{where}: {text}", group[0].a, group[0].b))
    return out


def diff(a: Negotiation, b: Negotiation, side: str = "primary", labels: tuple[str, str] | None = None) -> DiffResult:
    """Diff two negotiations on one side: the answers (what the service did), the offers, or primary."""
    da, db = a.side(side), b.side(side)
    if da is None or db is None:
        missing = a.source if da is None else b.source
        raise ValueError(f"{missing}: has no {side} to compare")
    label_a, label_b = labels or (a.label or a.source, b.label or b.source)
    return diff_descriptions(da, db, label_a, label_b)
