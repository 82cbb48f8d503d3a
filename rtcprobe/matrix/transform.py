"""A variant's edits of the offer the probe sends, after offer_shape made it browser-shaped.

Edits are on the text, line by line (offer_shape's own splitting): codecs kept by name and fmtp
parameters (with their RTX unless `rtx` is false), fmtp parameters set, extmaps and rtcp-fb kept
or dropped, BUNDLE removed or made max-bundle, rtcp-mux removed, candidates filtered by family
or transport. What an edit could not do (no IPv6 candidate gathered) is a note, never silent.
"""

from __future__ import annotations

from typing import Any

from ..sdp.lines import join_section_lines, section_lines

TRANSPORT_CC_FB = "transport-cc"


def codec_spec(spec: str) -> tuple[str, dict[str, str]]:
    """`H264 profile-level-id=42e01f packetization-mode=1` -> ("h264", {...})."""
    name, *params = spec.split()
    return name.lower(), dict(p.split("=", 1) for p in params if "=" in p)


def matches(spec: str, name: str, fmtp: dict[str, str]) -> bool:
    """A codec (name, fmtp) is the spec's: same name, and each parameter the spec names equal. For
    H.264 the profile-level-id compares the profile only (its first 4 hex digits): the level is a
    parameter of the codec, which an answer may lower (RFC 6184 §8.2.2); packetization-mode absent
    means 0 (RFC 6184 §8.1)."""
    want_name, want = codec_spec(spec)
    if name.lower() != want_name:
        return False
    have = {k.lower(): v.lower() for k, v in fmtp.items()}
    if want_name == "h264":
        have.setdefault("packetization-mode", "0")
    for key, value in want.items():
        got = have.get(key.lower(), "")
        if (got[:4] != value.lower()[:4]) if key.lower() == "profile-level-id" else got != value.lower():
            return False
    return True


def _codecs(lines: list[str]) -> dict[int, tuple[str, dict[str, str]]]:
    """Payload type -> (name, fmtp) of one m-section."""
    names: dict[int, str] = {}
    fmtps: dict[int, dict[str, str]] = {}
    for line in lines:
        if line.startswith("a=rtpmap:"):
            pt, _, rest = line[9:].partition(" ")
            names[int(pt)] = rest.split("/")[0]
        elif line.startswith("a=fmtp:"):
            pt, _, rest = line[7:].partition(" ")
            fmtps[int(pt)] = dict(p.strip().split("=", 1) if "=" in p else (p.strip(), "") for p in rest.split(";") if p.strip())
    return {pt: (name, fmtps.get(pt, {})) for pt, name in names.items()}


def _pt_of(line: str) -> int | None:
    for prefix in ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"):
        if line.startswith(prefix):
            head = line[len(prefix):].split(" ", 1)[0]
            return int(head) if head.isdigit() else None
    return None


def _keep_codecs(lines: list[str], specs: list[str], rtx: bool) -> tuple[list[str], list[str]]:
    codecs = _codecs(lines)
    keep = [pt for pt, (name, fmtp) in codecs.items() if any(matches(s, name, fmtp) for s in specs if s.lower() != "rtx")]
    if rtx:
        keep += [pt for pt, (name, fmtp) in codecs.items() if name.lower() == "rtx" and fmtp.get("apt", "").isdigit()
                 and int(fmtp["apt"]) in keep]
    order = [f for f in lines[0].split(" ")[3:] if f.isdigit() and int(f) in keep]
    notes = [] if any(codecs[int(f)][0].lower() not in ("rtx", "red", "ulpfec", "flexfec-03") for f in order) else \
        [f"the profile's offer has no codec matching {', '.join(specs)}: the m-line is offered without a media codec"]
    m_line = " ".join(lines[0].split(" ")[:3] + order)
    out = [m_line] + [line for line in lines[1:] if _pt_of(line) is None or _pt_of(line) in keep]
    return out, notes


def _set_fmtp(lines: list[str], fmtp: dict[str, dict[str, str]]) -> list[str]:
    codecs = _codecs(lines)
    out = []
    targets = {pt: fmtp[name.lower()] for pt, (name, _) in codecs.items() if name.lower() in fmtp}
    has_fmtp = {pt for pt in targets if any(line.startswith(f"a=fmtp:{pt} ") for line in lines)}
    for line in lines:
        pt = _pt_of(line)
        if line.startswith("a=fmtp:") and pt in targets:
            params = {**codecs[pt][1], **targets[pt]}
            line = f"a=fmtp:{pt} " + ";".join(f"{k}={v}" if v else k for k, v in params.items())
        out.append(line)
        if line.startswith("a=rtpmap:") and pt in targets and pt not in has_fmtp:
            out.append(f"a=fmtp:{pt} " + ";".join(f"{k}={v}" for k, v in targets[pt].items()))
    return out


def _add_codecs(lines: list[str], specs: list[str], used: set[int]) -> list[str]:
    """Codecs the profile lacks (`H265/90000 level-id=93;...`), at free payload types, first."""
    head, added = lines[0].split(" "), []
    for index, spec in enumerate(specs):
        rtpmap, _, fmtp = spec.partition(" ")
        pt = next(p for p in [*range(96, 128), *range(35, 64)] if p not in used)
        used.add(pt)
        added += [f"a=rtpmap:{pt} {rtpmap}", *([f"a=fmtp:{pt} {fmtp}"] if fmtp else [])]
        head.insert(3 + index, str(pt))
    at = next((i for i, line in enumerate(lines) if line.startswith("a=rtpmap:")), len(lines))
    return [" ".join(head), *lines[1:at], *added, *lines[at:]]


def _filter_section(lines: list[str], kind: str, edits: dict[str, Any], notes: list[str], used: set[int]) -> list[str]:
    if edits.get("add_codecs", {}).get(kind):  # payload types free across the BUNDLE, not only here
        lines = _add_codecs(lines, edits["add_codecs"][kind], used)
    if edits.get("codecs", {}).get(kind):
        lines, more = _keep_codecs(lines, edits["codecs"][kind], edits.get("rtx", True))
        notes += more
    elif not edits.get("rtx", True):
        names = [name for name, _ in _codecs(lines).values() if name.lower() not in ("rtx",)]
        lines, _ = _keep_codecs(lines, list(dict.fromkeys(names)), False)
    if edits.get("fmtp"):
        lines = _set_fmtp(lines, {k.lower(): v for k, v in edits["fmtp"].items()})
    keep_ext, drop_ext = edits.get("extensions"), set(edits.get("drop_extensions") or [])
    drop_fb = {f.lower() for f in edits.get("drop_feedback") or []}
    out = []
    for line in lines:
        if line.startswith("a=extmap:") and line.split(" ")[1:2]:
            uri = line.split(" ")[1]
            if (keep_ext is not None and uri not in keep_ext) or uri in drop_ext:
                continue
        if line.startswith("a=rtcp-fb:") and line.split(" ", 1)[1:] and line.split(" ", 1)[1].lower() in drop_fb:
            continue
        if not edits.get("rtcp_mux", True) and line in ("a=rtcp-mux", "a=rtcp-mux-only", "a=rtcp-rsize"):
            continue
        out.append(line)
    return out


def _candidate_kept(line: str, which: str) -> bool:
    parts = line.split()
    if len(parts) < 8:
        return False
    return ":" in parts[4] if which == "ipv6" else parts[2].lower() == "tcp"


def apply_variant(sdp: str, edits: dict[str, Any]) -> tuple[str, list[str]]:
    """The offer with the variant's edits, and notes on what could not be done as asked."""
    session, sections = section_lines(sdp)
    notes: list[str] = []
    out_sections = []
    used = {int(f) for lines in sections for f in lines[0].split(" ")[3:] if f.isdigit()}
    for index, lines in enumerate(sections):
        kind = lines[0][2:].split(" ", 1)[0]
        if kind in ("audio", "video"):
            lines = _filter_section(lines, kind, edits, notes, used)
        if edits.get("candidates"):
            lines = [line for line in lines if not line.startswith("a=candidate:")
                     or _candidate_kept(line, edits["candidates"])]
        if edits.get("bundle") == "max-bundle" and index > 0:
            head = lines[0].split(" ")
            lines = [" ".join([head[0], "0", *head[2:]]), *[line for line in lines[1:] if not line.startswith("a=candidate:")],
                     "a=bundle-only"]
        out_sections.append(lines)
    if edits.get("bundle") == "none":
        session = [line for line in session if not line.startswith("a=group:BUNDLE")]
    if edits.get("candidates") and not any(line.startswith("a=candidate:") for s in out_sections for line in s):
        notes.append(f"the probe gathered no {edits['candidates'].upper()} candidate here: the offer carries none "
                     "(the target can still answer; ICE cannot connect)")
    return join_section_lines(session, out_sections), notes
